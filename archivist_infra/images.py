"""Container images of the three Archivist services: built from the pinned source, or given.

By default every stack builds the three images from `archivist:source` (a git commit or a
local checkout) with this project's own Dockerfiles (`images/<app>.Dockerfile`, passed
inline so the context can be a git URL); cloud stacks push them to the registry the
platform creates, local stacks load them into the docker engine. Ready-made references
(`archivist:images.worker/search/graph`, pinned by tag or digest) replace the build.

Built with pulumi-docker-build rather than pulumi-docker: it drives BuildKit (parallel
stages, secrets, `--platform`), reuses a build cache stored in the registry itself
(`cache_from`/`cache_to`, so CI machines with an empty cache stay fast), builds
multi-platform images, separates `push` from `load`, and reports the pushed digest;
Pulumi recommends it for new projects, while pulumi-docker's `Image` builds only on `up`
and is kept for compatibility. `pulumi_docker_build` is imported only in build mode, so
a stack that deploys given references never loads it.

The pinned application cannot work unpatched (Gemini models shut down, a producer that never
reaches Kafka): each Dockerfile applies this project's patches (`images/patches/`, see its
README) to the source it builds, given to BuildKit as the named build context `patches`.

Pods reference pushed images by digest (`<repo>@sha256:...`): a rebuild with a changed
digest rolls the Deployment, and nothing ever pulls a moving tag.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pulumi

from .config.reader import ConfigReader
from .config.source import SourceSettings

if TYPE_CHECKING:
    from .platforms.target import Registry

APP_IMAGES = ("worker", "search", "graph")
BUILD_PLATFORMS = ("linux/amd64", "linux/arm64")
CACHE_TAG = "buildcache"

# name[:tag][@sha256:digest]; a tag other than `latest` or a digest is required.
_REFERENCE = re.compile(
    # A port only after the registry host (the first component), so `repo:1` reads as a tag.
    r"^(?P<name>([a-z0-9]+([.-][a-z0-9]+)*(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def is_pinned_reference(ref: str) -> bool:
    match = _REFERENCE.match(ref)
    if not match:
        return False
    tag, digest = match.group("tag"), match.group("digest")
    return bool(digest) or (bool(tag) and tag != "latest")


@dataclass(frozen=True)
class BuildSpec:
    """Where one service's image is built from: a directory of the Archivist source, and our Dockerfile."""

    context: str  # relative to the source root
    dockerfile: Path  # this project's Dockerfile


IMAGES_DIR = Path(__file__).resolve().parent.parent / "images"
# Our patches against the pinned source; the Dockerfiles `COPY --from=patches` their service's ones.
PATCHES_DIR = IMAGES_DIR / "patches"
PATCHES_CONTEXT = "patches"

# The application's layout at the pinned commit: the Go module at the root (go.mod), the two
# FastAPI services under services/ (each with its requirements.txt and app/ package).
BUILD_SPECS: dict[str, BuildSpec] = {
    "worker": BuildSpec(context=".", dockerfile=IMAGES_DIR / "worker.Dockerfile"),
    "search": BuildSpec(context="services/search-engine", dockerfile=IMAGES_DIR / "search.Dockerfile"),
    "graph": BuildSpec(context="services/graph-service", dockerfile=IMAGES_DIR / "graph.Dockerfile"),
}


@dataclass(frozen=True)
class BuildSettings:
    source: SourceSettings
    platforms: tuple[str, ...]
    tag: str
    cache: bool


@dataclass(frozen=True)
class ImageSettings:
    references: dict[str, str]  # reference mode: app -> pinned reference
    build: BuildSettings | None = None  # build mode


@dataclass(frozen=True)
class ImageRefs:
    worker: pulumi.Input[str]
    search: pulumi.Input[str]
    graph: pulumi.Input[str]


def parse_images(reader: ConfigReader, source: SourceSettings | None = None) -> ImageSettings:
    """`archivist:images`: the three references, or (default) build settings under `build`."""
    source = source or SourceSettings()
    given_refs = [app for app in APP_IMAGES if reader.has(app)]
    if given_refs:
        if reader.has("build"):
            reader.problems.add(
                reader.key("build"),
                f"give either {reader.key('build')} (build from archivist:source) or image references "
                f"({', '.join(reader.key(a) for a in given_refs)}), not both",
            )
            reader.raw("build")
        refs: dict[str, str] = {}
        for app in APP_IMAGES:
            key = reader.key(app)
            value = reader.raw(app)
            if value is None:
                reader.problems.add(
                    key,
                    f"is required with the other references: the image of the {app} service, pinned by tag or digest "
                    f"(e.g. 'registry.example.com/archivist/{app}@sha256:...'); or remove all three to build them "
                    "from archivist:source",
                )
                continue
            if not isinstance(value, str) or not is_pinned_reference(value):
                reader.problems.add(
                    key, f"{value!r} is not a pinned image reference; give a tag other than 'latest' or an @sha256 digest"
                )
                continue
            refs[app] = value
        reader.reject_unknown()
        return ImageSettings(references=refs)

    build = _parse_build(reader.section("build"), source)
    reader.reject_unknown()
    return ImageSettings(references={}, build=build)


def _parse_build(reader: ConfigReader, source: SourceSettings) -> BuildSettings:
    if reader.has("source"):
        reader.raw("source")
        reader.problems.add(reader.key("source"), "has moved: give the checkout as archivist:source.path "
                            "(or a git URL and commit as archivist:source.git / .commit)")
    raw_platform = reader.raw("platform")
    platforms: tuple[str, ...] = ("linux/amd64",)
    if isinstance(raw_platform, str):
        platforms = (reader.choice("platform", "linux/amd64", BUILD_PLATFORMS),)
    elif raw_platform is not None:
        listed = reader.string_list("platform")
        bad = [p for p in listed if p not in BUILD_PLATFORMS]
        if bad or not listed:
            reader.problems.add(reader.key("platform"), f"{bad or listed!r}: use {' or '.join(BUILD_PLATFORMS)} (or a list)")
        else:
            platforms = tuple(listed)
    tag = reader.string("tag", source.default_tag(), pattern=_TAG, hint="a Docker tag such as '1.4.2' or a commit id")
    if tag == "latest":
        reader.problems.add(reader.key("tag"), "'latest' is not a pinned tag; use a version or the source commit id")
    cache = reader.boolean("cache", True)
    reader.reject_unknown()
    return BuildSettings(source=source, platforms=platforms, tag=tag, cache=cache)


def dockerfile_text(app: str) -> str:
    return BUILD_SPECS[app].dockerfile.read_text(encoding="utf-8")


def patches_location() -> str:
    """The patches directory as a build context: relative to the working directory (the Pulumi
    project's directory under the CLI), so the location recorded in the state is the same on every machine."""
    return os.path.relpath(PATCHES_DIR)


class ArchivistImages(pulumi.ComponentResource):
    """The three service images, built from one checkout and pushed (cloud) or loaded (local)."""

    refs: ImageRefs

    def __init__(self, name: str, build: BuildSettings, registry: Registry | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:images:ArchivistImages", name, None, opts)
        import pulumi_docker_build as docker_build  # only build mode pays for this import

        refs: dict[str, pulumi.Output[str]] = {}
        platforms = [docker_build.Platform(p) for p in build.platforms]
        for app, spec in BUILD_SPECS.items():
            # Git sources: BuildKit clones `<url>.git#<commit>:<dir>`; the Dockerfile is ours, given inline.
            # Our patches come in as the named context `patches` (a local directory of this project).
            context = docker_build.BuildContextArgs(
                location=build.source.context(spec.context),
                named={PATCHES_CONTEXT: docker_build.ContextArgs(location=patches_location())},
            )
            dockerfile = docker_build.DockerfileArgs(inline=dockerfile_text(app))
            child = pulumi.ResourceOptions(parent=self)
            if registry is None:
                # Local: into the docker engine, referenced by tag (kind/minikube must see that engine).
                local_tag = f"archivist/{app}:{build.tag}"
                image = docker_build.Image(
                    f"{name}-{app}", push=False, tags=[local_tag], context=context, dockerfile=dockerfile,
                    platforms=platforms, exports=[docker_build.ExportArgs(docker=docker_build.ExportDockerArgs())],
                    opts=child,
                )
                # Through the digest, so the reference waits for the build to finish.
                refs[app] = image.digest.apply(_constant(local_tag))
                continue
            repo: pulumi.Output[str] = registry.url.apply(_suffix(f"/{app}"))
            cache_ref = repo.apply(_suffix(f":{CACHE_TAG}"))
            image = docker_build.Image(
                f"{name}-{app}",
                push=True,
                tags=[repo.apply(_suffix(f":{build.tag}"))],
                context=context,
                dockerfile=dockerfile,
                platforms=platforms,
                registries=[docker_build.RegistryArgs(
                    address=registry.url.apply(lambda url: url.split("/", 1)[0]),
                    username=registry.username,
                    password=registry.password,
                )],
                cache_from=[docker_build.CacheFromArgs(registry=docker_build.CacheFromRegistryArgs(ref=cache_ref))]
                if build.cache else None,
                # image_manifest + OCI media types: the cache format ECR and Artifact Registry accept.
                cache_to=[docker_build.CacheToArgs(registry=docker_build.CacheToRegistryArgs(
                    ref=cache_ref, mode=docker_build.CacheMode.MAX, image_manifest=True, oci_media_types=True))]
                if build.cache else None,
                opts=child,
            )
            refs[app] = pulumi.Output.concat(repo, "@", image.digest)
        self.refs = ImageRefs(**refs)
        self.register_outputs({app: ref for app, ref in refs.items()})


def _suffix(text: str) -> Callable[[str], str]:
    return lambda value: value + text


def _constant(text: str) -> Callable[[object], str]:
    return lambda _: text


def deploy_images(settings: ImageSettings, registry: Registry | None = None, *, platform_name: str = "local") -> ImageRefs:
    """Image references for the workloads: the given ones, or those of images built here."""
    if settings.build is None:
        return ImageRefs(**{app: settings.references.get(app, "") for app in APP_IMAGES})
    if registry is None and platform_name != "local":
        # A cloud node cannot pull from the deployer's docker engine: pushing is not optional there.
        raise pulumi.RunError(f"building images for platform {platform_name!r} needs its registry; none was provided")
    return ArchivistImages("archivist-images", settings.build, registry if platform_name != "local" else None).refs
