"""Pages of this project in Airflow's UI (served by the API server through ``n11.plugin``): Airflow-facing."""
