"""The monitoring tier as rendered: scrape targets for every store, hardened exporters, the modes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from archivist_infra.config.problems import ConfigError
from archivist_infra.offline import engine
from archivist_infra.offline.engine import is_secret_value
from archivist_infra.offline.render import manifests
from archivist_infra.offline.stackfile import read_stack
from archivist_infra.program import main as program_main
from tests.conftest import VALID_IMAGES, find, pod_spec, run_config

ROOT = Path(__file__).resolve().parents[2]
MONITORING_KINDS = {"PodMonitor", "Probe", "PrometheusRule", "PodMonitoring", "ClusterRules"}
EXPORTERS = ("redis-exporter", "kafka-exporter", "blackbox-exporter")
RELEASE = "kubernetes:helm.sh/v3:Release"


def _prod_with(monitoring: dict[str, Any]) -> engine.Run:
    config = read_stack(ROOT, "prod")
    values = {**config.values, "archivist:monitoring": json.dumps(monitoring)}
    return engine.run(dataclasses.replace(config, values=values), program_main)


def _monitoring_releases(run: engine.Run) -> list[Any]:
    """The kube-prometheus-stack Releases (Velero is a Helm Release of its own when backups are on)."""
    return [r for r in run.by_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"]


def _pods_selected(objects: list[dict[str, Any]], selector: dict[str, str]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")
            and selector.items() <= o["spec"]["template"]["metadata"]["labels"].items()]


def _port_names(workload: dict[str, Any]) -> set[str]:
    return {p["name"] for c in pod_spec(workload)["containers"] for p in c.get("ports", [])}


def test_prod_scrapes_every_store(prod_objects: list[dict[str, Any]]) -> None:
    """Qdrant natively, Redis and Kafka through exporters, Neo4j (Community: no metrics) by a bolt probe."""
    monitors = {o["metadata"]["name"]: o for o in prod_objects if o["kind"] == "PodMonitor"}
    assert set(monitors) == {"qdrant", "redis-exporter", "kafka-exporter"}
    for monitor in monitors.values():
        [endpoint] = monitor["spec"]["podMetricsEndpoints"]
        [workload] = _pods_selected(prod_objects, monitor["spec"]["selector"]["matchLabels"])
        assert endpoint["port"] in _port_names(workload), workload["metadata"]["name"]
    qdrant = find(prod_objects, "StatefulSet", "qdrant")
    assert {"name": "http", "containerPort": 6333} in pod_spec(qdrant)["containers"][0]["ports"]

    def args(name: str) -> list[str]:
        return list(pod_spec(find(prod_objects, "Deployment", name))["containers"][0]["args"])

    assert "--redis.addr=redis://redis.archivist.svc.cluster.local:6379" in args("redis-exporter")
    assert "--kafka.server=kafka.archivist.svc.cluster.local:9092" in args("kafka-exporter")
    probes = {o["metadata"]["name"]: o["spec"] for o in prod_objects if o["kind"] == "Probe"}
    assert probes["archivist-neo4j"]["module"] == "tcp_connect"
    assert probes["archivist-neo4j"]["targets"]["staticConfig"]["static"] == ["neo4j.archivist.svc.cluster.local:7687"]
    for store in ("redis", "kafka", "neo4j"):
        find(prod_objects, "Service", store)  # the exporters and probes point at Services that exist


def test_apis_are_probed_from_outside_the_pods(prod_objects: list[dict[str, Any]]) -> None:
    probes = {o["metadata"]["name"]: o["spec"] for o in prod_objects if o["kind"] == "Probe"}
    assert probes["archivist-search"]["targets"]["staticConfig"]["static"] == [
        "http://archivist-search.archivist.svc.cluster.local:8000/health"]
    assert probes["archivist-graph"]["targets"]["staticConfig"]["static"] == [
        "http://archivist-graph.archivist.svc.cluster.local:8081/health"]
    assert probes["archivist-public"]["module"] == "tls_connect"
    assert probes["archivist-public"]["targets"]["staticConfig"]["static"] == ["archivist.example.com:443"]
    for name, spec in probes.items():
        assert spec["prober"]["url"] == "blackbox-exporter.archivist.svc.cluster.local:9115"
        assert spec["targets"]["staticConfig"]["labels"]["probe_target"] == name.removeprefix("archivist-")
    blackbox = find(prod_objects, "ConfigMap", "blackbox-exporter")
    modules = json.loads(blackbox["data"]["blackbox.yml"])["modules"]
    assert {spec["module"] for spec in probes.values()} <= set(modules)


@pytest.mark.parametrize("name", EXPORTERS)
def test_exporters_are_pinned_and_hardened(prod_objects: list[dict[str, Any]], name: str) -> None:
    deployment = find(prod_objects, "Deployment", name)
    pod = pod_spec(deployment)
    [container] = pod["containers"]
    image = container["image"]
    assert ":" in image and not image.endswith(":latest")
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == container["ports"][0]["containerPort"]
    health = {"redis-exporter": "/health", "kafka-exporter": "/healthz", "blackbox-exporter": "/-/healthy"}[name]
    assert container["readinessProbe"]["httpGet"]["path"] == health


def test_rules_carry_a_summary_and_a_runbook_for_every_alert(prod_objects: list[dict[str, Any]]) -> None:
    [rule] = [o for o in prod_objects if o["kind"] == "PrometheusRule"]
    runbooks = (ROOT / "docs" / "runbooks.md").read_text()
    for group in rule["spec"]["groups"]:
        for alert in group["rules"]:
            assert alert["annotations"]["summary"]
            url = alert["annotations"]["runbook_url"]
            assert url == f"docs/runbooks.md#{alert['alert'].lower()}"
            assert f"\n## {alert['alert']}\n" in runbooks, f"docs/runbooks.md has no runbook for {alert['alert']}"


def test_installed_stack_selects_the_objects_it_renders(prod_run: engine.Run,
                                                         prod_objects: list[dict[str, Any]]) -> None:
    [release] = _monitoring_releases(prod_run)
    inputs = dict(release.inputs)
    # The generated Grafana password is secret, which makes Pulumi keep the whole values map secret.
    assert is_secret_value(inputs["values"])
    inputs["values"] = inputs["values"]["value"]
    assert (inputs["chart"], inputs["version"]) == ("kube-prometheus-stack", "88.3.0")
    assert inputs["repositoryOpts"]["repo"] == "https://prometheus-community.github.io/helm-charts"
    spec = inputs["values"]["prometheus"]["prometheusSpec"]
    for obj in (o for o in prod_objects if o["kind"] in MONITORING_KINDS):
        selector = {"PodMonitor": "podMonitorSelector", "Probe": "probeSelector",
                    "PrometheusRule": "ruleSelector"}[obj["kind"]]
        assert spec[selector]["matchLabels"].items() <= obj["metadata"]["labels"].items(), obj["metadata"]["name"]
    sidecar = inputs["values"]["grafana"]["sidecar"]["dashboards"]
    dashboards = [o for o in prod_objects if o["kind"] == "ConfigMap" and "grafana_dashboard" in o["metadata"]["labels"]]
    assert dashboards and all(d["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"] for d in dashboards)
    # Never the chart's well-known default password: a generated one.
    assert inputs["values"]["grafana"]["adminPassword"] == "[generated:grafana-admin-password]"


def test_local_stacks_install_monitoring_by_default(dev_run: engine.Run) -> None:
    assert len(_monitoring_releases(dev_run)) == 1


def test_attach_to_an_existing_prometheus_by_its_selector_labels() -> None:
    run = _prod_with({"mode": "attach", "selectorLabels": {"prometheus": "main"}})
    objects = manifests(run)
    assert _monitoring_releases(run) == []
    monitoring = [o for o in objects if o["kind"] in MONITORING_KINDS]
    assert {o["kind"] for o in monitoring} == {"PodMonitor", "Probe", "PrometheusRule"}
    assert all(o["metadata"]["labels"]["prometheus"] == "main" for o in monitoring)


def test_gmp_mode_renders_managed_prometheus_objects() -> None:
    objects = manifests(_prod_with({"mode": "gmp"}))
    kinds = {o["kind"] for o in objects if o["kind"] in MONITORING_KINDS}
    assert kinds == {"PodMonitoring", "ClusterRules"}
    assert all(o["apiVersion"] == "monitoring.googleapis.com/v1" for o in objects if o["kind"] in kinds)
    monitorings = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "PodMonitoring"}
    assert {"qdrant", "redis-exporter", "kafka-exporter", "archivist-neo4j"} <= set(monitorings)
    [endpoint] = monitorings["archivist-search"]["endpoints"]
    assert endpoint["params"] == {"module": ["http_2xx"],
                                  "target": ["http://archivist-search.archivist.svc.cluster.local:8081/health"
                                             .replace("8081", "8000")]}
    # GMP's collectors run in gmp-system: that namespace may scrape.
    policy = find(objects, "NetworkPolicy", "qdrant-ingress")
    peers = [p for rule in policy["spec"]["ingress"] for p in rule["from"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gmp-system"}}} in peers


def test_gmp_needs_gke() -> None:
    with pytest.raises(ConfigError, match=r"archivist:monitoring\.mode"):
        run_config({"images": VALID_IMAGES, "monitoring": {"mode": "gmp"}})


def test_none_mode_renders_no_monitoring_and_opens_no_flows() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "monitoring": {"mode": "none"}}))
    assert [o for o in objects if o["kind"] in MONITORING_KINDS] == []
    assert [o for o in objects if o["metadata"]["name"] in EXPORTERS] == []
    assert not any("exporter" in o["metadata"]["name"] for o in objects if o["kind"] == "NetworkPolicy")


def test_thresholds_come_from_config() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "monitoring": {"thresholds": {
        "cpuPercent": 75, "kafkaLagMessages": 5000, "latencyMilliseconds": 250, "backupMaxAgeHours": 50}}}))
    [rule] = [o for o in objects if o["kind"] == "PrometheusRule"]
    exprs = {r["alert"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert exprs["ArchivistCpuNearLimit"].endswith("> 0.75")
    assert exprs["ArchivistGraphConsumerLag"].endswith("> 5000")
    assert exprs["ArchivistApiSlow"].endswith("> 0.25")
    assert exprs["ArchivistBackupStale"].endswith(f"> {50 * 3600}")


@pytest.mark.parametrize(("monitoring", "key"), [
    ({"install": True, "selectorLabels": {"a": "b"}}, "archivist:monitoring.selectorLabels"),
    ({"mode": "none", "install": True}, "archivist:monitoring.install"),
    ({"mode": "attach", "install": True}, "archivist:monitoring.install"),
    # No operator would exist: its objects would be refused (and the atomic Velero release roll back).
    ({"install": False}, "archivist:monitoring.install"),
    ({"thresholds": {"cpuPercent": 140}}, "archivist:monitoring.thresholds.cpuPercent"),
    ({"thresholds": {"cpuPercnt": 80}}, "archivist:monitoring.thresholds.cpuPercnt"),
    ({"scrapeInterval": "often"}, "archivist:monitoring.scrapeInterval"),
    ({"mode": "datadog"}, "archivist:monitoring.mode"),
])
def test_bad_monitoring_config_names_its_key(monitoring: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        run_config({"images": VALID_IMAGES, "monitoring": monitoring})
    assert key in str(raised.value)


def test_the_preflight_alert_watches_every_job_the_preflight_tier_renders(prod_objects: list[dict[str, Any]]) -> None:
    """app-wiring's pre-flight Jobs x the monitoring's alerts: a Job added there without a name here would fail
    with no alert."""
    from archivist_infra.monitoring.metrics import PREFLIGHT_JOBS

    rendered = {o["metadata"]["name"] for o in prod_objects if o["kind"] == "Job"
                and o["metadata"]["labels"].get("app.kubernetes.io/component") == "preflight"}
    assert rendered and rendered == set(PREFLIGHT_JOBS)
