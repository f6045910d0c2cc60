"""N11 orders into the shop database: windows to ask for, wire packages to rows, the idempotent load, and
the sync of one data interval that ties them together. Plain Python: the Airflow task only calls ``sync``."""
