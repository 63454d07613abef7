#!/usr/bin/env bash
# Renders every stack offline and runs checkov's Kubernetes checks on the manifests.
# checkov pins packaging<24, which breaks pulumi, so it lives in its own venv.
# Skips come only from security/checkov-allowlist.yaml, each with a reason; exits non-zero
# on any failed check, on an allowlist entry without a reason, or on a render error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CHECKOV_VENV="$ROOT/.checkov-venv"
PY="$ROOT/.venv/bin/python"
ALLOWLIST="$ROOT/security/checkov-allowlist.yaml"
start=$(date +%s)

if [[ ! -x "$CHECKOV_VENV/bin/checkov" ]]; then
  # uv (installed by .ci/run and the README) is ~20x faster than pip here.
  "$ROOT/.venv/bin/uv" venv --quiet --python python3 "$CHECKOV_VENV"
  "$ROOT/.venv/bin/uv" pip install --quiet --python "$CHECKOV_VENV/bin/python" checkov==3.3.30
fi

# Allowlist: a list of {id, reason}; a skip nobody can explain is a finding, not a skip.
skips="$("$PY" - "$ALLOWLIST" <<'PY'
import re
import sys

import yaml

entries = yaml.safe_load(open(sys.argv[1])) or []
bad = [e for e in entries
       if not isinstance(e, dict) or not re.fullmatch(r"CKV2?_K8S_[0-9]+", str(e.get("id", "")))
       or not str(e.get("reason") or "").strip()]
if bad:
    sys.exit(f"checkov allowlist: entries need an id (CKV_K8S_n) and a one-line reason: {bad}")
print(",".join(e["id"] for e in entries))
PY
)"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$PY" -m archivist_infra render dev -o "$out/dev.yaml"
"$PY" -m archivist_infra render prod -o "$out/prod.yaml"
for file in examples/stacks/*.yaml; do
  [[ -e "$file" ]] || continue
  name="$(basename "$file" .yaml)"
  "$PY" -m archivist_infra render "$name" --config-file "$file" -o "$out/example-$name.yaml"
done

args=(--framework kubernetes --skip-download --quiet --compact -d "$out")
[[ -n "$skips" ]] && args+=(--skip-check "$skips")
status=0
"$CHECKOV_VENV/bin/checkov" "${args[@]}" || status=$?
echo "checkov: $(ls "$out" | wc -l) stacks, exit $status, $(( $(date +%s) - start ))s"
exit "$status"
