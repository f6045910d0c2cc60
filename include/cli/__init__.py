"""The project's command-line tools: ``python -m include.cli.pools`` (one Airflow pool per store) and
``python -m include.cli.categories`` (N11's category tree and attributes, searched from the shop's cache)."""
