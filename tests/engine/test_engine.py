"""The dev stack through the real Pulumi engine, in order: up, a no-op preview, growth, a refused
replacement, outputs, ops verbs on what the engine deployed, a refused and a real destroy.

One `pulumi up` is shared by the module (it is the slow part); each test leaves the stack config as
it found it. The order of the tests is the order of a stack's life, so they run top to bottom.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apiserver.kube import Cluster

from .harness import NODE, ROOT, Binder, Pulumi, Result, api_client

NAMESPACE = "archivist"  # Pulumi.dev.yaml's archivist:namespace
STORES = ("neo4j", "kafka", "qdrant", "redis")


def steps(preview: Result) -> list[dict[str, Any]]:
    document: dict[str, Any] = json.loads(preview.stdout)
    return list(document.get("steps", []))


def changed(preview: Result) -> dict[str, str]:
    """URN -> op of every step that is not `same`."""
    return {s["urn"]: s["op"] for s in steps(preview) if s["op"] != "same"}


@pytest.fixture(scope="module")
def deployed(pulumi: Pulumi, nodes: Binder) -> Iterator[Result]:
    start = time.monotonic()
    result = pulumi.run("up", "--yes", "--skip-preview", "--stack", pulumi.stack, program=True, timeout=1500)
    print(f"pulumi up: {time.monotonic() - start:.0f} s")
    yield result


def test_up_deploys_the_dev_stack_and_every_workload_is_ready(deployed: Result, pulumi: Pulumi, nodes: Binder,
                                                               cluster: Cluster) -> None:
    deployed.check()
    from kubernetes import client

    apps = client.AppsV1Api(api_client(cluster.kubeconfig))
    sets = {s.metadata.name: s for s in apps.list_namespaced_stateful_set(NAMESPACE).items}
    assert set(STORES) <= set(sets), f"stores missing: {sorted(sets)}"
    for name, sts in sets.items():
        assert (sts.status.ready_replicas or 0) == sts.spec.replicas, f"StatefulSet {name} not ready"
    deployments = apps.list_namespaced_deployment(NAMESPACE).items
    assert deployments, "no Deployment was created"
    for dep in deployments:
        assert (dep.status.ready_replicas or 0) >= 1, f"Deployment {dep.metadata.name} has no ready pod"
    core = client.CoreV1Api(api_client(cluster.kubeconfig))
    claims = core.list_namespaced_persistent_volume_claim(NAMESPACE).items
    assert claims and all(c.status.phase == "Bound" for c in claims), [(c.metadata.name, c.status.phase) for c in claims]
    pods = core.list_namespaced_pod(NAMESPACE).items
    assert pods and all(p.spec.node_name == NODE for p in pods)
    assert not nodes.errors, nodes.errors


def test_a_second_preview_plans_no_change(deployed: Result, pulumi: Pulumi) -> None:
    deployed.check()
    preview = pulumi.run("preview", "--expect-no-changes", "--diff", "--stack", pulumi.stack, program=True)
    assert preview.returncode == 0, f"the program is not stable; the second preview plans changes:\n{preview.output[-8000:]}"


def test_growing_a_store_updates_its_claims_in_place(deployed: Result, pulumi: Pulumi) -> None:
    deployed.check()
    pulumi.config_set("archivist:redis.storage.size", "1Gi", path=True)  # Pulumi.dev.yaml: 512Mi
    try:
        preview = pulumi.run("preview", "--json", "--stack", pulumi.stack, program=True).check()
    finally:
        pulumi.config_set("archivist:redis.storage.size", "512Mi", path=True)
    plan = changed(preview)
    assert plan, "growing redis.storage.size planned nothing"
    replaced = {urn: op for urn, op in plan.items() if op in ("replace", "create-replacement", "delete-replaced")}
    assert not replaced, f"growth must not replace anything: {replaced}"
    grown = [urn for urn, op in plan.items() if op == "update" and "PersistentVolumeClaimPatch" in urn]
    assert grown, f"the redis claim is not patched in place: {plan}"


def test_a_storage_class_change_is_stopped_by_the_data_guard(deployed: Result, pulumi: Pulumi,
                                                             cluster: Cluster) -> None:
    deployed.check()
    from kubernetes import client

    apps = client.AppsV1Api(api_client(cluster.kubeconfig))
    before = apps.read_namespaced_stateful_set("redis", NAMESPACE).metadata.uid
    pulumi.config_set("archivist:redis.storage.className", "fast-ssd", path=True)
    try:
        up = pulumi.run("up", "--yes", "--skip-preview", "--stack", pulumi.stack, program=True)
    finally:
        pulumi.run("config", "rm", "--path", "archivist:redis.storage.className", "--stack", pulumi.stack).check()
    assert up.returncode != 0, f"a storage class change went through:\n{up.output[-4000:]}"
    assert "refusing to delete StatefulSet" in up.output, up.output[-4000:]
    assert "archivist:allowDataLoss" in up.output
    assert apps.read_namespaced_stateful_set("redis", NAMESPACE).metadata.uid == before, "redis was replaced"
    # The refused update must leave every data-bearing object as it was: the next preview plans nothing for
    # them. (Known gap, docs/known-gaps.md: after the refusal the graph Deployment, stateless, is planned for
    # a replacement by the next preview; the cause is not yet understood.)
    after = pulumi.run("preview", "--json", "--stack", pulumi.stack, program=True)
    assert after.returncode == 0, after.output[-4000:]
    steps = json.loads(after.stdout).get("steps") or []
    touched = [(st["op"], st["urn"]) for st in steps if st.get("op") not in ("same", "read")]
    data_kinds = ("StatefulSet", "PersistentVolumeClaim", "Namespace")
    assert not [t for t in touched if any(f":{k}::" in t[1] for k in data_kinds)], touched


def test_the_outputs_the_readme_documents(deployed: Result, pulumi: Pulumi) -> None:
    deployed.check()
    outputs = pulumi.outputs()
    for key in ("namespace", "endpoints", "portForward", "capacity"):
        assert key in outputs, f"README's output {key} is missing: {sorted(outputs)}"
    # The dev stack has no public entry. The program exports ingressUrl None, and the real engine
    # leaves a null output out of the stack's outputs altogether (the README's "or null").
    assert outputs.get("ingressUrl") is None and "entry" not in outputs, outputs.get("ingressUrl")
    assert outputs["namespace"] == NAMESPACE
    assert any("redis" in str(url) for url in outputs["endpoints"].values()), outputs["endpoints"]
    shown = pulumi.run("stack", "output", "--json", "--show-secrets", "--stack", pulumi.stack).check().stdout
    assert "engine-suite-not-a-real-key" not in shown, "an output carries the Gemini key"


def ops(pulumi: Pulumi, *args: str) -> subprocess.CompletedProcess[str]:
    stack_file = pulumi.project / f"Pulumi.{pulumi.stack}.yaml"
    verb, *rest = args
    return subprocess.run(
        [sys.executable, "-m", "archivist_infra", "ops", verb, pulumi.stack, "--config-file", str(stack_file),
         "--kubeconfig", pulumi.env["KUBECONFIG"], *rest],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )


def test_ops_verbs_on_what_the_engine_deployed(deployed: Result, pulumi: Pulumi, cluster: Cluster) -> None:
    deployed.check()
    from kubernetes import client

    status = ops(pulumi, "status", "--output", "json")
    assert status.returncode in (0, 1), status.stderr
    report = json.loads(status.stdout)
    assert "redis" in json.dumps(report), report

    autoscaling = client.AutoscalingV2Api(api_client(cluster.kubeconfig))
    hpas = {h.metadata.name: h for h in autoscaling.list_namespaced_horizontal_pod_autoscaler(NAMESPACE).items}
    assert hpas, "the dev stack has an autoscaler"
    name = next(n for n, h in hpas.items() if "search" in h.spec.scale_target_ref.name)
    target = hpas[name].spec.scale_target_ref.name
    scale = ops(pulumi, "scale", target, "--max", "3")
    assert scale.returncode == 0, scale.stderr
    assert autoscaling.read_namespaced_horizontal_pod_autoscaler(name, NAMESPACE).spec.max_replicas == 3

    apps = client.AppsV1Api(api_client(cluster.kubeconfig))
    plan = ops(pulumi, "restart", "redis")  # a single-replica store: the plan only, without --yes
    assert plan.returncode == 0 and "--yes" in plan.stdout + plan.stderr, (plan.stdout, plan.stderr)
    assert "kubectl.kubernetes.io/restartedAt" not in (
        apps.read_namespaced_stateful_set("redis", NAMESPACE).spec.template.metadata.annotations or {})
    restart = ops(pulumi, "restart", "redis", "--yes")
    assert restart.returncode == 0, restart.stderr
    annotations = apps.read_namespaced_stateful_set("redis", NAMESPACE).spec.template.metadata.annotations or {}
    assert "kubectl.kubernetes.io/restartedAt" in annotations

    logs = ops(pulumi, "logs", "redis", "--tail", "5")
    # kwok plays the kubelet's status, not its log endpoint (nothing listens on the node address 127.0.0.1):
    # the verb must say so plainly, not crash.
    said = logs.stdout + logs.stderr
    assert "Traceback" not in said, said
    assert logs.returncode == 1 and "no logs" in said, (logs.returncode, said)
    # The batch worker has pods only while a run is active: the verb says how to start one.
    idle = ops(pulumi, "logs", "archivist-worker")
    assert idle.returncode == 2 and "ops process" in idle.stderr, (idle.returncode, idle.stdout, idle.stderr)


def test_destroy_is_refused_while_protect_is_on(deployed: Result, pulumi: Pulumi, cluster: Cluster) -> None:
    deployed.check()
    pulumi.config_set("archivist:protect", "true")
    try:
        pulumi.run("up", "--yes", "--skip-preview", "--stack", pulumi.stack, program=True).check()
        # Without the program the engine refuses first because the data guard's hooks cannot run.
        plain = pulumi.run("destroy", "--yes", "--stack", pulumi.stack)
        assert plain.returncode != 0 and "--run-program" in plain.output, plain.output[-4000:]
        destroy = pulumi.run("destroy", "--yes", "--run-program", "--stack", pulumi.stack, program=True)
        assert destroy.returncode != 0, "destroy went through with protect on"
        assert "protected" in destroy.output, destroy.output[-4000:]
        from kubernetes import client

        apps = client.AppsV1Api(api_client(cluster.kubeconfig))
        assert apps.read_namespaced_stateful_set("redis", NAMESPACE)
    finally:
        pulumi.config_set("archivist:protect", "false")
        pulumi.run("up", "--yes", "--skip-preview", "--stack", pulumi.stack, program=True).check()


def test_destroy_with_allow_data_loss_leaves_nothing(deployed: Result, pulumi: Pulumi, cluster: Cluster) -> None:
    deployed.check()
    guarded = pulumi.run("destroy", "--yes", "--run-program", "--stack", pulumi.stack, program=True)
    assert guarded.returncode != 0 and "refusing to delete" in guarded.output, guarded.output[-4000:]
    pulumi.config_set("archivist:allowDataLoss", "true")
    pulumi.run("destroy", "--yes", "--run-program", "--stack", pulumi.stack, program=True, timeout=1200).check()
    left = cluster.run("get", "all,pvc,secrets,configmaps,networkpolicies", "-n", NAMESPACE, "-o", "name")
    assert not left.stdout.strip(), f"left in the namespace: {left.stdout}"
    assert not json.loads(pulumi.run("stack", "export", "--stack", pulumi.stack).check().stdout)["deployment"].get(
        "resources"), "the state still holds resources"


def test_engine_versions_are_the_pinned_ones(engine_bin: Path) -> None:
    out = subprocess.run([str(engine_bin / "pulumi"), "version"], capture_output=True, text=True, check=True).stdout
    pins = (ROOT / "scripts" / "engine" / "install.sh").read_text()
    assert f"PULUMI_VERSION={out.strip()}" in pins, out
