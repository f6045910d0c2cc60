"""Development tools, never shipped in the wheel or the image: the N11 sandbox, `make demo`, `make airflow`."""
