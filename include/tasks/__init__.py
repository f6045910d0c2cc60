"""The Airflow-facing task code: the only place where the plain sync logic meets Airflow.

``store_run`` is the one opening every task shares (settings, shop engine, N11 client, failure translation,
closing); ``store`` holds the tasks both DAGs of a store run first, ``orders`` and ``products`` the work.
"""
