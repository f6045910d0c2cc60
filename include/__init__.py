"""Sync logic and the local N11 sandbox: plain Python, importable without Airflow."""
