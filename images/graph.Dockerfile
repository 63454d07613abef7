# The Archivist graph service (FastAPI, services/graph-service), as the application's Dockerfile
# runs it (uvicorn app.main:app on 8081), but non-root and without the compilers at run time.
# Owned by archivist-infra. Build context: services/graph-service of the Archivist source; named
# context `patches`: images/patches/ of this project (the graph patches, applied before the install).

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS build
# The compilers the application's Dockerfile installs, in the build stage only: python-snappy 0.7.2 is
# a pure-Python shim over cramjam (wheels), so the runtime needs no libsnappy. git applies our patches.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc g++ libsnappy-dev git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.txt ./
COPY app/ ./app/
# Our patches against the pinned source (images/patches/README.md), paths relative to the service
# (-p3 drops a/services/graph-service/). git apply is all-or-nothing and allows no fuzz: a patch
# that no longer applies (a changed pin) fails the build here, loudly.
COPY --from=patches *-graph-*.patch /patches/
RUN set -e; for p in /patches/*.patch; do echo "applying $p"; git apply -p3 "$p"; done
RUN python -m venv /opt/venv
RUN /opt/venv/bin/pip install --no-cache-dir -r /src/requirements.txt

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /src/app/ ./app/
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 10001:10001
EXPOSE 8081
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8081"]
