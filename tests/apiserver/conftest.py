"""The `apiserver` suite: a real kube-apiserver (+ etcd + controller-manager), started once per session.

`ARCHIVIST_TEST_KUBECONFIG` points the suite at an existing cluster instead (e.g. kind in GitHub
Actions). Otherwise ../shared/envtest/start runs one; if it cannot start, the suite errors:
a skip would hide a failure, and CI must never pass without this suite having run.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .kube import Cluster, crd_files, find_kubectl

ROOT = Path(__file__).resolve().parents[2]
ENVTEST = ROOT.parent / "shared" / "envtest"
# Every CRD the stacks render, vendored from its upstream release; the version is in each path.
VENDORED_CRDS = ROOT / "tests" / "crds"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.apiserver)


def _start_envtest(directory: Path) -> dict[str, str]:
    start = ENVTEST / "start"
    if not start.exists():
        raise RuntimeError(f"{start} is missing: set ARCHIVIST_TEST_KUBECONFIG or provide ../shared/envtest")
    proc = subprocess.run(["bash", str(start), "--dir", str(directory)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"envtest did not start:\n{proc.stderr[-3000:]}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _wait_established(cluster: Cluster, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = cluster.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=30s")
        if out.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"CRDs not established: {out.stderr}")
        time.sleep(1)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    given = os.environ.get("ARCHIVIST_TEST_KUBECONFIG")
    envtest_dir: Path | None = None
    if given:
        kubeconfig = Path(given)
    else:
        envtest_dir = tmp_path_factory.mktemp("envtest")
        kubeconfig = Path(_start_envtest(envtest_dir)["KUBECONFIG"])
    cluster = Cluster(kubeconfig=kubeconfig, kubectl=find_kubectl(envtest_dir))
    try:
        crds = crd_files(ENVTEST / "crds", VENDORED_CRDS)
        for path in crds:
            result = cluster.run("apply", "--server-side", "--force-conflicts", "-f", str(path))
            assert result.ok, f"CRD {path} refused: {result.stderr}"
        if crds:
            _wait_established(cluster)
        yield cluster
    finally:
        if envtest_dir is not None:
            subprocess.run(["bash", str(ENVTEST / "stop"), "--dir", str(envtest_dir), "--wipe"], check=False)
