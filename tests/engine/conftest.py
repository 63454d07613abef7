"""The `engine` suite: the real Pulumi CLI and Kubernetes provider deploy the dev stack to a real API server.

Prerequisites are never skipped: without the engine binaries (scripts/engine/install.sh, or
ARCHIVIST_ENGINE_BIN naming their directory) or the API server the suite errors, so CI cannot
pass without it having run. docs/engine.md describes the pieces and the test stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

# The apiserver suite's session fixture: envtest started once, with every vendored CRD applied.
from apiserver.conftest import cluster  # noqa: F401  (a fixture, used by name)
from apiserver.kube import Cluster

from .harness import ROOT, Binder, Pulumi, kwok

STACK = "engine"
PASSPHRASE = "engine-suite-passphrase"  # the local state's secrets provider; nothing real is in it
# The three application images, pinned by tag as a user who built and pushed them would give them.
# No container ever runs here (kwok plays the kubelet), so nothing pulls them.
IMAGES = {app: f"registry.example.com/archivist/{app}:f27c790460e5" for app in ("worker", "search", "graph")}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    given = os.environ.get("ARCHIVIST_ENGINE_BIN")
    if given:
        path = Path(given)
    else:
        proc = subprocess.run(["bash", str(ROOT / "scripts" / "engine" / "install.sh")], capture_output=True,
                              text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"scripts/engine/install.sh failed:\n{proc.stderr[-4000:]}")
        path = Path(proc.stdout.strip().splitlines()[-1].split("=", 1)[1])
    for name in ("pulumi", "pulumi-resource-kubernetes", "kwok", "kwok-stages.yaml"):
        if not (path / name).exists():
            raise RuntimeError(f"{path / name} is missing: run scripts/engine/install.sh")
    return path


@pytest.fixture(scope="session")
def nodes(cluster: Cluster, engine_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Binder]:  # noqa: F811
    logs = tmp_path_factory.mktemp("kwok")
    with kwok(engine_bin / "kwok", engine_bin / "kwok-stages.yaml", cluster.kubeconfig, logs / "kwok.log"), \
            Binder(cluster.kubeconfig) as binder:
        yield binder


def engine_stack_config(dev: dict[str, Any], context: str) -> dict[str, Any]:
    """Pulumi.dev.yaml's config with only what needs the internet or a secret changed (docs/engine.md)."""
    config = dict(dev["config"])
    config.pop("archivist:geminiApiKey")  # a placeholder: set with `pulumi config set --secret`, as the file says
    config["archivist:cluster"] = {**(config.get("archivist:cluster") or {}), "context": context}
    config["archivist:images"] = dict(IMAGES)  # no docker engine here: preset references, no build
    # Helm charts come from remote repositories, which are unreachable here: bring-your-own operators
    # (`mode: attach`: the Prometheus Operator's CRDs are on the server, vendored, as a user's own would be).
    monitoring = {k: v for k, v in (config.get("archivist:monitoring") or {}).items() if k != "install"}
    config["archivist:monitoring"] = {**monitoring, "mode": "attach"}
    config["archivist:keda"] = {**(config.get("archivist:keda") or {}), "enabled": False}
    return config


@pytest.fixture(scope="module")
def pulumi(nodes: Binder, cluster: Cluster, engine_bin: Path,  # noqa: F811
           tmp_path_factory: pytest.TempPathFactory) -> Pulumi:
    work = tmp_path_factory.mktemp("engine")
    project = work / "project"
    project.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    plugins = work / "plugins"
    plugins.mkdir()
    random = plugins / "pulumi-resource-random"
    random.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).parent / "random_provider.py"}" "$@"\n')
    random.chmod(0o755)
    env = {
        **os.environ,
        # The engine's plugins are the binaries on PATH ("ambient"), so nothing is downloaded.
        "PATH": os.pathsep.join([str(engine_bin), str(plugins), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(work / "pulumi-home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "KUBECONFIG": str(cluster.kubeconfig),
        "NO_COLOR": "1",
    }
    env.pop("PULUMI_ACCESS_TOKEN", None)
    cli = Pulumi(engine_bin / "pulumi", project, env, STACK, work / "pulumi.log")
    (work / "state").mkdir()
    cli.run("login", f"file://{work / 'state'}").check()
    cli.run("stack", "init", STACK, "--secrets-provider", "passphrase").check()
    stack_file = project / f"Pulumi.{STACK}.yaml"
    written = yaml.safe_load(stack_file.read_text()) or {}  # the encryption salt `stack init` wrote
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    written["config"] = engine_stack_config(dev, kubeconfig["current-context"])
    stack_file.write_text(yaml.safe_dump(written, sort_keys=False))
    cli.config_set("archivist:geminiApiKey", "engine-suite-not-a-real-key", secret=True)
    return cli
