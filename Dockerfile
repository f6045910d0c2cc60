# The project's Airflow image: the pinned official Airflow 3.3.2 image, this project's pinned requirements,
# and the project itself installed from its wheel (the `n11` provider registers its connection type; no
# editable link, no development tools). The DAG file and the store registry are mounted by
# docker-compose.yaml; a change to the package's code needs `docker compose build`.
FROM apache/airflow:3.3.2-python3.11 AS wheel
COPY --chown=airflow:root pyproject.toml /tmp/src/
COPY --chown=airflow:root plugins/n11/ /tmp/src/plugins/n11/
COPY --chown=airflow:root include/ /tmp/src/include/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /tmp/wheels /tmp/src

FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.txt constraints.txt /opt/airflow/project-deps/
RUN pip install --no-cache-dir -r /opt/airflow/project-deps/requirements.txt \
        -c /opt/airflow/project-deps/constraints.txt
COPY --from=wheel /tmp/wheels/ /tmp/wheels/
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl
COPY --chown=airflow:root dags/ /opt/airflow/dags/
