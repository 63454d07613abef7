#!/usr/bin/env bash
# Builds the real Pulumi engine pieces the `engine` test suite runs, from their Go modules at pinned
# versions, and caches the binaries; prints `ARCHIVIST_ENGINE_BIN=<dir>` (the directory to put first on
# PATH) as its last line. A cached run takes about a second. docs/engine.md says what each piece is,
# which version, why, and how long a build takes.
#
#   scripts/engine/install.sh            # build what the cache lacks
#   ARCHIVIST_CACHE=/some/dir scripts/engine/install.sh
#
# The binaries are never committed: only the small wrapper modules beside this script (go.mod,
# go.sum, main.go) are ours. The cache key is the pinned versions, the wrappers' go.sum files
# and the Go version, so changing a pin or a dependency builds afresh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# Pins (2026-12-06, what the Go module proxy serves; see docs/engine.md for the reasons):
PULUMI_VERSION=v3.274.0                # github.com/pulumi/pulumi/pkg/v3: the nearest served release >= the Python SDK's 3.272.0
KUBERNETES_PROVIDER_VERSION=v4.0.0-20260115033456-f47bc2d6f199  # provider/v4: the only version served
KWOK_VERSION=v0.8.0                    # sigs.k8s.io/kwok: fake nodes for the API server (no kubelet here)

command -v go >/dev/null || { echo "engine install: go is not on PATH (Go 1.26 builds the engine)" >&2; exit 1; }

cache_root="${ARCHIVIST_CACHE:-$HOME/.cache/archivist-infra}/engine"
key="$( { echo "$PULUMI_VERSION $KUBERNETES_PROVIDER_VERSION $KWOK_VERSION $(go env GOVERSION)";
          cat "$here"/cli/go.sum "$here"/kubernetes/go.sum "$here"/kubernetes/main.go "$here"/kwok/go.sum "$0"; } |
        sha256sum | cut -c1-16)"
bin="$cache_root/$PULUMI_VERSION-$key/bin"
mkdir -p "$bin"
logs="$cache_root/$PULUMI_VERSION-$key/logs"
mkdir -p "$logs"

# Shared machine: two cores at most, no VCS stamping (module zips carry none), reproducible paths.
export GOFLAGS="-trimpath -buildvcs=false -mod=readonly" GOMAXPROCS="${GOMAXPROCS:-2}"
export GOTOOLCHAIN=local

build() {  # name, wrapper dir, then `go build` arguments
  local name="$1" dir="$2"; shift 2
  if [ -x "$bin/$name" ]; then return 0; fi
  local start=$SECONDS
  echo "engine install: building $name (log: $logs/$name.log)" >&2
  if ! (cd "$dir" && go build -p 2 -o "$bin/$name.tmp" "$@") >"$logs/$name.log" 2>&1; then
    echo "engine install: building $name failed; last lines of $logs/$name.log:" >&2
    tail -30 "$logs/$name.log" >&2
    exit 1
  fi
  mv "$bin/$name.tmp" "$bin/$name"
  echo "engine install: built $name in $((SECONDS - start)) s" >&2
}

# 1. The CLI. pkg/v3's main package, built inside the wrapper module that requires pkg/v3 and sdk/v3
#    at one version; -X sets the version `pulumi version` prints (sdk/v3/go/common/version.Version).
build pulumi "$here/cli" -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# 2. The Kubernetes provider. Its main embeds two JSON files the module zip lacks: generate them, as the
#    module's cmd/pulumi-resource-kubernetes/generate.go does, from the schema.json and
#    terraform-mapping.json it ships, into a scratch copy of the wrapper (nothing lands in the repo).
if [ ! -x "$bin/pulumi-resource-kubernetes" ]; then
  src="$(cd "$here/kubernetes" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  cp "$here"/kubernetes/{go.mod,go.sum,main.go} "$scratch/"
  python3 - "$src/cmd/pulumi-resource-kubernetes" "$scratch" "${KUBERNETES_PROVIDER_VERSION#v}" <<'PY'
import json, pathlib, sys
src, dst, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
schema = json.loads((src / "schema.json").read_text())
schema["version"] = version
(dst / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
mapping = json.loads((src / "terraform-mapping.json").read_text())
(dst / "terraform-mapping-embed.json").write_text(json.dumps(mapping, separators=(",", ":")))
PY
  build pulumi-resource-kubernetes "$scratch" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${KUBERNETES_PROVIDER_VERSION#v}" .
fi

# 3. kwok: fake nodes and pod lifecycles (ready, Job pods succeed) on the API server.
build kwok "$here/kwok" -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok
#    Its Stage configuration (the lifecycles kwok plays) comes from the same module release, read from the
#    module cache: nodes become Ready and keep a lease, pods become Ready, pods owned by a Job succeed,
#    deleted pods go away.
stages="$bin/kwok-stages.yaml"
if [ ! -s "$stages" ]; then
  kwok_dir="$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
           pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    echo "---"; cat "$kwok_dir/kustomize/stage/$f.yaml"
  done >"$stages.tmp"
  mv "$stages.tmp" "$stages"
fi

"$bin/pulumi" version >/dev/null
echo "ARCHIVIST_ENGINE_BIN=$bin"
