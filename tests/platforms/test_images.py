from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from archivist_infra.config.source import DEFAULT_COMMIT, DEFAULT_GIT_URL, SourceSettings
from archivist_infra.images import (
    PATCHES_CONTEXT,
    PATCHES_DIR,
    ImageSettings,
    deploy_images,
    dockerfile_text,
    parse_images,
)
from archivist_infra.platforms.target import Registry

from .conftest import RecordingMonitor, reader

IMAGE = "docker-build:index:Image"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "go.mod").write_text("module archivist\n")
    return tmp_path


def build_settings(checkout: Path | None = None, **extra: object) -> ImageSettings:
    source = SourceSettings(git_url=None, commit=None, path=checkout) if checkout else SourceSettings()
    r = reader({"build": {"tag": "abc1234", **extra}}, "archivist:images")
    settings = parse_images(r, source)
    assert not r.problems, r.problems.items
    return settings


def registry() -> Registry:
    return Registry(url=pulumi.Output.from_input("europe-west1-docker.pkg.dev/proj/archivist"),
                    username=pulumi.Output.from_input("oauth2accesstoken"),
                    password=pulumi.Output.secret("[mock-token]"))


@pulumi.runtime.test
def test_build_pushes_with_registry_cache_and_refers_by_digest(monitor: RecordingMonitor, checkout: Path) -> pulumi.Output[None]:
    refs = deploy_images(build_settings(checkout), registry(), platform_name="gke")

    def check(values: list[str]) -> None:
        worker_ref, search_ref, graph_ref = values
        images = {r.name: r for r in monitor.of_type(IMAGE)}
        assert set(images) == {"archivist-images-worker", "archivist-images-search", "archivist-images-graph"}
        worker = images["archivist-images-worker"].inputs
        assert worker["push"] is True
        assert worker["platforms"] == ["linux/amd64"]
        assert worker["tags"] == ["europe-west1-docker.pkg.dev/proj/archivist/worker:abc1234"]
        assert worker["context"]["location"] == str(checkout)
        # Our Dockerfiles, inline: the application's own worker Dockerfile does not build.
        assert worker["dockerfile"] == {"inline": dockerfile_text("worker")}
        # Our patches: the named context `patches` the Dockerfiles `COPY --from=patches`.
        for image in images.values():
            named = image.inputs["context"]["named"]
            assert set(named) == {PATCHES_CONTEXT}
            assert (Path.cwd() / named[PATCHES_CONTEXT]["location"]).resolve() == PATCHES_DIR
            assert sorted(PATCHES_DIR.glob("*.patch"))
        search = images["archivist-images-search"].inputs
        assert search["context"]["location"] == str(checkout / "services/search-engine")
        assert images["archivist-images-graph"].inputs["dockerfile"]["inline"] == dockerfile_text("graph")
        assert worker["registries"][0]["address"] == "europe-west1-docker.pkg.dev"
        assert "registries" in images["archivist-images-worker"].secret_keys  # the password stays secret
        cache = "europe-west1-docker.pkg.dev/proj/archivist/worker:buildcache"
        assert worker["cacheFrom"][0]["registry"]["ref"] == cache
        cache_to = worker["cacheTo"][0]["registry"]
        assert {k: cache_to[k] for k in ("ref", "mode", "imageManifest", "ociMediaTypes")} == {
            "ref": cache, "mode": "max", "imageManifest": True, "ociMediaTypes": True}
        parent = monitor.one("archivist:images:ArchivistImages")
        assert all(r.parent.endswith("::archivist-images") for r in images.values()) and parent
        for app, ref in zip(("worker", "search", "graph"), values, strict=True):
            assert ref.startswith(f"europe-west1-docker.pkg.dev/proj/archivist/{app}@sha256:")
        assert len({worker_ref, search_ref, graph_ref}) == 3
    return pulumi.Output.all(refs.worker, refs.search, refs.graph).apply(check)


@pulumi.runtime.test
def test_local_build_loads_into_docker_and_uses_the_tag(monitor: RecordingMonitor, checkout: Path) -> pulumi.Output[None]:
    refs = deploy_images(build_settings(checkout, platform=["linux/amd64", "linux/arm64"]), None, platform_name="local")

    def check(worker_ref: str) -> None:
        worker = monitor.one(IMAGE, "archivist-images-worker").inputs
        assert worker["push"] is False and "docker" in worker["exports"][0]
        assert worker["platforms"] == ["linux/amd64", "linux/arm64"]
        assert worker_ref == "archivist/worker:abc1234"
    return pulumi.Output.from_input(refs.worker).apply(check)


def test_reference_mode_returns_references() -> None:
    r = reader({app: f"ghcr.io/me/{app}:1.0.0" for app in ("worker", "search", "graph")}, "archivist:images")
    refs = deploy_images(parse_images(r))
    assert not r.problems and refs.search == "ghcr.io/me/search:1.0.0"


@pulumi.runtime.test
def test_default_build_clones_the_pinned_commit_with_our_dockerfiles(monitor: RecordingMonitor) -> pulumi.Output[None]:
    r = reader({}, "archivist:images")
    settings = parse_images(r)
    assert not r.problems and settings.build is not None and settings.build.tag == DEFAULT_COMMIT[:12]
    refs = deploy_images(settings, registry(), platform_name="gke")

    def check(_: object) -> None:
        images = {r.name: r.inputs for r in monitor.of_type(IMAGE)}
        git = f"{DEFAULT_GIT_URL}.git#{DEFAULT_COMMIT}"
        assert images["archivist-images-worker"]["context"]["location"] == git
        assert images["archivist-images-search"]["context"]["location"] == f"{git}:services/search-engine"
        assert images["archivist-images-graph"]["context"]["location"] == f"{git}:services/graph-service"
        assert images["archivist-images-worker"]["tags"] == [
            f"europe-west1-docker.pkg.dev/proj/archivist/worker:{DEFAULT_COMMIT[:12]}"]
    return pulumi.Output.from_input(refs.worker).apply(check)


def test_build_and_references_together_is_one_problem_per_mistake() -> None:
    r = reader({"worker": "ghcr.io/me/worker:1", "build": {"tag": "latest", "platform": "windows"}},
               "archivist:images")
    parse_images(r)
    keys = [p.key for p in r.problems.items]
    assert set(keys) == {"archivist:images.build", "archivist:images.search", "archivist:images.graph"}


def test_build_problems_are_reported_by_name() -> None:
    r = reader({"build": {"source": "../checkout", "tag": "latest", "platform": "windows"}}, "archivist:images")
    parse_images(r)
    keys = {p.key for p in r.problems.items}
    assert keys == {"archivist:images.build.source", "archivist:images.build.tag", "archivist:images.build.platform"}
    moved = next(p for p in r.problems.items if p.key == "archivist:images.build.source")
    assert "archivist:source.path" in moved.message


def test_cloud_build_without_registry_is_refused(checkout: Path) -> None:
    with pytest.raises(pulumi.RunError, match="registry"):
        deploy_images(build_settings(checkout), None, platform_name="eks")


def test_reference_mode_never_imports_docker_build() -> None:
    probe = ("import sys; from archivist_infra.images import deploy_images, parse_images, ImageSettings; "
             "deploy_images(ImageSettings(references={})); print('pulumi_docker_build' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
