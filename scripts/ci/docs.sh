#!/usr/bin/env bash
# The documentation site must build with --strict: a broken link or anchor, or a page in docs/ that the
# nav does not list, fails (mkdocs.yml `validation`). mkdocs and mkdocs-material come from uv.lock's dev group.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/mkdocs ] || python3 -m uv sync --quiet --locked
cache="${ARCHIVIST_CACHE:-$HOME/.cache/archivist-infra}/docs-site"
mkdir -p "$cache"
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir "$cache"
echo "docs: mkdocs build --strict passed ($(find "$cache" -name '*.html' | wc -l) pages in $cache)"
