# The Archivist search service (FastAPI, services/search-engine), served by uvicorn directly:
# the application's run.py starts uvicorn with reload=True (run.py:9-14), a development reloader.
# Owned by archivist-infra. Build context: services/search-engine of the Archivist source.

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1 AS build
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# app.main:app is the module run.py names; the embedded vector index lives under ./data (/app/data).
COPY app/ ./app/
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
USER 1000:1000
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "1", "--no-access-log"]
