"""The domain (orders, products, the store settings and registry, the shop tables: plain Python, importable
without Airflow), the Airflow-facing tasks (``tasks/``) and the command-line tools (``cli/``). The N11 sandbox
lives in ``devtools/``, outside the product."""
