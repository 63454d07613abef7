"""Pod and container building blocks shared by every workload.

Every pod this program creates goes through these helpers, which is how the Pod
Security "restricted" profile holds everywhere without each tier repeating it.
"""

from __future__ import annotations

from typing import Any

from ..config.settings import HealthCheck, Resources

# Kubernetes specs are plain dicts checked against the API schemas by the tests; the SDK's TypedDicts
# do not accept dicts assembled from helpers, so they are typed loosely here.
Spec = Any


def pod_security(uid: int, *, gid: int | None = None) -> Spec:
    group = gid if gid is not None else uid
    return {
        "run_as_non_root": True,
        "run_as_user": uid,
        "run_as_group": group,
        "fs_group": group,
        # Only chown a volume when its root has the wrong group: a full walk of a large volume delays every start.
        "fs_group_change_policy": "OnRootMismatch",
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def container_security(*, read_only_root: bool = True) -> Spec:
    return {
        "allow_privilege_escalation": False,
        "read_only_root_filesystem": read_only_root,
        "run_as_non_root": True,
        "capabilities": {"drop": ["ALL"]},
        "seccomp_profile": {"type": "RuntimeDefault"},
    }


def resources(res: Resources) -> Spec:
    return res.as_k8s()


def probe_action(check: HealthCheck) -> Spec:
    if check.kind == "http":
        return {"http_get": {"path": check.path, "port": check.port}}
    if check.kind == "tcp":
        return {"tcp_socket": {"port": check.port}}
    if check.kind == "exec":
        return {"exec_": {"command": list(check.command)}}
    raise ValueError("a 'none' health check has no probe action")


def probes(check: HealthCheck) -> Spec:
    """Startup, readiness and liveness probes for a container; none when the check is 'none'.

    The startup probe absorbs slow starts, so liveness can be strict without killing a pod
    that is still warming up.
    """
    if check.kind == "none":
        return {}
    action = probe_action(check)
    timing = {"period_seconds": check.period_seconds, "timeout_seconds": check.timeout_seconds}
    startup_period = 5
    return {
        "startup_probe": {
            **action,
            "period_seconds": startup_period,
            "timeout_seconds": check.timeout_seconds,
            "failure_threshold": max(1, check.startup_seconds // startup_period),
            "initial_delay_seconds": check.initial_delay_seconds,
        },
        "readiness_probe": {**action, **timing, "failure_threshold": check.failure_threshold},
        "liveness_probe": {**action, **timing, "failure_threshold": check.failure_threshold + 2},
    }


def spread(selector: dict[str, str], *, enabled: bool) -> Spec:
    """Spread replicas over nodes (and zones where nodes have zone labels).

    `ScheduleAnyway` on zones keeps single-zone clusters schedulable; nodes are a hard
    rule only when the stack asks for it (production), so a laptop cluster still runs.
    """
    zone = {
        "max_skew": 1,
        "topology_key": "topology.kubernetes.io/zone",
        "when_unsatisfiable": "ScheduleAnyway",
        "label_selector": {"match_labels": selector},
    }
    node = {
        "max_skew": 1,
        "topology_key": "kubernetes.io/hostname",
        "when_unsatisfiable": "DoNotSchedule" if enabled else "ScheduleAnyway",
        "label_selector": {"match_labels": selector},
    }
    return {"topology_spread_constraints": [node, zone]}


def scratch_volume(name: str, size: str = "256Mi") -> Spec:
    return {"name": name, "empty_dir": {"size_limit": size}}
