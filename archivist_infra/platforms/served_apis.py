"""Which custom-resource API groups each platform serves, and which stack component installs the rest.

One registry for every API group whose objects the program can create (rendered by a tier, or rendered
by a Helm chart it installs). A custom resource needs its CRD (and a controller) on the cluster: either
the platform serves the group out of the box (a line with its source and the date it was read), or a
resource of the same stack installs it and the custom resource is ordered after that resource
(dependsOn), or the user's config says it exists (`monitoring.mode: attach`).

`missing_apis(run, platform, declared)` checks a recorded run against this table: the offline matrix
(tests/test_platform_matrix.py) and the apiserver suite (tests/apiserver/test_platform_crds.py) use it,
and docs/platform-support.md shows it. Checks go by API group, not by kind, so a new kind of a known group
(an Envoy Gateway SecurityPolicy, a GKE GCPBackendPolicy) is covered without a new line here.

Pulumi-free: importable by tests and docs without registering anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..offline.engine import Recorded, Run

PLATFORMS = ("local", "gke", "eks", "aks")

# API groups every conformant Kubernetes API server serves (kubernetes.io/docs/reference/using-api/#api-groups).
BUILT_IN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "storage.k8s.io", "rbac.authorization.k8s.io",
    "apiextensions.k8s.io", "admissionregistration.k8s.io", "coordination.k8s.io", "scheduling.k8s.io", "node.k8s.io",
    "discovery.k8s.io", "certificates.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
    "apiregistration.k8s.io", "resource.k8s.io",
})


@dataclass(frozen=True)
class Served:
    """The platform serves the group on every cluster the stack creates or adopts."""

    source: str  # URL (or chart/add-on) and the date it was read


@dataclass(frozen=True)
class Installer:
    """A resource of the stack that installs the group's CRDs (and its controller)."""

    what: str  # e.g. "kube-prometheus-stack chart 88.3.0 (crds.enabled)"
    resource_type: str  # Pulumi type token of the installing resource
    matches: Callable[[Mapping[str, Any]], bool]  # on the resource's recorded inputs
    source: str

    def installs(self, resource: Recorded) -> bool:
        return resource.type == self.resource_type and self.matches(resource.inputs)


@dataclass(frozen=True)
class ApiGroup:
    group: str
    what: str
    kinds: tuple[str, ...]  # kinds the program creates today (documentation; the check goes by group)
    served: Mapping[str, Served] = field(default_factory=dict)  # platform -> how it is served
    installers: tuple[Installer, ...] = ()
    # Config that declares the group present on the user's cluster: (config key, value) pairs.
    declared_by: tuple[str, ...] = ()


HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
EKS_ADDON = "aws:eks/addon:Addon"
GKE_CLUSTER = "gcp:container/cluster:Cluster"


def _chart(*names: str) -> Callable[[Mapping[str, Any]], bool]:
    """A Helm release of one of these charts (an OCI reference counts by its last segment)."""
    return lambda inputs: str(inputs.get("chart", "")).rsplit("/", 1)[-1] in names


def _prometheus_stack(inputs: Mapping[str, Any]) -> bool:
    values = _unsecret(inputs.get("values") or {})
    return _chart("kube-prometheus-stack")(inputs) and values.get("crds", {}).get("enabled", True) is not False


def _gke_gateway_api(inputs: Mapping[str, Any]) -> bool:
    channel = (inputs.get("gatewayApiConfig") or {}).get("channel")
    return channel in ("CHANNEL_STANDARD", "CHANNEL_EXPERIMENTAL")


def _addon(name: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda inputs: inputs.get("addonName") == name


_GKE_GATEWAY = Installer(
    "GKE Gateway controller: the cluster's gatewayApiConfig.channel CHANNEL_STANDARD (platforms/gke.py)",
    GKE_CLUSTER, _gke_gateway_api,
    "https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways (Enable the Gateway API; "
    "GKE installs the Gateway API and GKE policy CRDs), read 2026-12-06")

REGISTRY: tuple[ApiGroup, ...] = (
    ApiGroup(
        "gateway.networking.k8s.io", "Gateway API (the public entry)", ("Gateway", "HTTPRoute", "GatewayClass"),
        installers=(
            _GKE_GATEWAY,
            Installer("Envoy Gateway chart gateway-helm v1.9.0 (crds/: Gateway API v1.6.1)", HELM_RELEASE,
                      _chart("gateway-helm"), "envoyproxy/gateway charts/gateway-helm/crds (tests/crds/SOURCE.md)"),
        )),
    ApiGroup(
        "networking.gke.io", "GKE Gateway policies", ("HealthCheckPolicy", "GCPBackendPolicy", "GCPGatewayPolicy"),
        installers=(_GKE_GATEWAY,)),
    ApiGroup(
        "gateway.envoyproxy.io", "Envoy Gateway extensions", ("EnvoyProxy", "BackendTrafficPolicy", "SecurityPolicy",
                                                              "ClientTrafficPolicy"),
        installers=(Installer("Envoy Gateway chart gateway-helm v1.9.0", HELM_RELEASE, _chart("gateway-helm"),
                              "envoyproxy/gateway charts/gateway-helm/crds (tests/crds/envoy-gateway-v1.9.0/SOURCE.md)"),)),
    ApiGroup(
        "cert-manager.io", "cert-manager certificates", ("ClusterIssuer", "Issuer", "Certificate"),
        installers=(Installer("cert-manager chart v1.21.1 (crds.enabled, entry/gateway.py)", HELM_RELEASE,
                              _chart("cert-manager"), "cert-manager chart values.yaml `crds.enabled`"),)),
    ApiGroup(
        "acme.cert-manager.io", "cert-manager ACME orders (made by cert-manager itself)", ("Order", "Challenge"),
        installers=(Installer("cert-manager chart v1.21.1", HELM_RELEASE, _chart("cert-manager"),
                              "cert-manager chart values.yaml `crds.enabled`"),)),
    ApiGroup(
        "monitoring.coreos.com", "Prometheus Operator", ("PodMonitor", "Probe", "PrometheusRule", "ServiceMonitor"),
        installers=(Installer("kube-prometheus-stack chart 88.3.0 (crds.enabled; prometheus-operator v0.93.0)",
                              HELM_RELEASE, _prometheus_stack,
                              "prometheus-community/helm-charts kube-prometheus-stack values.yaml `crds.enabled`"),),
        declared_by=("archivist:monitoring.mode attach",)),
    ApiGroup(
        "monitoring.googleapis.com", "Google Managed Prometheus (managed collection)", ("PodMonitoring", "ClusterRules"),
        served={"gke": Served(
            "https://cloud.google.com/stackdriver/docs/managed-prometheus/setup-managed (managed collection is on by "
            "default for new GKE Standard clusters from 1.27; the stack's clusters are 1.33+), read 2026-12-06")}),
    ApiGroup(
        "snapshot.storage.k8s.io", "CSI volume snapshots", ("VolumeSnapshotClass", "VolumeSnapshot",
                                                             "VolumeSnapshotContent"),
        served={
            "gke": Served("https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/"
                          "backup-pd-volume-snapshots (GKE 1.17+, Compute Engine PD CSI driver on by default), "
                          "read 2026-12-06"),
            "aks": Served("https://learn.microsoft.com/azure/aks/azure-disk-csi (Volume snapshots: a "
                          "VolumeSnapshotClass with disk.csi.azure.com, the snapshot controller managed by AKS), "
                          "read 2026-12-06"),
        },
        installers=(Installer("EKS add-on snapshot-controller (backup/eks.py)", EKS_ADDON, _addon("snapshot-controller"),
                              "https://docs.aws.amazon.com/eks/latest/userguide/csi-snapshot-controller.html (the "
                              "add-on includes the CRDs), read 2026-12-06"),)),
    ApiGroup(
        "velero.io", "Velero backups", ("Schedule", "Backup", "Restore", "BackupStorageLocation"),
        installers=(Installer("Velero chart 11.3.2 (crds/, Velero v1.17.1)", HELM_RELEASE, _chart("velero"),
                              "vmware-tanzu/helm-charts charts/velero/crds"),)),
    ApiGroup(
        "external-secrets.io", "External Secrets Operator", ("ExternalSecret", "SecretStore", "ClusterSecretStore"),
        installers=(Installer("external-secrets chart 2.9.0 (installCRDs)", HELM_RELEASE, _chart("external-secrets"),
                              "external-secrets chart values.yaml `installCRDs: true`"),)),
    ApiGroup(
        "keda.sh", "KEDA autoscaling", ("ScaledObject", "TriggerAuthentication"),
        installers=(Installer("keda chart 2.20.2 (crds.install)", HELM_RELEASE, _chart("keda"),
                              "kedacore/charts keda values.yaml `crds.install: true`"),)),
)

_BY_GROUP = {g.group: g for g in REGISTRY}


def api_group(group: str) -> ApiGroup | None:
    return _BY_GROUP.get(group)


def group_of(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


# -- what a chart renders inside its release ----------------------------------------------------
# Custom resources a Helm release creates from its values, which the offline render never shows.


def _velero_objects(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    # velero chart 11.3.2 templates/servicemonitor.yaml:1: rendered when metrics.serviceMonitor.enabled and
    # (not autodetect, or the CRD exists).
    monitor = values.get("metrics", {}).get("serviceMonitor", {})
    return [("monitoring.coreos.com", "ServiceMonitor")] if values.get("metrics", {}).get("enabled") and \
        monitor.get("enabled") else []


CHART_OBJECTS: Mapping[str, Callable[[Mapping[str, Any]], list[tuple[str, str]]]] = {
    "velero": _velero_objects,
}


# -- the check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomObject:
    group: str
    kind: str
    name: str
    resource: Recorded  # the resource that creates it (itself, or the Helm release that renders it)


def _unsecret(value: Any) -> Any:
    from ..offline.engine import is_secret_value

    if is_secret_value(value):
        return _unsecret(value.get("value"))
    if isinstance(value, dict):
        return {k: _unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecret(v) for v in value]
    return value


def custom_objects(run: Run) -> list[CustomObject]:
    """Every custom resource the run creates: rendered objects and those rendered by its Helm releases."""
    from ..offline.render import is_kubernetes_object

    out = []
    for r in run.resources:
        if is_kubernetes_object(r):
            group = group_of(str(r.inputs["apiVersion"]))
            if group not in BUILT_IN_GROUPS:
                out.append(CustomObject(group, str(r.inputs["kind"]), str(r.inputs["metadata"].get("name")), r))
        elif r.type == HELM_RELEASE:
            chart = str(r.inputs.get("chart", "")).rsplit("/", 1)[-1]
            for group, kind in CHART_OBJECTS.get(chart, lambda _v: [])(_unsecret(r.inputs.get("values") or {})):
                out.append(CustomObject(group, kind, f"{r.name} (chart {chart})", r))
    return out


def dependency_closure(run: Run) -> Callable[[Recorded], set[str]]:
    """URNs a resource waits for: its dependencies, transitively, where depending on a component means
    waiting for all of its descendants (Pulumi's dependsOn on a ComponentResource)."""
    by_urn = {r.urn: r for r in run.resources}
    providers = {r.name: r for r in run.resources if r.type.startswith("pulumi:providers:")}
    children: dict[str, list[str]] = {}
    for r in run.resources:
        if r.parent_urn:
            children.setdefault(r.parent_urn, []).append(r.urn)

    def descendants(urn: str) -> Iterable[str]:
        for child in children.get(urn, []):
            yield child
            yield from descendants(child)

    cache: dict[str, set[str]] = {}

    def waits_for(resource: Recorded) -> set[str]:
        if resource.urn in cache:
            return cache[resource.urn]
        cache[resource.urn] = set()
        out: set[str] = set()
        # A resource waits for its provider, and so for what the provider waits for (a cluster's kubeconfig).
        provider = providers.get(resource.provider) if resource.provider else None
        for dep in [*resource.dependencies, *([provider.urn] if provider is not None else [])]:
            out.add(dep)
            out.update(descendants(dep))
        for urn in list(out):
            if urn in by_urn:
                out |= waits_for(by_urn[urn])
        cache[resource.urn] = out
        return out

    return waits_for


def declared_groups(settings: Settings) -> dict[str, str]:
    """Groups the user's config says their cluster serves: group -> the config that says so."""
    monitoring = getattr(settings, "monitoring", None)
    out = {}
    if monitoring is not None and monitoring.mode == "attach":
        out["monitoring.coreos.com"] = "archivist:monitoring.mode attach"
    return out


def missing_apis(run: Run, platform: str, declared: Mapping[str, str] | None = None) -> list[str]:
    """Custom resources whose group is neither served by `platform`, nor installed by a resource of the
    run that they wait for, nor declared present by config. Empty when every custom resource can apply."""
    declared = declared or {}
    waits_for = dependency_closure(run)
    problems = []
    for obj in custom_objects(run):
        entry = api_group(obj.group)
        if entry is None:
            problems.append(f"{obj.kind}/{obj.name}: group {obj.group} is not in the served-API registry "
                            "(archivist_infra/platforms/served_apis.py)")
            continue
        if platform in entry.served or obj.group in declared:
            continue
        installers = [r for r in run.resources if any(i.installs(r) for i in entry.installers)]
        if not installers:
            problems.append(f"{obj.kind}/{obj.name}: {obj.group} is not served on {platform} and nothing in the "
                            f"stack installs it ({', '.join(i.what for i in entry.installers) or 'no installer known'})")
        elif not any(i.urn in waits_for(obj.resource) for i in installers):
            problems.append(f"{obj.kind}/{obj.name}: {obj.group} is installed by {installers[0].name}, "
                            "but the object does not wait for it (dependsOn)")
    return problems


def platform_of(run: Run) -> str:
    """The platform of a recorded run, from its cluster component."""
    components = {"archivist:cluster:LocalCluster": "local", "archivist:cluster:GkeCluster": "gke",
                  "archivist:cluster:EksCluster": "eks", "archivist:cluster:AksCluster": "aks"}
    found = {components[r.type] for r in run.resources if r.type in components}
    if len(found) != 1:
        raise LookupError(f"expected one cluster component, found {sorted(found)}")
    return found.pop()
