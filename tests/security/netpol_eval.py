"""A small, independent evaluator of NetworkPolicy semantics over rendered manifests.

It reads only the manifests (never the code that generated them), so a wrong selector,
a missing policy type or a port on the wrong side shows up as a refused or allowed
connection. Semantics (networking.k8s.io/v1): a pod is isolated for a direction when a
policy selecting it lists that direction in policyTypes; an isolated pod accepts a
connection only if some rule of some such policy allows it; a connection needs both the
source's egress and the destination's ingress to allow it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    ip: str
    namespace: str | None = None  # None: outside the cluster (no labels, only ipBlock matches)
    labels: Mapping[str, str] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_pod(self) -> bool:
        return self.namespace is not None


def selector_matches(selector: Obj | None, labels: Mapping[str, str]) -> bool:
    """A label selector; an empty one matches everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _peer_matches(peer: Obj, other: Endpoint, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(other.ip)
        if ip not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(ip in ipaddress.ip_network(cidr) for cidr in block.get("except") or [])
    if not other.is_pod:
        return False  # selectors only ever match pods
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False  # a bare podSelector means the policy's own namespace
    return "podSelector" not in peer or selector_matches(peer["podSelector"], other.labels)


def _port_matches(ports: list[Obj] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True  # no ports: every port
    for p in ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        if "port" not in p:
            return True
        if not isinstance(p["port"], int):
            raise AssertionError(f"named port {p['port']!r}: this evaluator only resolves numbers")
        if p["port"] <= port <= p.get("endPort", p["port"]):
            return True
    return False


def _allows(policies: list[Obj], pod: Endpoint, other: Endpoint, port: int, protocol: str, direction: str) -> bool:
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [
        p for p in policies
        if p["metadata"].get("namespace") == pod.namespace
        and selector_matches(p["spec"].get("podSelector"), pod.labels)
        and direction in p["spec"].get("policyTypes", ["Ingress"])
    ]
    if not selecting:
        return True  # not isolated in this direction
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(_peer_matches(peer, other, policy["metadata"]["namespace"]) for peer in peers)
            if peer_ok and _port_matches(rule.get("ports"), port, protocol):
                return True
    return False


def allowed(policies: list[Obj], src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
    egress_ok = not src.is_pod or _allows(policies, src, dst, port, protocol, "Egress")
    ingress_ok = not dst.is_pod or _allows(policies, dst, src, port, protocol, "Ingress")
    return egress_ok and ingress_ok


def network_policies(objects: list[Obj]) -> list[Obj]:
    return [o for o in objects if o["kind"] == "NetworkPolicy"]


def workload_pods(objects: list[Obj]) -> dict[str, Endpoint]:
    """One pod per Deployment/StatefulSet/CronJob/Job, labelled as its template says, keyed by app name."""
    pods: dict[str, Endpoint] = {}
    for i, obj in enumerate(o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "CronJob", "Job")):
        spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
        labels = spec["template"]["metadata"]["labels"]
        ns = obj["metadata"]["namespace"]
        pods[labels["app.kubernetes.io/name"]] = Endpoint(
            name=labels["app.kubernetes.io/name"], ip=f"10.8.0.{i + 10}", namespace=ns, labels=labels,
            namespace_labels={"kubernetes.io/metadata.name": ns},
        )
    return pods


def pod_in(namespace: str, name: str, labels: Mapping[str, str] | None = None, ip: str = "10.9.0.5") -> Endpoint:
    return Endpoint(name=name, ip=ip, namespace=namespace, labels=dict(labels or {"app": name}),
                    namespace_labels={"kubernetes.io/metadata.name": namespace})


KUBE_DNS = pod_in("kube-system", "kube-dns", {"k8s-app": "kube-dns"}, ip="10.96.0.10")
INTERNET = Endpoint(name="internet", ip="142.250.74.106")  # generativelanguage.googleapis.com
METADATA = Endpoint(name="metadata", ip="169.254.169.254")
PRIVATE = Endpoint(name="private", ip="192.168.1.20")
