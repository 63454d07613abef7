# The Archivist search service (FastAPI, services/search-engine), served by uvicorn directly:
# the application's run.py starts uvicorn with reload=True (run.py:9-14), a development reloader.
# Owned by archivist-infra. Build context: services/search-engine of the Archivist source; named
# context `patches`: images/patches/ of this project (the search patches, applied before the install).

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS build
# git only to apply our patches, in the build stage only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements.txt ./
COPY app/ ./app/
# Our patches against the pinned source (images/patches/README.md), paths relative to the service
# (-p3 drops a/services/search-engine/). git apply is all-or-nothing and allows no fuzz: a patch
# that no longer applies (a changed pin) fails the build here, loudly.
COPY --from=patches *-search-*.patch /patches/
RUN set -e; for p in /patches/*.patch; do echo "applying $p"; git apply -p3 "$p"; done
RUN python -m venv /opt/venv
RUN /opt/venv/bin/pip install --no-cache-dir -r /src/requirements.txt

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# app.main:app is the module run.py names; the embedded vector index lives under ./data (/app/data).
COPY --from=build /src/app/ ./app/
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 1000:1000
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "1", "--no-access-log"]
