"""The `networkPolicy` and `quota` sections: the namespace's isolation and resource ceiling."""

from __future__ import annotations

from dataclasses import dataclass

from .reader import ConfigReader

# Where the common ingress/gateway controllers run: their pods are the only callers of the
# public services from outside the namespace (Envoy Gateway / GKE Gateway, Traefik, and the
# add-on controllers some distributions put in kube-system).
DEFAULT_INGRESS_NAMESPACES: tuple[str, ...] = ("gateway-system", "traefik", "ingress-nginx", "kube-system")


@dataclass(frozen=True)
class NetworkPolicySettings:
    enabled: bool = True
    ingress_controller_namespaces: tuple[str, ...] = DEFAULT_INGRESS_NAMESPACES


@dataclass(frozen=True)
class QuotaSettings:
    enabled: bool = True


@dataclass(frozen=True)
class SecuritySettings:
    network_policy: NetworkPolicySettings = NetworkPolicySettings()
    quota: QuotaSettings = QuotaSettings()


def parse_security(root: ConfigReader) -> SecuritySettings:
    """Reads both sections from the root reader; problems go to the root's collector."""
    net = root.section("networkPolicy")
    enabled = net.boolean("enabled", True)
    namespaces: tuple[str, ...] = DEFAULT_INGRESS_NAMESPACES
    if net.has("ingressControllerNamespaces"):
        names = net.string_list("ingressControllerNamespaces")
        bad = [n for n in names if not _is_dns_label(n)]
        if bad:
            net.problems.add(
                net.key("ingressControllerNamespaces"),
                f"{', '.join(repr(b) for b in bad)} {'is' if len(bad) == 1 else 'are'} not valid namespace names",
            )
        elif names or net.raw("ingressControllerNamespaces") == []:
            # An explicit empty list is allowed: nothing outside the namespace may call in.
            namespaces = tuple(dict.fromkeys(names))
    net.reject_unknown()

    quota = root.section("quota")
    quota_enabled = quota.boolean("enabled", True)
    quota.reject_unknown()
    return SecuritySettings(
        network_policy=NetworkPolicySettings(enabled=enabled, ingress_controller_namespaces=namespaces),
        quota=QuotaSettings(enabled=quota_enabled),
    )


def _is_dns_label(name: str) -> bool:
    import re

    return len(name) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) is not None
