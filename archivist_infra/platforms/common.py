"""Config parsing and kubeconfig helpers every platform module shares (no cloud SDK here)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pulumi

from ..config.quantity import parse_quantity
from ..config.reader import ConfigReader

_CLASS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
RECLAIM_POLICIES = ("Retain", "Delete")


@dataclass(frozen=True)
class StorageClassConfig:
    """`storageClasses`: names of existing classes to use instead of creating ours."""

    read_write_once: str | None
    read_write_many: str | None
    # None: follow `archivist:protect` (see `reclaim_policy_for`).
    reclaim_policy: str | None = None


def parse_storage_classes(reader: ConfigReader) -> StorageClassConfig:
    section = reader.section("storageClasses")
    rwo = section.string("readWriteOnce", "", pattern=_CLASS_NAME, hint="give a StorageClass name") or None
    rwx = section.string("readWriteMany", "", pattern=_CLASS_NAME, hint="give a StorageClass name") or None
    reclaim: str | None = section.choice("reclaimPolicy", None, RECLAIM_POLICIES)
    section.reject_unknown()
    return StorageClassConfig(rwo, rwx, reclaim)


def reclaim_policy_for(config: StorageClassConfig, *, protect: bool) -> str:
    """Retain only where the stack protects its data: a Retained volume outlives `pulumi destroy`
    unseen by Pulumi and keeps billing (and a CSI-created Filestore instance keeps its VPC peering,
    so the VPC delete fails). A protected stack never destroys its stores, so Retain costs nothing
    there and saves data from a deleted claim."""
    return config.reclaim_policy or ("Retain" if protect else "Delete")


# -- control-plane access -------------------------------------------------------------------

OPEN_TO_INTERNET = "0.0.0.0/0"


def parse_api_access(reader: ConfigReader, *, create: bool) -> tuple[str, ...]:
    """`apiAccess.allowedCidrs`: who may reach the cluster's API server (GKE master authorized networks,
    EKS public endpoint CIDRs, AKS authorized IP ranges). There is no open default: `pulumi up` itself talks
    to the API server, so the deployer's address (or CI's egress range) must be in the list, and the
    message says how to add it. `0.0.0.0/0` is accepted as an explicit choice."""
    section = reader.section("apiAccess")
    cidrs = tuple(section.string_list("allowedCidrs"))
    for cidr in cidrs:
        try:
            net = ipaddress.ip_network(cidr)
        except ValueError:
            section.problems.add(section.key("allowedCidrs"), f"{cidr!r} is not a CIDR block such as '203.0.113.7/32'")
            continue
        if net.version != 4:
            section.problems.add(section.key("allowedCidrs"), f"{cidr!r}: the managed clusters accept IPv4 ranges only")
    section.reject_unknown()
    if create and not cidrs:
        key = section.key("allowedCidrs")
        section.problems.add(
            key,
            "is required: the addresses allowed to reach the cluster's API server (pulumi up itself needs it). "
            f"Add yours with `pulumi config set --path '{key}[0]' \"$(curl -s https://checkip.amazonaws.com)/32\"` "
            "(and your CI's egress range), or give '0.0.0.0/0' to leave the API server open to the internet",
        )
    return cidrs


# -- interruptible (spot) capacity ------------------------------------------------------------

POOL_LABEL = "archivist.io/pool"
SPOT_POOL = "spot"


def interruptible_pod_fields(taint: Mapping[str, str]) -> dict[str, Any]:
    """Pod-spec fields that let a pod run on the spot pool (tolerating its taint) and prefer it, so
    the spot pool carries the interruptible work and the on-demand pools need not."""
    return {
        "tolerations": [{"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "preference": {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": [SPOT_POOL]}]},
        }]}},
    }


def split_across_zones(total: int, zones: int) -> list[int]:
    """`total` nodes as per-zone counts that add up to exactly `total` (the first zones take the remainder),
    so per-zone pools together have the minimum `capacity` prints, not `zones` times it."""
    base, extra = divmod(total, zones)
    return [base + (1 if i < extra else 0) for i in range(zones)]


def zone_count_nodes(total: int, zones: int) -> int:
    """Per-zone node count that gives at least `total` nodes across `zones` zones."""
    return max(1, -(-total // max(zones, 1)))


def required_string(reader: ConfigReader, name: str, what: str, example: str, *, pattern: re.Pattern[str] | None = None) -> str:
    """A key the platform cannot work without; the message says exactly how to set it."""
    if not reader.has(name):
        reader.raw(name)
        reader.problems.add(
            reader.key(name),
            f"is required: the {what}; set it with `pulumi config set --path {reader.key(name)} {example}`",
        )
        return ""
    return reader.string(name, "", pattern=pattern)


def parse_node_shape(
    reader: ConfigReader, machine_type: str, table: Mapping[str, tuple[Decimal, Decimal]], machine_key: str
) -> tuple[Decimal, Decimal] | None:
    """Allocatable cpu/memory of a workload node: explicit `nodeCpu`/`nodeMemory`, else the table."""
    cpu_text = reader.quantity("nodeCpu", "", what="cpu", example="4") if reader.has("nodeCpu") else None
    mem_text = reader.quantity("nodeMemory", "", what="memory", example="13Gi") if reader.has("nodeMemory") else None
    cpu = parse_quantity(cpu_text) if cpu_text else None
    mem = parse_quantity(mem_text) if mem_text else None
    known = table.get(machine_type)
    if cpu is not None and mem is not None:
        return cpu, mem
    if known is not None:
        return cpu or known[0], mem or known[1]
    if machine_type:
        reader.problems.add(
            reader.key(machine_key),
            f"{machine_type!r} is not in the table of known machine types ({', '.join(sorted(table))}); "
            f"also set {reader.key('nodeCpu')} and {reader.key('nodeMemory')} to its allocatable cpu and memory",
        )
    return None


def exec_kubeconfig(
    *, name: str, server: str, ca_data: str, command: str, args: Sequence[str], env: Mapping[str, str] | None = None,
    install_hint: str = "",
) -> str:
    """A kubeconfig whose user runs a credential plugin, so no long-lived token sits in state."""
    exec_spec: dict[str, object] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": command,
        "args": list(args),
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }
    if env:
        exec_spec["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if install_hint:
        exec_spec["installHint"] = install_hint
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        # No CA data: the server presents a publicly trusted certificate (GKE's DNS-based endpoint).
        "clusters": [{"name": name, "cluster": {"server": server, **({"certificate-authority-data": ca_data}
                                                                      if ca_data else {})}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [{"name": name, "user": {"exec": exec_spec}}],
    }
    # JSON is YAML, and json.dumps cannot produce an indentation mistake.
    return json.dumps(doc, indent=2)


def secret_kubeconfig(parts: Sequence[pulumi.Input[str]], render: Callable[[list[str]], str]) -> pulumi.Output[str]:
    """A kubeconfig rendered from cluster outputs, always secret (it names the cluster and its CA)."""
    rendered: pulumi.Output[str] = pulumi.Output.all(*parts).apply(lambda values: render([str(v) for v in values]))
    return pulumi.Output.secret(rendered)


def under_mock_engine() -> bool:
    """True when the program runs under Pulumi's mock engine (offline render/graph, tests): code that
    would call a cloud endpoint directly, outside a provider, must not leave the machine then."""
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    return isinstance(get_monitor(), MockMonitor)


def child(parent: pulumi.Resource, *, protect: bool = False, **kwargs: object) -> pulumi.ResourceOptions:
    """Options for a child of a platform component."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, **kwargs)  # type: ignore[arg-type]
