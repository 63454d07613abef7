"""`ops backup` and `ops restore`: Velero objects made and followed through the Kubernetes API.

Contract with the stack (data branch): Velero runs in namespace `velero`, with a Schedule
`<namespace>-daily` whose `spec.template` is the backup spec of the stack's namespace.
- backup: a `velero.io/v1 Backup` made from that template the way `velero backup create
  --from-schedule` makes it (velero v1.17.1 pkg/builder/backup_builder.go FromSchedule: the
  template's labels, else the Schedule's, plus `velero.io/schedule-name`; the Schedule's
  annotations), labelled `archivist.io/namespace: <ns>`, followed to Completed, PartiallyFailed
  or Failed.
- restore: a `Restore` from `--from NAME`, default the newest Completed backup of the namespace,
  optionally mapped into another namespace (`--into`) for a drill, followed the same way. A drill
  leaves out autoscalers, batch, routes and monitoring (DRILL_EXCLUDED) and rewrites every address of
  the source namespace through a Velero resource modifier (address_rewrites).
Phases are the CRDs' enums (tests/crds/velero-v1.17.1/velero.io_backups.yaml, _restores.yaml).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .context import FIELD_MANAGER, Ops
from .errors import OpsError, api_message
from .follow import Seen, follow

GROUP, VERSION = "velero.io", "v1"
VELERO_NS = "velero"
NS_LABEL = "archivist.io/namespace"
SCHEDULE_LABEL = "velero.io/schedule-name"
BACKUP_FINAL = {"Completed", "PartiallyFailed", "Failed", "FailedValidation"}
RESTORE_FINAL = {"Completed", "PartiallyFailed", "Failed", "FailedValidation"}


def schedule_name(namespace: str) -> str:
    return f"{namespace}-daily"


def _get(ops: Ops, plural: str, name: str) -> dict[str, Any]:
    from kubernetes.client.exceptions import ApiException

    try:
        return dict(ops.custom.get_namespaced_custom_object(GROUP, VERSION, VELERO_NS, plural, name))
    except ApiException as err:
        if err.status == 404:
            raise _missing(ops, plural, name, err) from None
        raise


def _missing(ops: Ops, plural: str, name: str, err: Any) -> OpsError:
    if "the server could not find the requested resource" in api_message(err) or not _velero_installed(ops):
        return OpsError("Velero is not installed on this cluster (no velero.io/v1 API): turn backups on in the "
                        "stack's config and run `pulumi up`")
    what = {"schedules": "Schedule", "backups": "Backup", "restores": "Restore"}[plural]
    hint = (" (backups are off for this stack, or it has not been deployed with them)"
            if plural == "schedules" else "")
    return OpsError(f"no Velero {what} {VELERO_NS}/{name}{hint}")


def _velero_installed(ops: Ops) -> bool:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        client.CustomObjectsApi(ops.api).list_namespaced_custom_object(GROUP, VERSION, VELERO_NS, "schedules", limit=1)
        return True
    except ApiException:
        return False


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")


def backup_from_schedule(schedule: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    template = dict(schedule.get("spec", {}).get("template") or {})
    meta = schedule.get("metadata", {})
    template_labels = (template.get("metadata") or {}).get("labels")
    labels = dict(template_labels if template_labels is not None else (meta.get("labels") or {}))
    labels[SCHEDULE_LABEL] = meta["name"]
    labels[NS_LABEL] = namespace
    metadata: dict[str, Any] = {"name": name, "namespace": VELERO_NS, "labels": labels}
    if meta.get("annotations"):
        metadata["annotations"] = dict(meta["annotations"])
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Backup", "metadata": metadata, "spec": template}


def _seen(obj: dict[str, Any], count: str) -> Seen:
    st = obj.get("status") or {}
    progress = st.get("progress") or {}
    detail = st.get("failureReason") or "; ".join(st.get("validationErrors") or [])
    return Seen(st.get("phase") or "New", progress.get(count), progress.get("totalItems"), last=detail)


def _finish(ops: Ops, kind: str, name: str, seen: Seen, timeout: float, extra: dict[str, Any]) -> int:
    plural = kind.lower() + "s"
    result = {"kind": kind, "name": name, "namespace": VELERO_NS, "phase": seen.phase,
              "items": seen.done, "totalItems": seen.total, **extra}
    if ops.out.json:
        ops.out.emit(result)
    elif seen.phase == "Completed":
        ops.out.console.print(f"{kind} {name} Completed ({seen.done or 0}/{seen.total or 0} items)", markup=False)
    elif seen.phase == "Timeout":
        ops.out.console.print(f"{kind} {name} is still {seen.last or 'New'} after {timeout:.0f} s; Velero goes on: "
                              f"`kubectl -n {VELERO_NS} get {plural} {name} -w`", markup=False)
    else:
        why = f": {seen.last}" if seen.last else ""
        ops.out.console.print(f"{kind} {name} ended {seen.phase}{why}. Details: "
                              f"`kubectl -n {VELERO_NS} get {plural} {name} -o yaml` or `velero {kind.lower()} "
                              f"describe {name} --details`", markup=False)
    return 0 if seen.phase == "Completed" else 1


def backup(ops: Ops, *, timeout: float = 3600, wait: bool = True, now: datetime | None = None) -> int:
    ns = ops.namespace
    schedule = _get(ops, "schedules", schedule_name(ns))
    name = f"{ns}-manual-{_stamp(now)}"
    body = backup_from_schedule(schedule, ns, name)
    ops.custom.create_namespaced_custom_object(GROUP, VERSION, VELERO_NS, "backups", body, field_manager=FIELD_MANAGER)
    ops.out.say(f"Backup {VELERO_NS}/{name} created from Schedule {VELERO_NS}/{schedule_name(ns)}")
    if not wait:
        if ops.out.json:
            ops.out.emit({"kind": "Backup", "name": name, "namespace": VELERO_NS, "phase": "New"})
        return 0
    seen = follow(ops, f"backup {name}", lambda: _seen(_get(ops, "backups", name), "itemsBackedUp"),
                  BACKUP_FINAL, timeout)
    return _finish(ops, "Backup", name, seen, timeout, {})


def _created(obj: dict[str, Any]) -> str:
    st = obj.get("status") or {}
    return str(st.get("completionTimestamp") or st.get("startTimestamp") or obj["metadata"].get("creationTimestamp") or "")


def newest_completed_backup(ops: Ops) -> str:
    ns = ops.namespace
    found: dict[str, dict[str, Any]] = {}
    for selector in (f"{NS_LABEL}={ns}", f"{SCHEDULE_LABEL}={schedule_name(ns)}"):
        listed = ops.custom.list_namespaced_custom_object(GROUP, VERSION, VELERO_NS, "backups", label_selector=selector)
        for item in listed.get("items", []):
            found[item["metadata"]["name"]] = item
    done = [b for b in found.values() if (b.get("status") or {}).get("phase") == "Completed"]
    if not done:
        raise OpsError(f"no Completed backup of namespace {ns} in {VELERO_NS} "
                       f"({len(found)} backups, none Completed): make one with `ops backup`, or name one with --from")
    return str(max(done, key=lambda b: (_created(b), b["metadata"]["name"]))["metadata"]["name"])


# What a drill leaves out (audit D10): what scales or schedules on its own (autoscalers, the batch
# CronJob and its Jobs), what reaches outside the namespace or claims a public name (routes, gateways,
# ingresses), what watches the live monitoring, and what would sync Secrets over the restored ones.
DRILL_EXCLUDED = (
    "horizontalpodautoscalers.autoscaling", "scaledobjects.keda.sh", "cronjobs.batch", "jobs.batch",
    "httproutes.gateway.networking.k8s.io", "gateways.gateway.networking.k8s.io", "ingresses.networking.k8s.io",
    "podmonitors.monitoring.coreos.com", "probes.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com",
    "servicemonitors.monitoring.coreos.com", "podmonitorings.monitoring.googleapis.com",
    "externalsecrets.external-secrets.io", "secretstores.external-secrets.io", "events", "events.events.k8s.io",
)
MODIFIERS_KEY = "resource-modifiers.yaml"


def _pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")  # RFC 6901


def address_rewrites(ops: Ops, source: str, target: str) -> list[dict[str, Any]]:
    """Velero resource-modifier rules that move every in-cluster address from `source` to `target`.

    The stores' peers and the apps' clients name `<svc>.<namespace>.svc.cluster.local` in env values,
    commands and config files (Kafka's voters, Qdrant's bootstrap URI, NEO4J_URI, QDRANT_URL, the
    worker's config.yaml). Restored unchanged into a drill namespace they would reach the live stores
    or never form a cluster (audit D10). Read from the live objects of `source`, so the paths are exact.
    """
    old, new = f".{source}.svc", f".{target}.svc"
    rules: list[dict[str, Any]] = []

    def rule(group_resource: str, name: str, patches: list[dict[str, Any]]) -> None:
        if patches:
            rules.append({"conditions": {"groupResource": group_resource, "resourceNameRegex": f"^{name}$"},
                          "patches": patches})

    workloads = [("statefulsets.apps", o) for o in ops.apps.list_namespaced_stateful_set(source).items]
    workloads += [("deployments.apps", o) for o in ops.apps.list_namespaced_deployment(source).items]
    for group_resource, obj in workloads:
        spec = ops.plain(obj)["spec"]["template"]["spec"]
        patches = []
        for field in ("initContainers", "containers"):
            for i, c in enumerate(spec.get(field) or []):
                for j, env in enumerate(c.get("env") or []):
                    value = env.get("value")
                    if isinstance(value, str) and old in value:
                        patches.append({"operation": "replace", "path": f"/spec/template/spec/{field}/{i}/env/{j}/value",
                                        "value": value.replace(old, new)})
                for key in ("command", "args"):
                    for j, value in enumerate(c.get(key) or []):
                        if isinstance(value, str) and old in value:
                            patches.append({"operation": "replace", "path": f"/spec/template/spec/{field}/{i}/{key}/{j}",
                                            "value": value.replace(old, new)})
        rule(group_resource, obj.metadata.name, patches)
    for cm in ops.core.list_namespaced_config_map(source).items:
        patches = [{"operation": "replace", "path": f"/data/{_pointer(k)}", "value": v.replace(old, new)}
                   for k, v in sorted((cm.data or {}).items()) if old in v]
        rule("configmaps", cm.metadata.name, patches)
    return rules


def modifiers_configmap(name: str, rules: list[dict[str, Any]], into: str) -> dict[str, Any]:
    import yaml

    document = {"version": "v1", "resourceModifierRules": rules}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": VELERO_NS, "labels": {NS_LABEL: into}},
            "data": {MODIFIERS_KEY: yaml.safe_dump(document, sort_keys=False)}}


def restore_body(ops: Ops, backup_name: str, name: str, into: str | None,
                 modifiers: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"backupName": backup_name, "includedNamespaces": [ops.namespace]}
    if into:
        spec["namespaceMapping"] = {ops.namespace: into}
        spec["excludedResources"] = list(DRILL_EXCLUDED)
        if modifiers:
            spec["resourceModifier"] = {"kind": "ConfigMap", "name": modifiers}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Restore",
            "metadata": {"name": name, "namespace": VELERO_NS, "labels": {NS_LABEL: into or ops.namespace}},
            "spec": spec}


def restore(ops: Ops, *, source: str | None = None, into: str | None = None, timeout: float = 3600,
            wait: bool = True, yes: bool = False, now: datetime | None = None) -> int:
    if source:
        phase = (_get(ops, "backups", source).get("status") or {}).get("phase")
        if phase not in ("Completed", "PartiallyFailed"):
            raise OpsError(f"backup {source} is {phase or 'New'}: only a Completed (or PartiallyFailed) backup restores")
        backup_name = source
    else:
        backup_name = newest_completed_backup(ops)
    if into == ops.namespace:
        into = None
    name = f"{backup_name}-restore-{_stamp(now)}"[:253]
    modifiers = None
    if into:
        rules = address_rewrites(ops, ops.namespace, into)
        if rules:
            modifiers = f"{name}-addresses"[:253]
            ops.core.create_namespaced_config_map(VELERO_NS, modifiers_configmap(modifiers, rules, into),
                                                  field_manager=FIELD_MANAGER)
            ops.out.say(f"ConfigMap {VELERO_NS}/{modifiers}: {len(rules)} object(s) get their addresses moved from "
                        f"namespace {ops.namespace} to {into}. Secrets are restored as backed up: where one holds "
                        f"an address (redis-auth REDIS_URL), fix it in {into} (docs/data-safety-ops.md, restore drill).")
    body = restore_body(ops, backup_name, name, into, modifiers)
    if into is None and not yes:
        ops.out.say(f"plan: restore backup {backup_name} into the live namespace {ops.namespace}: objects missing "
                    "there are re-created from the backup, with their volumes' data as it was then; objects that "
                    "exist are left as they are. Nothing changed; run again with --yes to do it, or rehearse with "
                    f"--into {ops.namespace}-drill.")
        if ops.out.json:
            ops.out.emit({"kind": "Restore", "backup": backup_name, "into": ops.namespace, "done": False})
        return 0
    ops.custom.create_namespaced_custom_object(GROUP, VERSION, VELERO_NS, "restores", body, field_manager=FIELD_MANAGER)
    target = into or ops.namespace
    ops.out.say(f"Restore {VELERO_NS}/{name} created: backup {backup_name} into namespace {target}"
                + ("" if into else " (objects that still exist there are left as they are: Velero does not "
                   "overwrite them; restore into an empty or deleted namespace)"))
    if not wait:
        if ops.out.json:
            ops.out.emit({"kind": "Restore", "name": name, "namespace": VELERO_NS, "phase": "New",
                          "backup": backup_name, "into": target})
        return 0
    seen = follow(ops, f"restore {name}", lambda: _seen(_get(ops, "restores", name), "itemsRestored"),
                  RESTORE_FINAL, timeout)
    return _finish(ops, "Restore", name, seen, timeout, {"backup": backup_name, "into": target})
