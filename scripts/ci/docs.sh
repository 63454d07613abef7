#!/usr/bin/env bash
# The documentation site must build with --strict: a broken link or anchor, or a page in docs/ that the
# nav does not list, fails (mkdocs.yml `validation`). mkdocs and mkdocs-material come from uv.lock's dev group.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/mkdocs ] || python3 -m uv sync --quiet --locked
cache="${ARCHIVIST_CACHE:-$HOME/.cache/archivist-infra}/docs-site"
mkdir -p "$cache"
# Not --quiet: it drops the log level below WARNING, and --strict then has no warnings to count (a broken
# link or an orphan page passed that way).
if ! out=$(NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir "$cache" 2>&1); then
  printf '%s\n' "$out" | grep -v '^INFO' >&2
  echo "docs: mkdocs build --strict failed" >&2
  exit 1
fi
echo "docs: mkdocs build --strict passed ($(find "$cache" -name '*.html' | wc -l) pages in $cache)"
