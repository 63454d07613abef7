"""Unit tests of the Archivist CrossGuard policy pack (``policy/``).

The rules are pure functions over camelCase resource inputs, so most tests call them
directly. The wiring tests check the ``ResourceValidationPolicy`` objects, the
``__main__.py`` entry point (without starting the analyzer's gRPC server), and drive
the validate callbacks, and once the SDK's own analyzer servicer, with constructed
arguments. No Pulumi CLI or engine is needed.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyPack,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.policy import _POLICY_PACK_NAME_RE, _PolicyAnalyzerServicer
from pulumi_policy.proxy import (
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"


def _load(module_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


# Loaded by file path under its own name: no sys.path change, no clash with the
# program's `archivist_infra` package or the repository's top-level `__main__`.
rules = _load("archivist_policies", POLICY_DIR / "archivist_policies.py")

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
REPLICASET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRONJOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STORAGECLASS = "kubernetes:storage.k8s.io/v1:StorageClass"

DIGEST = "sha256:" + "ab" * 32
WORKLOAD_TYPES = [DEPLOYMENT, STATEFULSET, DAEMONSET, REPLICASET, JOB, CRONJOB, POD]
POD_CHECKS = [
    rules.check_resources,
    rules.check_probes,
    rules.check_image_pinning,
    rules.check_pod_security,
]


# --------------------------------------------------------------------------------------
# Builders of compliant resources
# --------------------------------------------------------------------------------------


def good_container(name: str = "worker", image: str = "ghcr.io/archivist/worker:1.4.2",
                   probes: bool = True) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"cpu": "2", "memory": "4Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
    }
    if probes:
        container["readinessProbe"] = {"httpGet": {"path": "/health", "port": 8000}}
        container["livenessProbe"] = {"httpGet": {"path": "/health", "port": 8000}}
    return container


def good_pod_spec() -> dict[str, Any]:
    return {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000.0,  # numbers reach a policy pack as floats
            "fsGroup": 1000.0,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "initContainers": [good_container("migrate", "ghcr.io/archivist/migrate:1.4.2",
                                          probes=False)],
        "containers": [good_container()],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
    }


def workload(resource_type: str, pod: dict[str, Any] | None = None) -> dict[str, Any]:
    """camelCase inputs of a workload of `resource_type` with pod spec `pod`."""
    pod = good_pod_spec() if pod is None else pod
    template = {"metadata": {"labels": {"app": "worker"}}, "spec": pod}
    if resource_type == POD:
        return {"metadata": {"name": "worker"}, "spec": pod}
    if resource_type == CRONJOB:
        return {"metadata": {"name": "worker"},
                "spec": {"schedule": "0 * * * *",
                         "jobTemplate": {"spec": {"template": template}}}}
    return {"metadata": {"name": "worker"}, "spec": {"template": template}}


def with_pod(resource_type: str, mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    pod = good_pod_spec()
    mutate(pod)
    return workload(resource_type, pod)


def main_container(pod: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = pod["containers"][0]
    return container


def init_container(pod: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = pod["initContainers"][0]
    return container


# --------------------------------------------------------------------------------------
# Shared behaviour
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource_type", WORKLOAD_TYPES)
def test_compliant_workload_of_every_kind_passes_every_pod_rule(resource_type: str) -> None:
    props = workload(resource_type)
    assert rules.pod_spec(resource_type, props) is not None
    for check in POD_CHECKS:
        assert check(resource_type, props) == [], check.__name__


@pytest.mark.parametrize("resource_type", WORKLOAD_TYPES)
def test_pod_template_is_found_for_every_kind(resource_type: str) -> None:
    """A broken container is seen through each kind's path to its pod template."""
    def drop_resources(pod: dict[str, Any]) -> None:
        del main_container(pod)["resources"]

    violations = rules.check_resources(resource_type, with_pod(resource_type, drop_resources))
    assert len(violations) == 4


@pytest.mark.parametrize("resource_type", [
    SERVICE,
    "kubernetes:apps/v1:DeploymentPatch",  # partial object: not checked as a whole
    "kubernetes:core/v1:ConfigMap",
    "aws:s3/bucket:Bucket",
    "archivist:workloads:Worker",
])
def test_pod_rules_ignore_resources_without_pod_template(resource_type: str) -> None:
    props = with_pod(DEPLOYMENT, lambda pod: pod.update(hostNetwork=True, containers=[{}]))
    for check in POD_CHECKS:
        assert check(resource_type, props) == [], check.__name__


def test_resource_kind_parsing() -> None:
    assert rules.parse_resource_type(STORAGECLASS) == ("storage.k8s.io", "StorageClass")
    assert rules.resource_kind("kubernetes:apps/v1beta1:Deployment") == "Deployment"
    assert rules.resource_kind("kubernetes:helm.sh/v3:Release") == "Release"
    assert rules.pod_spec("kubernetes:helm.sh/v3:Release", workload(DEPLOYMENT)) is None
    assert rules.resource_kind("pulumi:providers:kubernetes") is None


# --------------------------------------------------------------------------------------
# Rule 1: requests and limits
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("section", "resource"), [
    ("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"),
])
def test_missing_request_or_limit_is_reported(section: str, resource: str) -> None:
    props = with_pod(DEPLOYMENT,
                     lambda pod: main_container(pod)["resources"][section].pop(resource))
    assert rules.check_resources(DEPLOYMENT, props) == [
        f"container 'worker': resources.{section}.{resource} is missing; set it"
    ]


def test_init_container_without_limits_is_reported() -> None:
    props = with_pod(JOB, lambda pod: init_container(pod)["resources"].pop("limits"))
    assert rules.check_resources(JOB, props) == [
        "init container 'migrate': resources.limits.cpu is missing; set it",
        "init container 'migrate': resources.limits.memory is missing; set it",
    ]


def test_empty_quantity_and_unnamed_container_are_reported() -> None:
    def mutate(pod: dict[str, Any]) -> None:
        container = good_container()
        del container["name"]
        container["resources"]["requests"]["memory"] = ""
        pod["containers"].append(container)

    assert rules.check_resources(STATEFULSET, with_pod(STATEFULSET, mutate)) == [
        "container #1: resources.requests.memory is missing; set it"
    ]


# --------------------------------------------------------------------------------------
# Rule 2: probes
# --------------------------------------------------------------------------------------

LIVENESS_MISSING = ("container 'worker': livenessProbe is missing; add one so the kubelet "
                    "restarts a hung process")
READINESS_MISSING = ("container 'worker': readinessProbe is missing; add a readinessProbe "
                     "(or a startupProbe next to the livenessProbe) so traffic and rollouts "
                     "wait for the container to be ready")


@pytest.mark.parametrize("resource_type", [DEPLOYMENT, STATEFULSET, DAEMONSET, REPLICASET])
def test_long_running_container_without_probes_is_reported(resource_type: str) -> None:
    def strip(pod: dict[str, Any]) -> None:
        main_container(pod).pop("readinessProbe")
        main_container(pod).pop("livenessProbe")

    assert rules.check_probes(resource_type, with_pod(resource_type, strip)) == [
        LIVENESS_MISSING, READINESS_MISSING,
    ]


def test_missing_liveness_alone_is_reported() -> None:
    props = with_pod(DEPLOYMENT, lambda pod: main_container(pod).pop("livenessProbe"))
    assert rules.check_probes(DEPLOYMENT, props) == [LIVENESS_MISSING]


def test_missing_readiness_alone_is_reported() -> None:
    props = with_pod(DEPLOYMENT, lambda pod: main_container(pod).pop("readinessProbe"))
    assert rules.check_probes(DEPLOYMENT, props) == [READINESS_MISSING]


def test_startup_plus_liveness_is_enough() -> None:
    def swap(pod: dict[str, Any]) -> None:
        container = main_container(pod)
        container["startupProbe"] = container.pop("readinessProbe")

    assert rules.check_probes(STATEFULSET, with_pod(STATEFULSET, swap)) == []


def test_startup_without_liveness_is_reported() -> None:
    def swap(pod: dict[str, Any]) -> None:
        container = main_container(pod)
        container["startupProbe"] = container.pop("livenessProbe")

    assert rules.check_probes(STATEFULSET, with_pod(STATEFULSET, swap)) == [LIVENESS_MISSING]


@pytest.mark.parametrize("resource_type", [JOB, CRONJOB, POD])
def test_jobs_and_bare_pods_are_exempt_from_probes(resource_type: str) -> None:
    def strip(pod: dict[str, Any]) -> None:
        main_container(pod).pop("readinessProbe")
        main_container(pod).pop("livenessProbe")

    assert rules.check_probes(resource_type, with_pod(resource_type, strip)) == []


def test_native_sidecar_init_container_needs_probes() -> None:
    props = with_pod(DEPLOYMENT,
                     lambda pod: init_container(pod).update(restartPolicy="Always"))
    violations = rules.check_probes(DEPLOYMENT, props)
    assert [v.split(":")[0] for v in violations] == ["init container 'migrate'"] * 2


# --------------------------------------------------------------------------------------
# Rule 3: pinned images
# --------------------------------------------------------------------------------------

PIN_FIX = "pin it to a version tag (e.g. 'redis:7.2.5') or an @sha256: digest"


@pytest.mark.parametrize("image", [
    "redis:7.2.5-alpine",
    "neo4j:5.26-community",
    f"qdrant/qdrant@{DIGEST}",
    f"apache/kafka:latest@{DIGEST}",  # the digest pins it
    "registry.example.com:5000/archivist/search:2025.10.1",
])
def test_pinned_images_pass(image: str) -> None:
    props = with_pod(DEPLOYMENT, lambda pod: main_container(pod).update(image=image))
    assert rules.check_image_pinning(DEPLOYMENT, props) == []


def test_pull_always_with_version_tag_passes() -> None:
    props = with_pod(DEPLOYMENT,
                     lambda pod: main_container(pod).update(imagePullPolicy="Always"))
    assert rules.check_image_pinning(DEPLOYMENT, props) == []


@pytest.mark.parametrize(("image", "pull_policy", "expected"), [
    ("redis", None,
     f"container 'worker': image 'redis' has no tag (it resolves to 'latest'); {PIN_FIX}"),
    ("registry.example.com:5000/archivist/search", None,
     ("container 'worker': image 'registry.example.com:5000/archivist/search' has no tag "
     f"(it resolves to 'latest'); {PIN_FIX}")),
    ("apache/kafka:latest", None,
     (f"container 'worker': image 'apache/kafka:latest' uses the mutable 'latest' tag; "
     f"{PIN_FIX}")),
    ("apache/kafka:latest", "Always",
     ("container 'worker': image 'apache/kafka:latest' uses the mutable 'latest' tag "
     f"(imagePullPolicy: Always does not make it reproducible); {PIN_FIX}")),
    ("qdrant/qdrant@sha256:abc", None,
     ("container 'worker': image 'qdrant/qdrant@sha256:abc' has digest 'sha256:abc', "
     "which is not a sha256 digest; use '@sha256:<64 hex characters>'")),
    ("", None, f"container 'worker': image is missing; set an image and {PIN_FIX}"),
])
def test_unpinned_images_are_reported(image: str, pull_policy: str | None,
                                      expected: str) -> None:
    def mutate(pod: dict[str, Any]) -> None:
        main_container(pod)["image"] = image
        if pull_policy:
            main_container(pod)["imagePullPolicy"] = pull_policy

    assert rules.check_image_pinning(CRONJOB, with_pod(CRONJOB, mutate)) == [expected]


def test_unpinned_init_container_image_is_reported() -> None:
    props = with_pod(STATEFULSET, lambda pod: init_container(pod).update(image="busybox"))
    violations = rules.check_image_pinning(STATEFULSET, props)
    assert len(violations) == 1
    assert violations[0].startswith("init container 'migrate': image 'busybox' has no tag")


def test_parse_image() -> None:
    assert rules.parse_image("localhost:5000/app") == rules.ImageRef("localhost:5000/app",
                                                                     None, None)
    assert rules.parse_image(f"a/b:1.0@{DIGEST}") == rules.ImageRef("a/b", "1.0", DIGEST)


# --------------------------------------------------------------------------------------
# Rule 4: Pod Security "restricted"
# --------------------------------------------------------------------------------------


def test_container_level_settings_satisfy_restricted() -> None:
    """runAsNonRoot and seccomp may be set on every container instead of the pod."""
    def move_to_containers(pod: dict[str, Any]) -> None:
        pod["securityContext"] = {"fsGroup": 1000.0}
        for container in pod["initContainers"] + pod["containers"]:
            container["securityContext"].update(
                runAsNonRoot=True, seccompProfile={"type": "Localhost",
                                                   "localhostProfile": "archivist.json"})

    props = with_pod(DAEMONSET, move_to_containers)
    assert rules.check_pod_security(DAEMONSET, props) == []


def test_net_bind_service_may_be_added() -> None:
    props = with_pod(DEPLOYMENT, lambda pod: main_container(pod)["securityContext"][
        "capabilities"].update(add=["NET_BIND_SERVICE"]))
    assert rules.check_pod_security(DEPLOYMENT, props) == []


def _sc(pod: dict[str, Any]) -> dict[str, Any]:
    security_context: dict[str, Any] = main_container(pod)["securityContext"]
    return security_context


POD_SECURITY_CASES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("hostNetwork", lambda pod: pod.update(hostNetwork=True),
     ["pod spec: hostNetwork is true; remove it (or set it to false)"]),
    ("hostPID", lambda pod: pod.update(hostPID=True),
     ["pod spec: hostPID is true; remove it (or set it to false)"]),
    ("hostIPC", lambda pod: pod.update(hostIPC=True),
     ["pod spec: hostIPC is true; remove it (or set it to false)"]),
    ("hostPath", lambda pod: pod["volumes"].append(
        {"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}),
     [("pod spec: volume 'docker' uses hostPath; use a PersistentVolumeClaim, emptyDir, "
      "configMap, secret or projected volume instead")]),
    ("privileged", lambda pod: _sc(pod).update(privileged=True),
     ["container 'worker': securityContext.privileged is true; remove it"]),
    ("ape missing", lambda pod: _sc(pod).pop("allowPrivilegeEscalation"),
     [("container 'worker': securityContext.allowPrivilegeEscalation is missing; "
      "set it to false")]),
    ("ape true", lambda pod: _sc(pod).update(allowPrivilegeEscalation=True),
     [("container 'worker': securityContext.allowPrivilegeEscalation is true; "
      "set it to false")]),
    ("init ape missing",
     lambda pod: init_container(pod)["securityContext"].pop("allowPrivilegeEscalation"),
     [("init container 'migrate': securityContext.allowPrivilegeEscalation is missing; "
      "set it to false")]),
    ("runAsNonRoot nowhere", lambda pod: pod["securityContext"].pop("runAsNonRoot"),
     [("init container 'migrate': securityContext.runAsNonRoot is not set here or on the "
      "pod; set securityContext.runAsNonRoot: true on the pod (or on this container)"),
      ("container 'worker': securityContext.runAsNonRoot is not set here or on the pod; "
      "set securityContext.runAsNonRoot: true on the pod (or on this container)")]),
    ("runAsNonRoot false overrides pod", lambda pod: _sc(pod).update(runAsNonRoot=False),
     ["container 'worker': securityContext.runAsNonRoot is false; set it to true"]),
    ("pod runAsUser 0", lambda pod: pod["securityContext"].update(runAsUser=0.0),
     ["pod spec: securityContext.runAsUser is 0 (root); set a non-zero uid"]),
    ("container runAsUser 0", lambda pod: _sc(pod).update(runAsUser=0),
     ["container 'worker': securityContext.runAsUser is 0 (root); set a non-zero uid"]),
    ("drop not ALL", lambda pod: _sc(pod)["capabilities"].update(drop=["NET_RAW"]),
     [("container 'worker': securityContext.capabilities.drop does not contain 'ALL'; "
      "set capabilities.drop: ['ALL']")]),
    ("no capabilities", lambda pod: _sc(pod).pop("capabilities"),
     [("container 'worker': securityContext.capabilities.drop does not contain 'ALL'; "
      "set capabilities.drop: ['ALL']")]),
    ("add SYS_ADMIN",
     lambda pod: _sc(pod)["capabilities"].update(add=["NET_BIND_SERVICE", "SYS_ADMIN"]),
     [("container 'worker': securityContext.capabilities.add contains 'SYS_ADMIN'; "
      "only 'NET_BIND_SERVICE' may be added; remove it")]),
    ("container seccomp Unconfined",
     lambda pod: _sc(pod).update(seccompProfile={"type": "Unconfined"}),
     [("container 'worker': securityContext.seccompProfile.type is 'Unconfined'; "
      "set it to RuntimeDefault (or Localhost)")]),
    ("pod seccomp Unconfined",
     lambda pod: pod["securityContext"].update(seccompProfile={"type": "Unconfined"}),
     [("pod spec: securityContext.seccompProfile.type is 'Unconfined'; set it to "
      "RuntimeDefault (or Localhost)"),
      ("init container 'migrate': securityContext.seccompProfile.type is not set here or "
      "on the pod; set securityContext.seccompProfile.type: RuntimeDefault on the pod "
      "(or on this container)"),
      ("container 'worker': securityContext.seccompProfile.type is not set here or on the "
      "pod; set securityContext.seccompProfile.type: RuntimeDefault on the pod (or on "
      "this container)")]),
]


@pytest.mark.parametrize(("mutate", "expected"),
                         [(case[1], case[2]) for case in POD_SECURITY_CASES],
                         ids=[case[0] for case in POD_SECURITY_CASES])
def test_pod_security_violations(mutate: Callable[[dict[str, Any]], None],
                                 expected: list[str]) -> None:
    assert rules.check_pod_security(DEPLOYMENT, with_pod(DEPLOYMENT, mutate)) == expected


def test_pod_without_any_security_context_reports_every_gap() -> None:
    pod = {"containers": [{"name": "redis", "image": "redis:7.2.5"}]}
    violations = rules.check_pod_security(POD, workload(POD, pod))
    fields = sorted(v.split(": ")[1].split(" ")[0] for v in violations)
    assert fields == [
        "securityContext.allowPrivilegeEscalation",
        "securityContext.capabilities.drop",
        "securityContext.runAsNonRoot",
        "securityContext.seccompProfile.type",
    ]


# --------------------------------------------------------------------------------------
# Rule 5: external Services
# --------------------------------------------------------------------------------------


def service(service_type: str | None, annotations: dict[str, str] | None = None
            ) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 8000.0}], "selector": {"app": "search"}}
    if service_type is not None:
        spec["type"] = service_type
    metadata: dict[str, Any] = {"name": "search"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": spec}


@pytest.mark.parametrize("props", [
    service(None),
    service("ClusterIP"),
    service("LoadBalancer", {rules.ALLOW_EXTERNAL_SERVICE_ANNOTATION: "true"}),
    service("NodePort", {rules.ALLOW_EXTERNAL_SERVICE_ANNOTATION: "true"}),
])
def test_internal_or_approved_services_pass(props: dict[str, Any]) -> None:
    assert rules.check_external_services(SERVICE, props) == []


@pytest.mark.parametrize(("service_type", "annotations"), [
    ("LoadBalancer", None),
    ("NodePort", None),
    ("LoadBalancer", {rules.ALLOW_EXTERNAL_SERVICE_ANNOTATION: "false"}),
    ("LoadBalancer", {"archivist.dev/allow-external": "true"}),  # wrong key
])
def test_unapproved_external_services_are_reported(service_type: str,
                                                   annotations: dict[str, str] | None
                                                   ) -> None:
    assert rules.check_external_services(SERVICE, service(service_type, annotations)) == [
        (f"service 'search': spec.type is '{service_type}', which exposes it outside the "
        "cluster; use ClusterIP behind the cluster's ingress or gateway, or, if the "
        "exposure is intended, add the annotation "
        'archivist.dev/allow-external-service: "true"')
    ]


def test_external_service_rule_only_applies_to_services() -> None:
    props = service("LoadBalancer")
    assert rules.check_external_services("kubernetes:core/v1:ServicePatch", props) == []
    assert rules.check_external_services(DEPLOYMENT, props) == []


# --------------------------------------------------------------------------------------
# Rule 6: protected stores on production stacks
# --------------------------------------------------------------------------------------


def store(resource_type: str, name: str = "archivist") -> dict[str, Any]:
    props: dict[str, Any] = {"metadata": {"name": name}}
    if resource_type == STORAGECLASS:
        props.update(provisioner="pd.csi.storage.gke.io", reclaimPolicy="Retain")
    if resource_type == STATEFULSET:
        props["spec"] = workload(STATEFULSET)["spec"]
    return props


STORE_TYPES = [NAMESPACE, STATEFULSET, PVC, STORAGECLASS]


@pytest.mark.parametrize("resource_type", STORE_TYPES)
def test_protected_stores_pass_in_production(resource_type: str) -> None:
    assert rules.check_protected_stores(resource_type, store(resource_type), True,
                                        "prod") == []


@pytest.mark.parametrize("resource_type", STORE_TYPES)
def test_unprotected_stores_are_reported_in_production(resource_type: str) -> None:
    kind = resource_type.rsplit(":", 1)[1]
    assert rules.check_protected_stores(resource_type, store(resource_type), False,
                                        "prod-eu") == [
        (f"{kind} 'archivist': the 'protect' resource option is not set on production "
        "stack 'prod-eu'; pass opts=pulumi.ResourceOptions(protect=True) so Pulumi "
        "refuses to delete it")
    ]


@pytest.mark.parametrize("stack", ["dev", "staging", "preprod", "production-copy"])
def test_unprotected_stores_pass_outside_production(stack: str) -> None:
    for resource_type in STORE_TYPES:
        assert rules.check_protected_stores(resource_type, store(resource_type), False,
                                            stack) == []


@pytest.mark.parametrize(("reclaim", "shown"), [
    ("Delete", "'Delete'"), (None, "not set (defaults to Delete)"),
])
def test_storage_class_must_retain_in_production(reclaim: str | None, shown: str) -> None:
    props = store(STORAGECLASS)
    props.pop("reclaimPolicy")
    if reclaim is not None:
        props["reclaimPolicy"] = reclaim
    assert rules.check_protected_stores(STORAGECLASS, props, True, "production") == [
        (f"StorageClass 'archivist': reclaimPolicy is {shown}; set reclaimPolicy: Retain "
        "so a deleted claim keeps its volume")
    ]


def test_statefulset_must_not_delete_its_claims_in_production() -> None:
    props = store(STATEFULSET)
    props["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete",
                                                            "whenScaled": "Retain"}
    assert rules.check_protected_stores(STATEFULSET, props, True, "prod") == [
        ("StatefulSet 'archivist': spec.persistentVolumeClaimRetentionPolicy.whenDeleted "
        "is 'Delete'; set it to Retain (the default) so its volumes survive")
    ]


def test_unknown_stack_counts_as_production() -> None:
    violations = rules.check_protected_stores(PVC, store(PVC), False, None)
    assert violations == [
        ("PersistentVolumeClaim 'archivist': the 'protect' resource option is not set on an "
        "unknown (so production) stack; pass opts=pulumi.ResourceOptions(protect=True) so "
        "Pulumi refuses to delete it")
    ]


@pytest.mark.parametrize("resource_type", [
    DEPLOYMENT, SERVICE, "kubernetes:core/v1:PersistentVolume",
    "kubernetes:storage.k8s.io/v1:StorageClassPatch",
])
def test_other_resources_need_no_protection(resource_type: str) -> None:
    assert rules.check_protected_stores(resource_type, store(resource_type), False,
                                        "prod") == []


@pytest.mark.parametrize(("stack", "patterns", "expected"), [
    ("prod", rules.DEFAULT_PRODUCTION_STACKS, True),
    ("prod-us-east", rules.DEFAULT_PRODUCTION_STACKS, True),
    ("Production", rules.DEFAULT_PRODUCTION_STACKS, True),
    ("acme/archivist-infra/prod", rules.DEFAULT_PRODUCTION_STACKS, True),
    ("prodx", rules.DEFAULT_PRODUCTION_STACKS, False),
    ("dev", rules.DEFAULT_PRODUCTION_STACKS, False),
    ("live-eu", ["live-*"], True),
    ("prod", ["live-*"], False),
])
def test_is_production_stack(stack: str, patterns: list[str], expected: bool) -> None:
    assert rules.is_production_stack(stack, patterns) is expected


def test_production_patterns_from_config() -> None:
    assert rules.production_patterns_from_config(None) == ["prod", "prod-*", "production"]
    assert rules.production_patterns_from_config({}) == ["prod", "prod-*", "production"]
    assert rules.production_patterns_from_config(
        {"productionStacks": ["live", "live-*"]}) == ["live", "live-*"]
    assert rules.production_patterns_from_config({"productionStacks": "live"}) == ["live"]
    with pytest.raises(TypeError, match="productionStacks"):
        rules.production_patterns_from_config({"productionStacks": [1, 2]})


def test_current_stack_name_comes_from_the_cli_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod-eu")
    assert rules.current_stack_name() == "prod-eu"
    monkeypatch.delenv("PULUMI_STACK")
    assert rules.current_stack_name() is None


# --------------------------------------------------------------------------------------
# Pack wiring
# --------------------------------------------------------------------------------------


@pytest.fixture
def pack_main(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """`policy/__main__.py` imported as a plain module (so `PolicyPack` is not built)."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # __main__ may prepend policy/
    module = _load("archivist_policy_pack_main", POLICY_DIR / "__main__.py")
    yield module
    sys.modules.pop("archivist_policy_pack_main", None)


def test_every_policy_is_named_described_and_mandatory() -> None:
    policies = rules.POLICIES
    assert len(policies) == 6
    names = [policy.name for policy in policies]
    assert len(set(names)) == len(names)
    for policy in policies:
        assert isinstance(policy, ResourceValidationPolicy)
        assert policy.name.startswith("archivist-")
        assert len(policy.description) > 20
        assert policy.enforcement_level is EnforcementLevel.MANDATORY
        assert policy.has_validation()


def test_production_policy_declares_its_config_schema() -> None:
    policy = next(p for p in rules.POLICIES
                  if p.name == "archivist-protected-stores-in-production")
    assert policy.config_schema is not None
    schema = policy.config_schema.properties["productionStacks"]
    assert schema["type"] == "array"
    assert schema["items"] == {"type": "string"}
    assert schema["default"] == ["prod", "prod-*", "production"]


def test_main_builds_the_pack_from_the_rules_module(pack_main: ModuleType) -> None:
    recorded: dict[str, Any] = {}

    def fake_pack(**kwargs: Any) -> str:
        recorded.update(kwargs)
        return "pack"

    assert pack_main.main(fake_pack) == "pack"
    assert recorded["policies"] is rules.POLICIES
    assert _POLICY_PACK_NAME_RE.match(recorded["name"])
    assert recorded["enforcement_level"] is EnforcementLevel.MANDATORY
    assert recorded["description"]
    # Without a stand-in, main() serves the real pack to the engine.
    default = inspect.signature(pack_main.main).parameters["pack_factory"].default
    assert default is PolicyPack


def test_pack_metadata_files() -> None:
    manifest = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"] == "python"
    assert manifest["description"]
    requirements = (POLICY_DIR / "requirements.txt").read_text().split()
    assert requirements == ["pulumi==3.272.0", "pulumi-policy==1.21.0"]


def _options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=protect, ignore_changes=[],
                                 delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                 additional_secret_outputs=[], parent=None)


def _args(resource_type: str, props: dict[str, Any], protect: bool = False,
          config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    # The engine hands props over wrapped in this read-only Mapping proxy.
    return ResourceValidationArgs(resource_type, unknown_checking_proxy(props),
                                  f"urn:pulumi:test::archivist::{resource_type}::x", "x",
                                  _options(protect), None, config)


def _policy(name: str) -> ResourceValidationPolicy:
    policy: ResourceValidationPolicy = next(p for p in rules.POLICIES if p.name == name)
    return policy


def _run(policy: ResourceValidationPolicy, args: ResourceValidationArgs) -> list[str]:
    reported: list[str] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        reported.append(message)

    assert policy.validate(args, report_violation) is None  # synchronous
    return reported


@pytest.mark.parametrize(("policy_name", "resource_type", "mutate", "check"), [
    ("archivist-resource-requests-limits", DEPLOYMENT,
     lambda pod: main_container(pod).pop("resources"), rules.check_resources),
    ("archivist-health-probes", STATEFULSET,
     lambda pod: main_container(pod).pop("livenessProbe"), rules.check_probes),
    ("archivist-pinned-images", CRONJOB,
     lambda pod: main_container(pod).update(image="redis:latest"), rules.check_image_pinning),
    ("archivist-pod-security-restricted", POD,
     lambda pod: pod.update(hostPID=True), rules.check_pod_security),
])
def test_validate_callback_reports_each_violation(policy_name: str, resource_type: str,
                                                  mutate: Callable[[dict[str, Any]], None],
                                                  check: Callable[..., list[str]]) -> None:
    props = with_pod(resource_type, mutate)
    expected = check(resource_type, copy.deepcopy(props))
    assert expected
    assert _run(_policy(policy_name), _args(resource_type, props)) == expected
    assert _run(_policy(policy_name), _args(resource_type, workload(resource_type))) == []


def test_validate_callback_for_external_services() -> None:
    policy = _policy("archivist-no-external-services")
    assert len(_run(policy, _args(SERVICE, service("NodePort")))) == 1
    assert _run(policy, _args(SERVICE, service("ClusterIP"))) == []


def test_validate_callback_reads_protect_stack_and_config(
        monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _policy("archivist-protected-stores-in-production")
    config = {"productionStacks": ["live-*"]}
    monkeypatch.setenv("PULUMI_STACK", "live-eu")
    violations = _run(policy, _args(PVC, store(PVC), protect=False, config=config))
    assert violations == [
        ("PersistentVolumeClaim 'archivist': the 'protect' resource option is not set on "
        "production stack 'live-eu'; pass opts=pulumi.ResourceOptions(protect=True) so "
        "Pulumi refuses to delete it")
    ]
    assert _run(policy, _args(PVC, store(PVC), protect=True, config=config)) == []
    # 'prod' is production by default, but not under this stack's config.
    monkeypatch.setenv("PULUMI_STACK", "prod")
    assert _run(policy, _args(PVC, store(PVC), protect=False, config=config)) == []
    assert len(_run(policy, _args(PVC, store(PVC), protect=False, config=None))) == 1


def test_unknown_values_are_left_to_the_sdk() -> None:
    """A preview-time unknown image propagates, so the SDK reports "can't run in preview"."""
    props = with_pod(DEPLOYMENT,
                     lambda pod: main_container(pod).update(image=UNKNOWN_STRING_VALUE))
    with pytest.raises(UnknownValueError):
        _run(_policy("archivist-pinned-images"), _args(DEPLOYMENT, props))


def test_sdk_analyzer_turns_violations_into_mandatory_diagnostics(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end through the SDK's analyzer servicer, as the engine would call it."""
    monkeypatch.setenv("PULUMI_STACK", "prod")
    monkeypatch.delenv("PULUMI_PROJECT", raising=False)  # keep pulumi.runtime untouched
    servicer = _PolicyAnalyzerServicer(rules.PACK_NAME, "0.1.0", rules.POLICIES,
                                       EnforcementLevel.MANDATORY)
    properties = struct_pb2.Struct()
    props = store(STATEFULSET)
    del main_container(props["spec"]["template"]["spec"])["resources"]["limits"]
    properties.update(props)
    request = proto.AnalyzeRequest(
        type=STATEFULSET, urn="urn:pulumi:prod::archivist::" + STATEFULSET + "::neo4j",
        name="neo4j", properties=properties,
        options=proto.AnalyzerResourceOptions(protect=False))
    response = servicer.Analyze(request, None)  # type: ignore[no-untyped-call]
    by_policy: dict[str, list[str]] = {}
    for diagnostic in response.diagnostics:
        assert diagnostic.enforcementLevel == proto.MANDATORY
        by_policy.setdefault(diagnostic.policyName, []).append(diagnostic.message)
    assert sorted(by_policy) == ["archivist-protected-stores-in-production",
                                 "archivist-resource-requests-limits"]
    assert len(by_policy["archivist-resource-requests-limits"]) == 2
    assert by_policy["archivist-resource-requests-limits"][0].endswith(
        "container 'worker': resources.limits.cpu is missing; set it")


def test_sdk_analyzer_advertises_schema_and_applies_stack_config(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GetAnalyzerInfo carries the config schema; Configure feeds args.get_config()."""
    monkeypatch.setenv("PULUMI_STACK", "live-eu")
    monkeypatch.delenv("PULUMI_PROJECT", raising=False)
    servicer = _PolicyAnalyzerServicer(rules.PACK_NAME, "0.1.0", rules.POLICIES,
                                       EnforcementLevel.MANDATORY)
    info = servicer.GetAnalyzerInfo(None, None)  # type: ignore[no-untyped-call]
    infos = {policy.name: policy for policy in info.policies}
    assert set(infos) == {policy.name for policy in rules.POLICIES}
    assert {p.enforcementLevel for p in info.policies} == {proto.MANDATORY}
    schema = infos["archivist-protected-stores-in-production"].configSchema
    assert list(schema.properties["productionStacks"]["default"]) == [
        "prod", "prod-*", "production"]

    def analyze_pvc() -> list[str]:
        properties = struct_pb2.Struct()
        properties.update(store(PVC))
        request = proto.AnalyzeRequest(
            type=PVC, urn="urn:pulumi:live-eu::archivist::" + PVC + "::data", name="data",
            properties=properties, options=proto.AnalyzerResourceOptions(protect=False))
        response = servicer.Analyze(request, None)  # type: ignore[no-untyped-call]
        return [d.policyName for d in response.diagnostics]

    assert analyze_pvc() == []  # 'live-eu' is not production by default
    settings = struct_pb2.Struct()
    settings.update({"productionStacks": ["live-*"]})
    servicer.Configure(proto.ConfigureAnalyzerRequest(policyConfig={  # type: ignore[no-untyped-call]
        "archivist-protected-stores-in-production": proto.PolicyConfig(
            enforcementLevel=proto.MANDATORY, properties=settings),
    }), None)
    assert analyze_pvc() == ["archivist-protected-stores-in-production"]
