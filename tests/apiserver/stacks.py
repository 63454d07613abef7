"""Render the real program for a stack file (or a config) and deploy the render to the real server.

The render is exactly what `python -m archivist_infra render` prints, with two test-only changes
that do not weaken what the server checks:
- each deployment gets its own fresh namespace (`archivist:namespace` overridden before the
  program runs, so every derived name, address and label follows it, as it would for a user);
- a Secret's `data` value that is a masked placeholder (`[secret]`) is base64 encoded, because
  the offline render never holds real secret values; `stringData` placeholders are valid as is.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests
from archivist_infra.offline.stackfile import StackConfig, read_stack
from archivist_infra.program import main as program_main

from .kube import Applied, Cluster

ROOT = Path(__file__).resolve().parents[2]
_PLACEHOLDER = re.compile(r"^\[(?:secret|generated)(?::[^\]]*)?\]$")
# Kinds whose controllers create pods (a CronJob's through a Job made from its template).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob")


def stack_files() -> list[Path]:
    """Every stack file of the project: Pulumi.<stack>.yaml at the root and examples/stacks/*.yaml."""
    return sorted(ROOT.glob("Pulumi.*.yaml")) + sorted((ROOT / "examples" / "stacks").glob("*.yaml"))


def stack_id(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml") if path.parent == ROOT else f"examples/{path.stem}"


def read_stack_file(path: Path) -> StackConfig:
    stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml") if path.parent == ROOT else path.stem
    return read_stack(ROOT, stack, path)


def fresh_namespace(prefix: str = "st") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def with_config(config: StackConfig, **overrides: Any) -> StackConfig:
    """`config` with `archivist:<key>` set to each override (objects as JSON text, as the engine passes them)."""
    values = dict(config.values)
    for key, value in overrides.items():
        values[f"{config.project}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return dataclasses.replace(config, values=values)


def config_value(config: StackConfig, key: str) -> Any:
    text = config.values.get(f"{config.project}:{key}")
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class Rendered:
    run: engine.Run
    objects: list[dict[str, Any]]
    namespace: str

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] in kinds]


def render(config: StackConfig) -> Rendered:
    run = engine.run(config, program_main)
    namespace = config_value(config, "namespace") or "archivist"
    return Rendered(run=run, objects=[server_ready(o) for o in manifests(run)], namespace=namespace)


def server_ready(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the server would get it; only masked Secret `data` placeholders are encoded."""
    if obj["kind"] != "Secret" or not isinstance(obj.get("data"), dict):
        return obj
    data = {k: base64.b64encode(v.encode()).decode() if isinstance(v, str) and _PLACEHOLDER.match(v) else v
            for k, v in obj["data"].items()}
    return {**obj, "data": data}


@functools.cache
def cluster_scoped_kinds(cluster: Cluster) -> frozenset[str]:
    """Kinds the server keeps at cluster scope (asked once per cluster, CRDs included)."""
    listed = cluster.run("api-resources", "--namespaced=false", "--no-headers", check=True).stdout
    return frozenset(line.split()[-1] for line in listed.splitlines() if line.strip())


def is_cluster_scoped(cluster: Cluster, obj: dict[str, Any]) -> bool:
    return obj["kind"] in cluster_scoped_kinds(cluster)


def without_namespace(cluster: Cluster, objects: list[dict[str, Any]]) -> list[str]:
    """Namespaced objects that name no namespace: they would land in whatever namespace the
    deployer's kubeconfig defaults to."""
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects
            if not is_cluster_scoped(cluster, o) and not o["metadata"].get("namespace")]


def namespaces_made_elsewhere(run: engine.Run) -> set[str]:
    """Namespaces that a recorded, unrendered resource creates (a Helm release with createNamespace)."""
    out = set()
    for r in run.resources:
        if r.type.startswith("kubernetes:helm.sh/") and r.inputs.get("createNamespace") and r.inputs.get("namespace"):
            out.add(str(r.inputs["namespace"]))
    return out


@dataclass
class Deployment:
    cluster: Cluster
    rendered: Rendered
    results: list[Applied]

    @property
    def namespace(self) -> str:
        return self.rendered.namespace

    @property
    def warnings(self) -> list[str]:
        return [w for r in self.results for w in r.warnings]

    @property
    def errors(self) -> list[str]:
        return [e for r in self.results for e in r.errors]


def apply_render(cluster: Cluster, rendered: Rendered, *, dry_run: bool = False) -> list[Applied]:
    """Server-side apply the whole render in passes: namespaces and other cluster-scoped objects first
    (what namespaced objects live in or refer to), then everything else in the render's order."""
    results = []
    for ns in sorted(namespaces_made_elsewhere(rendered.run) - {rendered.namespace}):
        if cluster.run("get", "namespace", ns).returncode != 0:
            results.append(cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]))
    first = [o for o in rendered.objects if is_cluster_scoped(cluster, o)]
    rest = [o for o in rendered.objects if not is_cluster_scoped(cluster, o)]
    if dry_run:
        # A server dry run of namespaced objects needs their namespace to exist: create it for real
        # (as rendered) and dry-run the rest, plus one pod per workload template: the server checks a
        # template only loosely (an image with spaces passes), the pods the controllers make fully.
        # The namespace and the pods' ServiceAccounts are created for real: admission looks them up.
        namespaces = [o for o in first if o["kind"] == "Namespace"]
        results.append(cluster.apply(namespaces))
        wait_for_default_service_account(cluster, rendered.namespace)
        results.append(cluster.apply([o for o in rest if o["kind"] == "ServiceAccount"]))
        others = [o for o in first if o["kind"] != "Namespace"] + [o for o in rest if o["kind"] != "ServiceAccount"]
        results.append(cluster.apply(others, dry_run=True))
        results.append(cluster.apply(pods_from_templates(rendered.objects), dry_run=True))
        return results
    results.append(cluster.apply(first))
    wait_for_default_service_account(cluster, rendered.namespace)
    results.append(cluster.apply(rest))
    return results


def pods_from_templates(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first pod each workload's controller would create (a StatefulSet's with its claims)."""
    pods = []
    for obj in objects:
        if obj["kind"] not in ("Deployment", "StatefulSet", "Job", "CronJob"):
            continue
        template = obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
        spec = dict(template["spec"])
        name = obj["metadata"]["name"]
        if obj["kind"] == "StatefulSet":
            claims = [{"name": c["metadata"]["name"],
                       "persistentVolumeClaim": {"claimName": f"{c['metadata']['name']}-{name}-0"}}
                      for c in obj["spec"].get("volumeClaimTemplates", [])]
            spec["volumes"] = [*spec.get("volumes", []), *claims]
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {**template.get("metadata", {}), "name": f"{name}-pod",
                                  "namespace": obj["metadata"]["namespace"]},
                     "spec": spec})
    return pods


def wait_for_default_service_account(cluster: Cluster, namespace: str, timeout: float = 60) -> None:
    # Pods are refused until the controller-manager has made the namespace's `default` ServiceAccount.
    deadline = time.monotonic() + timeout
    while cluster.run("get", "serviceaccount", "default", "-n", namespace).returncode != 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"namespace {namespace}: no default ServiceAccount after {timeout} s")
        time.sleep(0.3)


def cleanup(cluster: Cluster, rendered: Rendered) -> None:
    """Delete what the render made at cluster scope (other stacks render the same StorageClass names
    with other provisioners, and those fields are immutable), then its namespace, without waiting.
    Shared namespaces the stacks render by fixed name (`velero`, the entry's) are waited for: the next
    stack re-creates them, and an apply into one still terminating is refused as NotFound."""
    for obj in rendered.objects:
        if is_cluster_scoped(cluster, obj):
            kind = obj["kind"] if "/" not in obj["apiVersion"] else f"{obj['kind']}.{obj['apiVersion'].split('/')[0]}"
            wait = "--wait=true" if obj["kind"] == "Namespace" else "--wait=false"
            cluster.run("delete", kind, obj["metadata"]["name"], "--ignore-not-found", wait, "--timeout=120s")
    cluster.run("delete", "namespace", rendered.namespace, "--ignore-not-found", "--wait=false")


@contextmanager
def deployed(cluster: Cluster, config: StackConfig) -> Iterator[Deployment]:
    rendered = render(config)
    try:
        yield Deployment(cluster, rendered, apply_render(cluster, rendered))
    finally:
        cleanup(cluster, rendered)


# -- what the controllers did ----------------------------------------------------------------
# One kubectl call per poll and namespace: each call costs a process start on a busy machine.


def snapshot(cluster: Cluster, namespace: str) -> dict[str, list[dict[str, Any]]]:
    """Pods, ReplicaSets, Jobs, HPAs and events of the namespace, by kind, in one call."""
    listed = cluster.get("pods,replicasets,jobs,horizontalpodautoscalers.autoscaling,events", namespace=namespace)
    out: dict[str, list[dict[str, Any]]] = {}
    for item in listed.get("items", []):
        out.setdefault(item["kind"], []).append(item)
    return out


def failed_creates(snap: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [f"{e['involvedObject']['kind']}/{e['involvedObject']['name']}: {e.get('message', '')}"
            for e in snap.get("Event", []) if e.get("reason") == "FailedCreate"]


def _owned(items: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    return [i for i in items
            if any(r["kind"] == kind and r["name"] == name for r in i["metadata"].get("ownerReferences", []))]


def pods_of(snap: dict[str, list[dict[str, Any]]], kind: str, name: str) -> list[dict[str, Any]]:
    pods = snap.get("Pod", [])
    if kind == "Deployment":
        return [p for rs in _owned(snap.get("ReplicaSet", []), "Deployment", name)
                for p in _owned(pods, "ReplicaSet", rs["metadata"]["name"])]
    if kind == "CronJob":
        return [p for job in _owned(snap.get("Job", []), "CronJob", name)
                for p in _owned(pods, "Job", job["metadata"]["name"])]
    return _owned(pods, kind, name)


def trigger_cron_jobs(cluster: Cluster, rendered: Rendered) -> None:
    """A CronJob makes pods only on schedule: make one Job from each template now (as the controller would)."""
    for cron in rendered.of_kind("CronJob"):
        ns, name = cron["metadata"]["namespace"], cron["metadata"]["name"]
        cluster.run("create", "job", f"{name[:40]}-now", f"--from=cronjob/{name}", "-n", ns, check=True)


def wait_for_pods(cluster: Cluster, rendered: Rendered, timeout: float = 120) -> dict[str, int]:
    """Wait until every workload of the render has at least one pod and every HPA has been looked at
    by its controller; fail at once on a FailedCreate event. Returns pods per workload."""
    workloads = [(o["kind"], o["metadata"]["name"], o["metadata"]["namespace"]) for o in rendered.of_kind(*WORKLOAD_KINDS)]
    hpas = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in rendered.of_kind("HorizontalPodAutoscaler")}
    namespaces = sorted({ns for _, _, ns in workloads} | {ns for ns, _ in hpas})
    deadline = time.monotonic() + timeout
    while True:
        snaps = {ns: snapshot(cluster, ns) for ns in namespaces}
        failures = [f for ns in namespaces for f in failed_creates(snaps[ns])]
        assert not failures, "the controllers could not create pods:\n" + "\n".join(failures)
        counts = {f"{kind}/{name}": len(pods_of(snaps[ns], kind, name)) for kind, name, ns in workloads}
        seen = {(ns, h["metadata"]["name"]) for ns in namespaces for h in snaps[ns].get("HorizontalPodAutoscaler", [])
                if h.get("status", {}).get("conditions")}
        if all(counts.values()) and hpas <= seen:
            return counts
        if time.monotonic() > deadline:
            missing = [k for k, v in counts.items() if not v]
            raise AssertionError(f"after {timeout} s: no pods for {missing}; HPAs not evaluated: {sorted(hpas - seen)}")
        time.sleep(1)


def hpa_conditions(cluster: Cluster, namespace: str) -> dict[str, dict[str, dict[str, Any]]]:
    """HPA name -> condition type -> condition, as the HPA controller reports them."""
    return {h["metadata"]["name"]: {c["type"]: c for c in h.get("status", {}).get("conditions", [])}
            for h in cluster.items("horizontalpodautoscalers.autoscaling", namespace=namespace)}


def missing_objects(cluster: Cluster, objects: list[dict[str, Any]]) -> list[str]:
    """Rendered objects the server does not have (one `kubectl get -f -` for all)."""
    result = cluster.run("get", "-f", "-", "-o", "name", stdin=yaml.safe_dump_all(objects, sort_keys=False))
    return [line for line in result.stderr.splitlines() if line.strip()]
