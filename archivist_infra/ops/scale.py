"""`ops scale`: change an autoscaler's bounds, pin it, or pause and resume it.

The stack's Deployments are sized by their HorizontalPodAutoscaler (or a KEDA ScaledObject),
so setting `replicas` on the Deployment, as the guide's `k8s-manage.sh scale` did, is undone
by the autoscaler within seconds. `ops scale` changes the autoscaler instead:
- `--min/--max`: new bounds;
- `--replicas N`: pin (min = max = N), the guide's `scale archivist-worker 10`;
- `--pause`: pin at the current count and remember the bounds in an annotation; `--resume`
  puts them back. (An HPA has no pause switch; a ScaledObject gets KEDA's paused-replicas.)
These are live edits of objects Pulumi owns: they last until the next `pulumi up` that updates
the autoscaler, which sets the bounds back to `archivist:<app>.autoscaling`.
"""

from __future__ import annotations

import json
from typing import Any

from .context import FIELD_MANAGER, Ops
from .errors import OpsError
from .status import KEDA

PAUSED = "archivist.io/ops-paused-bounds"  # {"min": n, "max": m} the bounds before --pause
KEDA_PAUSED = "autoscaling.keda.sh/paused-replicas"

PULUMI_NOTE = ("This is a live change to an object `pulumi up` manages (field manager archivist-ops). `pulumi up` "
               "diffs against its own state, so it leaves the change alone until it next applies this autoscaler "
               "(a changed `archivist:{app}.autoscaling`, or `pulumi up --refresh`, which sees the drift); that apply "
               "sets the config's bounds back, or, where the provider does not force field conflicts, stops with a "
               "conflict on minReplicas/maxReplicas: then `ops scale --resume` (or set the config's values with "
               "--min/--max) and run it again. To keep new bounds, put them in config: "
               "`pulumi config set --path archivist:{app}.autoscaling.minReplicas N` (and maxReplicas).")
QDRANT_NOTE = ("Qdrant: lowering its bounds lets the autoscaler remove peers, and self-hosted Qdrant does not move "
               "their shards first; drain a peer before it goes.")


def _find_hpa(ops: Ops, workload: str) -> Any | None:
    for hpa in ops.autoscaling.list_namespaced_horizontal_pod_autoscaler(ops.namespace).items:
        ref = hpa.spec.scale_target_ref
        if workload in (hpa.metadata.name, ref.name) or f"archivist-{workload}" in (hpa.metadata.name, ref.name):
            return hpa
    return None


def _find_scaled_object(ops: Ops, workload: str) -> dict[str, Any] | None:
    from kubernetes.client.exceptions import ApiException

    try:
        items = ops.custom.list_namespaced_custom_object(*KEDA[:2], ops.namespace, KEDA[2]).get("items", [])
    except ApiException as err:
        if err.status == 404:
            return None
        raise
    for so in items:
        target = so.get("spec", {}).get("scaleTargetRef", {}).get("name")
        if workload in (so["metadata"]["name"], target) or f"archivist-{workload}" in (so["metadata"]["name"], target):
            return dict(so)
    return None


def _validate(minimum: int | None, maximum: int | None, replicas: int | None, pause: bool, resume: bool) -> None:
    chosen = [minimum is not None or maximum is not None, replicas is not None, pause, resume]
    if sum(chosen) != 1:
        raise OpsError("say one of: --min/--max, --replicas N, --pause, --resume")
    for flag, value in (("--min", minimum), ("--max", maximum), ("--replicas", replicas)):
        if value is not None and value < 1:
            raise OpsError(f"{flag} must be at least 1 (got {value})")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise OpsError(f"--min {minimum} is above --max {maximum}")


def scale(ops: Ops, workload: str, *, minimum: int | None = None, maximum: int | None = None,
          replicas: int | None = None, pause: bool = False, resume: bool = False, yes: bool = False) -> int:
    _validate(minimum, maximum, replicas, pause, resume)
    hpa = _find_hpa(ops, workload)
    if hpa is None:
        so = _find_scaled_object(ops, workload)
        if so is None:
            names = [h.metadata.name for h in ops.autoscaling.list_namespaced_horizontal_pod_autoscaler(ops.namespace).items]
            raise OpsError(f"no autoscaler for '{workload}' in namespace {ops.namespace} "
                           f"(autoscalers there: {', '.join(sorted(names)) or 'none'}); "
                           "stores without one are sized by config only")
        return _scale_keda(ops, so, minimum, maximum, replicas, pause, resume)

    name = hpa.metadata.name
    old_min, old_max = hpa.spec.min_replicas or 1, hpa.spec.max_replicas
    annotations = dict(hpa.metadata.annotations or {})
    current = (hpa.status.current_replicas if hpa.status and hpa.status.current_replicas else None)
    ann_patch: dict[str, Any] = {}
    if pause:
        if PAUSED in annotations:
            raise OpsError(f"HPA {name} is already paused (bounds before: {annotations[PAUSED]}); use --resume")
        pin = current or _target_replicas(ops, hpa) or old_min
        new_min = new_max = pin
        ann_patch[PAUSED] = json.dumps({"min": old_min, "max": old_max})
    elif resume:
        if PAUSED not in annotations:
            raise OpsError(f"HPA {name} is not paused by `ops scale --pause`")
        saved = json.loads(annotations[PAUSED])
        new_min, new_max = int(saved["min"]), int(saved["max"])
        ann_patch[PAUSED] = None
    elif replicas is not None:
        new_min = new_max = replicas
    else:
        new_min = minimum if minimum is not None else old_min
        new_max = maximum if maximum is not None else old_max
        if new_min > new_max:
            raise OpsError(f"min {new_min} would be above max {new_max}: give both --min and --max")

    if not _scale_down_allowed(ops, hpa, new_max, yes=yes):
        return 0
    body: dict[str, Any] = {"spec": {"minReplicas": new_min, "maxReplicas": new_max}}
    if ann_patch:
        body["metadata"] = {"annotations": ann_patch}
    updated = ops.autoscaling.patch_namespaced_horizontal_pod_autoscaler(name, ops.namespace, body,
                                                                         field_manager=FIELD_MANAGER)
    app = _app_key(hpa.spec.scale_target_ref.name)
    result = {"kind": "HorizontalPodAutoscaler", "name": name, "before": {"min": old_min, "max": old_max},
              "after": {"min": updated.spec.min_replicas, "max": updated.spec.max_replicas},
              "paused": PAUSED in (updated.metadata.annotations or {}), "note": PULUMI_NOTE.format(app=app)}
    _report(ops, result, app)
    return 0


def _scale_down_allowed(ops: Ops, hpa: Any, new_max: int, *, yes: bool) -> bool:
    """A store (StatefulSet) that would lose pods: refuse undrained Qdrant peers, else show the plan and want --yes.

    The HPA controller enforces a lowered maxReplicas at once, even with scale-down disabled
    ("Current number of replicas above Spec.MaxReplicas", audit D2), and the StatefulSet stops its
    highest ordinals first.
    """
    ref = hpa.spec.scale_target_ref
    if ref.kind != "StatefulSet":
        return True
    running = _target_replicas(ops, hpa) or 0
    if new_max >= running:
        return True
    if _app_key(ref.name) == "qdrant":
        from .qdrant import refuse_undrained

        refuse_undrained(ops, new_max)
    stopped = [f"{ref.name}-{i}" for i in range(running - 1, new_max - 1, -1)]
    plan = (f"plan: HorizontalPodAutoscaler {hpa.metadata.name} maxReplicas -> {new_max}: StatefulSet {ref.name} "
            f"goes from {running} to {new_max} pods and stops {', '.join(stopped)} (their claims are retained).")
    if yes:
        ops.out.say(plan)
        return True
    ops.out.say(plan + " Nothing changed; run again with --yes to do it.")
    if ops.out.json:
        ops.out.emit({"kind": "HorizontalPodAutoscaler", "name": hpa.metadata.name, "stops": stopped, "done": False})
    return False


def _scale_keda(ops: Ops, so: dict[str, Any], minimum: int | None, maximum: int | None, replicas: int | None,
                pause: bool, resume: bool) -> int:
    name = so["metadata"]["name"]
    spec = so.get("spec", {})
    old_min, old_max = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
    body: dict[str, Any]
    if pause:
        target = spec.get("scaleTargetRef", {}).get("name")
        dep = ops.apps.read_namespaced_deployment(target, ops.namespace)
        body = {"metadata": {"annotations": {KEDA_PAUSED: str(dep.spec.replicas or 0)}}}
    elif resume:
        body = {"metadata": {"annotations": {KEDA_PAUSED: None}}}
    elif replicas is not None:
        body = {"spec": {"minReplicaCount": replicas, "maxReplicaCount": replicas}}
    else:
        body = {"spec": {"minReplicaCount": minimum if minimum is not None else old_min,
                         "maxReplicaCount": maximum if maximum is not None else old_max}}
    updated = ops.custom.patch_namespaced_custom_object(*KEDA[:2], ops.namespace, KEDA[2], name, body,
                                                        field_manager=FIELD_MANAGER)
    app = _app_key(spec.get("scaleTargetRef", {}).get("name", name))
    new_spec = updated.get("spec", {})
    result = {"kind": "ScaledObject", "name": name, "before": {"min": old_min, "max": old_max},
              "after": {"min": new_spec.get("minReplicaCount"), "max": new_spec.get("maxReplicaCount")},
              "paused": KEDA_PAUSED in (updated.get("metadata", {}).get("annotations") or {}),
              "note": PULUMI_NOTE.format(app=app)}
    _report(ops, result, app)
    return 0


def _target_replicas(ops: Ops, hpa: Any) -> int | None:
    ref = hpa.spec.scale_target_ref
    try:
        if ref.kind == "Deployment":
            return int(ops.apps.read_namespaced_deployment(ref.name, ops.namespace).spec.replicas or 0) or None
        if ref.kind == "StatefulSet":
            return int(ops.apps.read_namespaced_stateful_set(ref.name, ops.namespace).spec.replicas or 0) or None
    except Exception:
        return None
    return None


def _app_key(target: str) -> str:
    return target.removeprefix("archivist-")


def _report(ops: Ops, result: dict[str, Any], app: str) -> None:
    if ops.out.json:
        ops.out.emit(result)
        return
    b, a = result["before"], result["after"]
    state = " (paused)" if result["paused"] else ""
    ops.out.console.print(f"{result['kind']} {result['name']}: min {b['min']} -> {a['min']}, "
                          f"max {b['max']} -> {a['max']}{state}")
    ops.out.console.print(result["note"], markup=False)
    if app == "qdrant" and (a["max"] or 0) < (b["max"] or 0):
        ops.out.console.print(QDRANT_NOTE, markup=False)
