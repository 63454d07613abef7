# The Archivist worker: the Go CLI (`./cmd/main`) of the pinned source, with the LaTeX tools
# its `process` command checks for (internal/compiler: latexmk + pdflatex).
# Owned by archivist-infra: the application's Dockerfile.k8s builds with golang:1.21, which
# cannot build a module that asks for go 1.24.0 / toolchain go1.24.5 (go.mod:3,5).
# Build context: the root of the Archivist source (archivist:source); named context `patches`:
# images/patches/ of this project (the worker's patches, applied to the source before the build).

# go.mod:5 `toolchain go1.24.5`: exactly that Go, and GOTOOLCHAIN=local so a newer go.mod fails
# the build loudly instead of downloading a toolchain.
FROM golang:1.24.5-bookworm@sha256:ef8c5c733079ac219c77edab604c425d748c740d8699530ea6aced9de79aea40 AS build
ENV GOTOOLCHAIN=local CGO_ENABLED=0
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
# ./cmd/main imports archivist/cmd/..., archivist/internal/... and archivist/pkg/... only.
COPY cmd/ cmd/
COPY internal/ internal/
COPY pkg/ pkg/
# Our patches against the pinned source (images/patches/README.md). git apply is all-or-nothing and
# allows no fuzz: a patch that no longer applies (a changed pin) fails the build here, loudly.
COPY --from=patches *-worker-*.patch /patches/
RUN set -e; for p in /patches/*.patch; do echo "applying $p"; git apply -p1 "$p"; done
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-w -s" -o /out/archivist ./cmd/main

FROM debian:bookworm-20250520-slim@sha256:90522eeb7e5923ee2b871c639059537b30521272f10ca86fdbbbb2b75a8c40cd
# The LaTeX packages the application's own image installs (Dockerfile.k8s), without recommends.
RUN apt-get update \
    && apt-get install -y --no-install-recommends texlive-latex-extra texlive-fonts-recommended latexmk ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1000 archivist \
    && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin archivist
WORKDIR /app
COPY --from=build /out/archivist /app/archivist
# Preferences ($HOME/.config/archivist) and TeX's caches go to $HOME: /tmp, writable under a read-only root.
ENV HOME=/tmp
USER 1000:1000
ENTRYPOINT ["/app/archivist"]
CMD ["--help"]
