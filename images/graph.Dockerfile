# The Archivist graph service (FastAPI, services/graph-service), as the application's Dockerfile
# runs it (uvicorn app.main:app on 8081), but non-root and without the compilers at run time.
# Owned by archivist-infra. Build context: services/graph-service of the Archivist source.

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS build
# The compilers the application's Dockerfile installs, in the build stage only: python-snappy 0.7.2 is
# a pure-Python shim over cramjam (wheels), so the runtime needs no libsnappy.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ libsnappy-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY app/ ./app/
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001
EXPOSE 8081
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8081"]
