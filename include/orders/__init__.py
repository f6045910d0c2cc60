"""N11 orders into the shop database, as fetch (``fetch.py``), transform (``transform.py``) and load
(``load.py``), tied together by ``run.py``, the one function the orders task calls; plus the follow-up of open
orders, the actions back to N11 (approval, ``approve.py``; cancels of what cannot be supplied, ``cancel.py``; both
sent once by ``actions.py``) and the status rules. Plain Python: no Airflow here."""
