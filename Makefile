# Developer entry points. Everything runs in .venv (the venv Pulumi.yaml names).
#   make install            create .venv from uv.lock (program, policy pack, test tools)
#   make lock               re-resolve uv.lock after a change to pyproject.toml, and export requirements.txt
#   make test               the test command: .venv/bin/python -m pytest -q
#   make render [STACK=dev] every Kubernetes object of a stack, to stdout (offline, mock engine)
#   make graph [STACK=dev] [FORMAT=json|mermaid]
#   make bench [REPEAT=5]   scripts/benchmark.py: render/graph against the SDK import floor
#   make lint               ruff + mypy
#   make docs               the documentation site, strict (scripts/ci/docs.sh); `mkdocs serve` to read it
#   make config-reference   regenerate docs/configuration.md and Pulumi.yaml's config: from the code
#   make checkov            scripts/checkov.sh, if present

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
FORMAT ?= json
REPEAT ?= 5

.DEFAULT_GOAL := help
.PHONY: help install lock test render graph bench lint checkov docs config-reference

help:
	@sed -n 's/^#   make /make /p' $(MAKEFILE_LIST)

install:
	$(PYTHON) -m pip install -q uv==0.13.9
	$(PYTHON) -m uv sync --locked

lock:
	$(PYTHON) -m uv lock
	$(PYTHON) -m uv export --frozen --no-dev --no-emit-project --no-header --format requirements-txt -q -o requirements.txt

test:
	$(PY) -m pytest -q

render:
	@$(PY) -m archivist_infra render $(STACK)

graph:
	@$(PY) -m archivist_infra graph $(STACK) --format $(FORMAT)

bench:
	$(PY) scripts/benchmark.py --repeat $(REPEAT)

lint:
	$(PY) -m ruff check archivist_infra scripts
	$(PY) -m mypy archivist_infra

docs:
	bash scripts/ci/docs.sh

config-reference:
	$(PY) -m archivist_infra config-reference

checkov:
	@if [ -f scripts/checkov.sh ]; then bash scripts/checkov.sh; \
	else echo "make checkov: scripts/checkov.sh is not in this checkout; nothing to run" >&2; fi
