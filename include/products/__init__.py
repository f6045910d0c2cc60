"""The products sync: push the shop's changed fields to N11, limited by the store's update type.

Plain Python without Airflow: ``links`` (full scan of N11), ``diff`` (what changed, per field group),
``push`` (idempotent batches), ``results`` (N11's per-SKU answers), ``sync`` (the steps in order, the summary).
New products: ``categories`` (N11's categories cached), ``create`` (the plan), ``creations`` (N11's answers).
"""
