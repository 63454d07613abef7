"""External Secrets Operator, Reloader, and the SecretStore/ExternalSecret of the app Secret.

The SecretStore is namespaced and authenticates as a ServiceAccount of the stack's namespace
(ESO's "referenced service account": the controller itself holds no cloud rights; see
external-secrets docs/provider/azure-key-vault.md:117-120 at v2.9.0). Only that account is
bound, through workload identity, to read exactly the entries this stack created.

Rotation: ESO re-reads the entries every `secrets.refreshInterval` and rewrites the Secret;
Reloader, watching only the stack's namespace, rolls the Deployments annotated with
`secret.reloader.stakater.com/reload: <secret>` (Reloader README.md:133 at chart-v2.2.16).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs

from ..config.secrets import SecretStoreSettings
from ..config.settings import Settings
from ..tiers.context import TierContext
from ..tiers.pods import Spec
from ..tiers.secrets import Published, SecretKey
from .cloud import CloudStore, Entry, Reader, remote_name

# external-secrets/external-secrets tag helm-chart-2.9.0: deploy/charts/external-secrets/Chart.yaml (appVersion v2.9.0)
ESO_CHART = "external-secrets"
ESO_CHART_VERSION = "2.9.0"
ESO_REPO = "https://charts.external-secrets.io"
ESO_NAMESPACE = "external-secrets"
# stakater/Reloader tag chart-v2.2.16: deployments/kubernetes/chart/reloader/Chart.yaml (appVersion v1.4.21)
RELOADER_CHART = "reloader"
RELOADER_CHART_VERSION = "2.2.16"
RELOADER_REPO = "https://stakater.github.io/stakater-charts"
RELOADER_NAMESPACE = "reloader"
RELOAD_ANNOTATION = "secret.reloader.stakater.com/reload"

READER_ACCOUNT = "archivist-secret-reader"
STORE_NAME = "archivist-secret-manager"
API_VERSION = "external-secrets.io/v1"

_SMALL = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
_RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
               "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def eso_values() -> dict[str, Any]:
    """Chart values (keys checked against deploy/charts/external-secrets/values.yaml at helm-chart-2.9.0).

    Only namespaced SecretStores and ExternalSecrets are served: the cluster-wide kinds and push
    secrets are neither installed nor processed, so no other namespace can borrow a store."""
    return {
        "installCRDs": True,
        "crds": {"createClusterExternalSecret": False, "createClusterSecretStore": False,
                 "createClusterPushSecret": False, "createPushSecret": False},
        "processClusterExternalSecret": False,
        "processClusterStore": False,
        "processClusterPushSecret": False,
        "processPushSecret": False,
        "resources": _SMALL,
        "webhook": {"resources": _SMALL},
        "certController": {"resources": _SMALL},
    }


def reloader_values(namespace: str) -> dict[str, Any]:
    """Chart values (deployments/kubernetes/chart/reloader/values.yaml at chart-v2.2.16): watch only the
    stack's namespace (a namespaced Role, no ClusterRole), and restart by a pod-template annotation
    so the env Pulumi applies is never rewritten."""
    return {
        "reloader": {
            "watchGlobally": False,
            "namespaces": [namespace],
            "reloadStrategy": "annotations",
            "ignoreConfigMaps": True,  # ConfigMap changes already roll out through the config checksum
            "readOnlyRootFileSystem": True,
            "deployment": {
                "resources": {"requests": {"cpu": "10m", "memory": "64Mi"},
                              "limits": {"cpu": "100m", "memory": "256Mi"}},
                "containerSecurityContext": {k: v for k, v in _RESTRICTED.items() if k != "runAsNonRoot"},
            },
        },
    }


def secret_store_spec(provider: dict[str, Any]) -> Spec:
    return {"provider": provider}


def external_secret_spec(store: SecretStoreSettings, secret_name: str, keys: Sequence[SecretKey],
                         remote: dict[str, str], labels: dict[str, str]) -> Spec:
    """Stored keys come from their entries; derived keys are templated from them, so rotating the
    Neo4j password is one entry and NEO4J_AUTH follows."""
    derived = {k.key: f"{k.derived[0]}{{{{ .{k.derived[1]} }}}}" for k in keys if k.derived is not None}
    template: Spec = {"engineVersion": "v2", "type": "Opaque", "metadata": {"labels": labels}}
    if derived:
        template["mergePolicy"] = "Merge"  # templated keys are added to the fetched ones
        template["data"] = derived
    return {
        "refreshInterval": store.refresh_interval,
        "secretStoreRef": {"kind": "SecretStore", "name": STORE_NAME},
        "target": {"name": secret_name, "creationPolicy": "Owner", "deletionPolicy": "Retain", "template": template},
        "data": [{"secretKey": k.key, "remoteRef": {"key": remote[k.key]}} for k in keys if k.derived is None],
    }


def _cloud_module(platform: str) -> Any:
    return importlib.import_module(f"{__package__}.{platform}")


class ExternalSecrets(pulumi.ComponentResource):
    published: Published

    def __init__(self, name: str, ctx: TierContext, settings: Settings, *, secret_name: str,
                 keys: Sequence[SecretKey], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:secrets:ExternalSecrets", name, None, opts)
        cloud = ctx.target.cloud
        if cloud is None:
            raise ValueError(f"secrets.backend {settings.secrets.backend!r} needs a cloud cluster")
        store: SecretStoreSettings = settings.secrets
        reader = Reader(settings.namespace, READER_ACCOUNT)
        stored = [k for k in keys if k.derived is None]
        entries = [Entry(k.key, remote_name(settings.project, settings.stack, k.key), k.value)  # type: ignore[arg-type]
                   for k in stored]

        operator = self._chart(ctx, "external-secrets", ESO_CHART, ESO_CHART_VERSION, ESO_REPO, ESO_NAMESPACE,
                               eso_values())
        self._chart(ctx, "reloader", RELOADER_CHART, RELOADER_CHART_VERSION, RELOADER_REPO, RELOADER_NAMESPACE,
                    reloader_values(settings.namespace))

        backend: CloudStore = _cloud_module(cloud.platform).create_store(
            self, cloud, settings, store, entries, reader)
        labels = ctx.labels("archivist", "secrets")
        account = k8s.core.v1.ServiceAccount(
            f"{name}-reader",
            metadata={"name": reader.name, "namespace": ctx.namespace, "labels": labels,
                      "annotations": backend.account_annotations},
            automount_service_account_token=False,  # ESO requests tokens for it; no pod runs as it
            opts=ctx.opts(self),
        )
        secret_store = k8s.apiextensions.CustomResource(
            f"{name}-store",
            api_version=API_VERSION,
            kind="SecretStore",
            metadata={"name": STORE_NAME, "namespace": ctx.namespace, "labels": labels},
            spec=secret_store_spec(backend.provider),
            opts=ctx.opts(self, depends_on=[operator, account, *backend.resources]),
        )
        external = k8s.apiextensions.CustomResource(
            f"{name}-secret",
            api_version=API_VERSION,
            kind="ExternalSecret",
            metadata={"name": secret_name, "namespace": ctx.namespace, "labels": labels},
            spec=external_secret_spec(store, secret_name, keys, {e.key: e.remote for e in entries}, labels),
            opts=ctx.opts(self, depends_on=[secret_store]),
        )
        # The workloads reference the Secret only once its ExternalSecret exists.
        produced = external.id.apply(lambda _: secret_name)
        self.published = Published(produced, {RELOAD_ANNOTATION: secret_name})
        self.register_outputs({"secret_name": produced, "store": STORE_NAME})

    def _chart(self, ctx: TierContext, release: str, chart: str, version: str, repo: str, namespace: str,
               values: dict[str, Any]) -> Release:
        return Release(
            f"{release}-chart",
            ReleaseArgs(name=release, chart=chart, version=version, namespace=namespace, create_namespace=True,
                        repository_opts=RepositoryOptsArgs(repo=repo), values=values, atomic=True),
            opts=ctx.target.options(parent=self, depends_on=list(ctx.target.ready)),
        )
