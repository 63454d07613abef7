#!/usr/bin/env bash
# CI step for issue #16: build (or take from the cache) the real Pulumi engine pieces, then run the
# `engine` suite: the dev stack through `pulumi up`/preview/destroy on the real API server
# (../shared/envtest) with kwok fake nodes. Never skipped: a missing binary or server fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d ../shared/envtest ] && [ -z "${ARCHIVIST_TEST_KUBECONFIG:-}" ]; then
  echo "engine suite: ../shared/envtest is missing and ARCHIVIST_TEST_KUBECONFIG is unset" >&2
  exit 1
fi
start=$SECONDS
out="$(bash scripts/engine/install.sh)"
ARCHIVIST_ENGINE_BIN="$(printf '%s\n' "$out" | sed -n 's/^ARCHIVIST_ENGINE_BIN=//p' | tail -1)"
export ARCHIVIST_ENGINE_BIN
echo "engine suite: engine ready in $((SECONDS - start)) s ($ARCHIVIST_ENGINE_BIN)" >&2
.venv/bin/python -m pytest -q -m engine tests/engine
