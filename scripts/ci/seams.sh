#!/usr/bin/env bash
# The platform x feature matrix (tests/test_platform_matrix.py, marker `matrix`): every platform with every
# optional feature renders with its custom resources served or installed first, or is refused by key.
# Deselected from the default `pytest -q` (one render per combination); CI never skips it. Idempotent: it
# needs only the project's venv (`uv sync --locked`, made by .ci/run before this runs), nothing to cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/python ] || python3 -m uv sync --quiet --locked
.venv/bin/python -m pytest -q -m matrix
