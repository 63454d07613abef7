"""Every example stack renders valid manifests offline and routes Kubernetes objects correctly."""

from __future__ import annotations

import kubernetes_validate
import pytest

from archivist_infra.__main__ import run_stack
from archivist_infra.offline.render import manifests
from tests.conftest import CRD_KINDS, ROOT

EXAMPLES = sorted((ROOT / "examples" / "stacks").glob("*.yaml"))
# kubernetes-validate has no schema for custom resources; the apiserver suite checks them against their CRDs.


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_stack_renders_valid_objects(path) -> None:  # type: ignore[no-untyped-def]
    run = run_stack(path.stem, path)
    names = [r.name for r in run.resources]
    assert len(names) == len(set(names)), "logical names must be unique for the graph's references"
    objects = manifests(run)
    assert len(objects) >= 30
    for obj in objects:
        if obj["kind"] not in CRD_KINDS:
            kubernetes_validate.validate(obj, "1.29", strict=True)
    cloud = path.stem in ("eks", "aks")
    for r in run.resources:
        if r.type.startswith("kubernetes:") and not r.type.startswith("kubernetes:providers"):
            # On a cloud nothing may fall back to the ambient kubeconfig.
            assert (r.provider is not None) or not cloud, r.name
    assert cloud == any(r.type.startswith(("aws:", "azure-native:")) for r in run.resources)


def test_examples_exist() -> None:
    assert {p.stem for p in EXAMPLES} >= {"eks", "aks", "kind", "minikube"}
