"""The application Secret's values in the cloud's secret manager, read in by External Secrets Operator.

`publisher(settings)` returns None for the Pulumi-managed Kubernetes Secret (local stacks, or
`secrets.backend: kubernetes`); otherwise a `Publisher` for `tiers.secrets.AppSecrets` that
creates the secret-manager entries, the workload-identity binding, the operator and the
`SecretStore`/`ExternalSecret` producing the same Secret. The cloud SDK of the stack's platform
is imported only when that platform's entries are created (gke.py, eks.py, aks.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from ..config.secrets import SecretStoreSettings
from ..config.settings import Settings
from ..tiers.context import TierContext
from ..tiers.secrets import Published, Publisher, SecretKey


def publisher(settings: Settings) -> Publisher | None:
    store: SecretStoreSettings | None = settings.secrets
    if store is None or not store.external:
        return None

    def publish(parent: pulumi.Resource, ctx: TierContext, name: str, secret_name: str,
                keys: Sequence[SecretKey]) -> Published:
        from .external import ExternalSecrets

        component = ExternalSecrets(f"{name}-external", ctx, settings, secret_name=secret_name, keys=keys,
                                    opts=pulumi.ResourceOptions(parent=parent))
        return component.published

    return publish


__all__ = ["publisher"]
