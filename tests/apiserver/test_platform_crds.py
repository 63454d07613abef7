"""Each platform's stacks against a real API server holding only the CRDs that platform serves, that the
stack installs (its Helm charts and add-ons, per archivist_infra/platforms/served_apis.py), or that the
config declares present (monitoring.mode attach): any custom resource of another group is refused
("no matches for kind"), as it would be on that cloud.

Its own server (../shared/envtest, started by this module): CRDs are added and removed per combination,
which a shared cluster cannot allow. Representative combinations per platform: the platform's stack file
and every feature it accepts at once (tests/test_platform_matrix.py ALL_ON); the full matrix is rendered
offline under `-m matrix`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

from archivist_infra.platforms.served_apis import REGISTRY, declared_groups, platform_of
from tests.platform_support import settings_of
from tests.test_platform_matrix import ALL_ON, BASES, FILES, configured

from .conftest import ENVTEST, VENDORED_CRDS, _start_envtest
from .kube import Cluster, crd_files, find_kubectl
from .stacks import apply_render, cleanup, fresh_namespace, read_stack_file, render, with_config


@cache
def crds_by_group() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for path in crd_files(ENVTEST / "crds", VENDORED_CRDS):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                out.setdefault(doc["spec"]["group"], []).append(path)
    return {g: sorted(set(p)) for g, p in out.items()}


def allowed_groups(run: object, platform: str, declared: dict[str, str]) -> set[str]:
    """What the cloud would serve for this stack: served by the platform, installed by a resource of the
    stack (its installers as recorded), or declared by config."""
    from archivist_infra.offline.engine import Run

    assert isinstance(run, Run)
    out = set(declared)
    for group in REGISTRY:
        if platform in group.served or any(i.installs(r) for r in run.resources for i in group.installers):
            out.add(group.group)
    return out


@pytest.fixture(scope="module")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import subprocess

    directory = tmp_path_factory.mktemp("platform-envtest")
    kubeconfig = Path(_start_envtest(directory)["KUBECONFIG"])
    try:
        yield Cluster(kubeconfig=kubeconfig, kubectl=find_kubectl(directory))
    finally:
        subprocess.run(["bash", str(ENVTEST / "stop"), "--dir", str(directory), "--wipe"], check=False)


def serve_only(server: Cluster, groups: set[str]) -> None:
    """Make the server hold exactly the CRDs of `groups` (among those vendored)."""
    present = server.run("get", "crd", "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.group}{'\\n'}{end}",
                         check=True).stdout.split("\n")
    unwanted = [line.split()[0] for line in present if line.strip() and line.split()[1] not in groups]
    if unwanted:
        server.run("delete", "crd", *unwanted, "--wait=true", "--timeout=120s", check=True)
    for group in sorted(groups):
        for path in crds_by_group().get(group, []):
            server.run("apply", "--server-side", "--force-conflicts", "-f", str(path), check=True)
    if groups:
        deadline = time.monotonic() + 60
        while server.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=30s").returncode != 0:
            assert time.monotonic() < deadline, "CRDs not established"


CASES = [(p, "stack file") for p in BASES] + [(p, "all features") for p in BASES]


@pytest.mark.parametrize(("platform", "case"), CASES, ids=[f"{p}-{c.replace(' ', '-')}" for p, c in CASES])
def test_accepted_by_a_server_with_only_what_the_platform_and_stack_provide(
        platform_server: Cluster, platform: str, case: str) -> None:
    base = read_stack_file(FILES[BASES[platform]]) if case == "stack file" else configured(platform, ALL_ON[platform])
    config = with_config(base, namespace=fresh_namespace("pc"))
    rendered = render(config)
    assert platform_of(rendered.run) == platform
    groups = allowed_groups(rendered.run, platform, declared_groups(settings_of(config)))
    serve_only(platform_server, groups)
    server = Cluster(platform_server.kubeconfig, platform_server.kubectl)  # fresh api-resources cache
    try:
        results = apply_render(server, rendered, dry_run=True)
        errors = [e for r in results for e in r.errors]
        assert errors == [], "\n".join(errors)
    finally:
        cleanup(server, rendered)


def test_a_group_the_platform_lacks_is_refused(platform_server: Cluster) -> None:
    """The check has teeth: EKS without the snapshot-controller add-on's CRDs refuses the snapshot class."""
    config = with_config(read_stack_file(FILES["examples/eks"]), namespace=fresh_namespace("pc"))
    rendered = render(config)
    groups = allowed_groups(rendered.run, "eks", {}) - {"snapshot.storage.k8s.io"}
    serve_only(platform_server, groups)
    server = Cluster(platform_server.kubeconfig, platform_server.kubectl)
    try:
        errors = [e for r in apply_render(server, rendered, dry_run=True) for e in r.errors]
        assert any("volumesnapshotclass" in e.lower() for e in errors), errors
    finally:
        cleanup(server, rendered)
