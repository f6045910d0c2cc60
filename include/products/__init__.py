"""The products sync: send N11 whatever differs from the shop, limited by the store's update type.

Plain Python without Airflow: ``links`` (full scan of N11, its live stock and price), ``desired`` (the store's
stock buffer and price markup), ``diff`` (what differs, per field group), ``rules`` (N11's payload rules),
``push`` (idempotent batches, refused batches split), ``results`` (N11's per-SKU answers), ``run_lock`` (one run
of a store at a time), ``sync`` (the steps the DAG's tasks call, in order, and the summary).
New products: ``categories`` (N11's categories cached), ``create`` (the plan), ``creations`` (N11's answers).
"""
