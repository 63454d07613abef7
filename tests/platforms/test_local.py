from __future__ import annotations

import pulumi
import pytest

from archivist_infra.capacity.figures import NodeBounds
from archivist_infra.platforms import PLATFORMS, local, platform_module

from .conftest import RecordingMonitor, reader, settled
from .sdk_isolation import assert_only_sdk


@pulumi.runtime.test
def test_context_gives_an_explicit_provider_and_no_storage_classes(monitor: RecordingMonitor) -> pulumi.Output[None]:
    r = reader({"context": "kind-archivist", "distribution": "kind", "storageClasses": {"readWriteOnce": "standard"}})
    settings = local.parse(r)
    assert not r.problems
    comp = local.LocalCluster("arch", settings)
    assert comp.target.storage.read_write_once == "standard" and comp.target.storage.read_write_many is None

    def check() -> None:
        assert monitor.one("pulumi:providers:kubernetes").inputs["context"] == "kind-archivist"
        assert not monitor.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
        assert monitor.one("archivist:cluster:LocalCluster")
    return settled(comp, check)


@pulumi.runtime.test
def test_without_context_the_ambient_kubeconfig_is_used(monitor: RecordingMonitor) -> pulumi.Output[None]:
    target = local.build("arch", local.parse(reader({})), node_bounds=NodeBounds(1, 1), protect=False)
    assert target.provider is None and target.storage.read_write_once is None

    def check() -> None:
        assert not monitor.of_type("pulumi:providers:kubernetes")
    return pulumi.Output.from_input(None).apply(lambda _: check())


def test_problems_carry_their_keys() -> None:
    r = reader({"distribution": "k3s-ish", "context": "bad context!", "storageClasses": {"readWriteMany": "X"}, "zone": "a"})
    local.parse(r)
    assert {p.key for p in r.problems.items} == {
        "archivist:cluster.distribution", "archivist:cluster.context", "archivist:cluster.storageClasses.readWriteMany",
        "archivist:cluster.zone"}


def test_platform_module_rejects_unknown_names() -> None:
    assert PLATFORMS == ("local", "gke", "eks", "aks")
    with pytest.raises(ValueError, match="openshift"):
        platform_module("openshift")


def test_local_stack_imports_no_cloud_sdk() -> None:
    assert_only_sdk("local", None)


def test_node_shape_defaults_per_figure() -> None:
    from decimal import Decimal

    from archivist_infra.config.quantity import GI

    settings = local.parse(reader({"nodeMemory": "12Gi"}))
    assert local.node_machine(settings) == (Decimal(4), 12 * GI)
