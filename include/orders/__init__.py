"""N11 orders into the shop database, as fetch (``fetch.py``), transform (``transform.py``) and load
(``load.py``), tied together by ``run.py``, the one function the orders task calls; plus the follow-up of open
orders, the approval back to N11 and the status rules. Plain Python: no Airflow here."""
