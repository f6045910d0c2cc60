# The project's Airflow image: the pinned official Airflow 3.3.2 image plus this project's requirements,
# with the project installed (editable) so that the `n11` provider registers its connection type and the
# mounted dags/, plugins/ and include/ of docker-compose.yaml take effect without a rebuild.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root requirements.txt constraints.txt /opt/airflow/project-deps/
RUN pip install --no-cache-dir -r /opt/airflow/project-deps/requirements.txt \
        -c /opt/airflow/project-deps/constraints.txt

COPY --chown=airflow:root pyproject.toml /opt/airflow/
COPY --chown=airflow:root plugins/ /opt/airflow/plugins/
COPY --chown=airflow:root include/ /opt/airflow/include/
COPY --chown=airflow:root dags/ /opt/airflow/dags/
RUN pip install --no-cache-dir --no-deps -e /opt/airflow
