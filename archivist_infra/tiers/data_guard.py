"""Stops Pulumi from deleting anything that holds Archivist data unless the user says so.

Replacing a store or the shared claim is a delete followed by a create: a change of
storage class, access mode or namespace would leave the new objects on empty volumes,
and a claim-template change cannot apply to the claims that already exist. Pulumi runs
a `before_delete` hook first, and a failing hook stops the operation, so the hook turns
those changes into an error that says what would happen and how to go ahead on purpose.
(`protect` does the same in production, with Pulumi's generic message.)
"""

from __future__ import annotations

import pulumi

ALLOW_KEY = "archivist:allowDataLoss"


class DataLossRefusedError(Exception):
    pass


def explain(resource_type: str, name: str) -> str:
    kind = resource_type.rsplit(":", 1)[-1]
    consequence = {
        "StatefulSet": "its claims are retained, but a replacement keeps the existing volumes and ignores a "
                       "changed claim template (storage class; for Kafka, a changed controller quorum: see "
                       "docs/data-safety.md, 'Kafka broker count'). A bigger storage.size never replaces it: "
                       "the claims grow in place",
        "PersistentVolumeClaim": "its volume (the workers' papers and reports) would be deleted",
        "Namespace": "every claim in it, and so every store's data, would be deleted",
    }.get(kind, "its data would be lost")
    return (
        f"refusing to delete {kind} '{name}': {consequence}. This happens when a change replaces it "
        "(storage class, access mode, namespace, claim template) or on destroy. If it is intended, back up "
        f"the data, then `pulumi config set {ALLOW_KEY} true` and run the operation again "
        "(`pulumi destroy --run-program` for a destroy)."
    )


def _refuse(args: pulumi.ResourceHookArgs) -> None:
    raise DataLossRefusedError(explain(args.type, args.name))


def data_guard(*, allow_data_loss: bool) -> pulumi.ResourceHookBinding | None:
    """The hook binding for data-bearing resources; None when the user allows data loss."""
    if allow_data_loss:
        return None
    hook = pulumi.ResourceHook("archivist-data-guard", _refuse)
    return pulumi.ResourceHookBinding(before_delete=[hook])
