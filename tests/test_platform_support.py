"""Every custom resource of every stack file is served by its platform or installed (before it) by the
stack; every Google API a GKE stack calls is enabled by it and waited for. The full platform x feature
matrix runs the same checks under `-m matrix` (tests/test_platform_matrix.py)."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest

from archivist_infra.offline import engine
from archivist_infra.platforms.served_apis import REGISTRY, custom_objects, missing_apis, platform_of
from archivist_infra.program import main as program_main
from tests.apiserver.stacks import read_stack_file, stack_files, stack_id
from tests.platform_support import google_api_gaps, settings_of, unserved

FILES = {stack_id(p): p for p in stack_files()}
# One stack file per platform in the default run (dev and prod are the session's shared renders); the
# `matrix` suite checks every stack file and every feature on every platform.
DEFAULT = ("dev", "prod", "examples/eks", "examples/aks")


@cache
def _render(stack: str) -> engine.Run:
    return engine.run(read_stack_file(FILES[stack]), program_main)


_SHARED: dict[str, engine.Run] = {}


@pytest.fixture(autouse=True)
def _shared_renders(dev_run: engine.Run, prod_run: engine.Run) -> None:
    _SHARED.update(dev=dev_run, prod=prod_run)


def _run(stack: str) -> engine.Run:
    return _SHARED.get(stack) or _render(stack)


@pytest.mark.parametrize("stack", DEFAULT)
def test_every_custom_resource_is_served_or_installed_first(stack: str) -> None:
    run = _run(stack)
    assert custom_objects(run), "a stack file without custom resources tests nothing here"
    assert unserved(run, read_stack_file(FILES[stack])) == []


def test_every_group_has_a_way_onto_every_platform_or_is_refused() -> None:
    for group in REGISTRY:
        assert group.served or group.installers or group.declared_by, group.group
        for served in group.served.values():
            assert "http" in served.source and "2026" in served.source, f"{group.group}: source and date"


def _without(run: engine.Run, *, type_token: str, match: dict[str, str]) -> engine.Run:
    kept = [r for r in run.resources
            if not (r.type == type_token and all(r.inputs.get(k) == v for k, v in match.items()))]
    assert len(kept) < len(run.resources), f"nothing matched {type_token} {match}"
    return dataclasses.replace(run, resources=kept)


def test_eks_snapshots_need_the_snapshot_controller_addon() -> None:
    run = _run("examples/eks")
    [addon] = [r for r in run.by_type("aws:eks/addon:Addon") if r.inputs.get("addonName") == "snapshot-controller"]
    classes = [o for o in custom_objects(run) if o.kind == "VolumeSnapshotClass"]
    assert classes
    stripped = _without(run, type_token="aws:eks/addon:Addon", match={"addonName": "snapshot-controller"})
    assert any("VolumeSnapshotClass" in p for p in missing_apis(stripped, "eks"))
    # Ordered: the class waits for the add-on, and so does Velero (EnableCSI watches VolumeSnapshots).
    velero = next(r for r in run.by_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "velero")
    assert addon.urn in classes[0].resource.dependencies and addon.urn in velero.dependencies


def test_an_object_that_does_not_wait_for_its_installer_is_reported() -> None:
    run = _run("examples/eks")
    released = {r.urn for r in run.by_type("kubernetes:helm.sh/v3:Release")
                if r.inputs.get("chart") == "kube-prometheus-stack"}
    assert released
    cut = [dataclasses.replace(r, dependencies=[d for d in r.dependencies if d not in released])
           if r.type.startswith("kubernetes:monitoring.coreos.com") else r for r in run.resources]
    problems = missing_apis(dataclasses.replace(run, resources=cut), "eks")
    assert problems and all("does not wait" in p for p in problems)


def test_attached_monitoring_is_declared_by_config_not_installed() -> None:
    config = dataclasses.replace(read_stack_file(FILES["examples/aks"]))
    values = {**config.values, "archivist:monitoring": '{"mode": "attach", "selectorLabels": {"release": "mine"}}'}
    attached = dataclasses.replace(config, values=values)
    run = engine.run(attached, program_main)
    assert not [r for r in run.by_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "kube-prometheus-stack"]
    assert unserved(run, attached) == []
    assert missing_apis(run, platform_of(run)) != []  # without the user's word, nothing serves them
    assert settings_of(attached).monitoring.mode == "attach"


def test_gke_enables_every_google_api_it_uses_and_waits_for_it() -> None:
    run = _run("prod")
    assert google_api_gaps(run) == []
    enabled = {r.inputs["service"] for r in run.by_type("gcp:projects/service:Service")}
    # The audit's missing three (N4, B3): Secret Manager, Certificate Manager, IAM Credentials.
    assert {"secretmanager.googleapis.com", "certificatemanager.googleapis.com", "iamcredentials.googleapis.com",
            "storage.googleapis.com", "container.googleapis.com", "compute.googleapis.com"} <= enabled


def test_a_resource_not_waiting_for_its_api_is_reported() -> None:
    run = _run("prod")
    services = {r.urn for r in run.by_type("gcp:projects/service:Service")}
    cut = [dataclasses.replace(r, dependencies=[d for d in r.dependencies if d not in services])
           if r.type.startswith("gcp:secretmanager/") else r for r in run.resources]
    gaps = google_api_gaps(dataclasses.replace(run, resources=cut))
    assert gaps and all("secretmanager" in g for g in gaps)


def test_the_default_run_covers_every_platform() -> None:
    assert {platform_of(_run(s)) for s in DEFAULT} == {"local", "gke", "eks", "aks"}




def test_the_docs_table_names_every_group() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "platform-support.md").read_text()
    missing = [g.group for g in REGISTRY if f"`{g.group}`" not in page]
    assert missing == [], f"docs/platform-support.md lacks {missing}"
