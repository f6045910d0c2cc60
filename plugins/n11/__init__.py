"""N11 seller API: an HTTP client and the Airflow hook over it.

Knows HTTP and N11, nothing about the shop. Imported as ``n11`` (the package lives in ``plugins/`` so that
Airflow's plugins folder puts it on ``sys.path``; ``pip install -e .`` does the same outside Airflow).
"""
