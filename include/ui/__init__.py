"""Pages of this project in Airflow's UI, served by the API server through their plugin (``include.ui.plugin``);
Airflow-facing."""
