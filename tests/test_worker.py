"""The worker in the shape the pinned CLI supports, and the config.yaml its validateConfig accepts."""

from __future__ import annotations

import math
import re
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from archivist_infra.config.load import load_settings
from archivist_infra.config.problems import ConfigError
from archivist_infra.config.worker import LOCAL_CPU_FLOOR, WorkerRunSettings
from archivist_infra.offline.engine import Run, is_secret_value
from archivist_infra.offline.render import manifests
from archivist_infra.platforms import platform_module
from archivist_infra.tiers.worker import (
    JOB_NAME_PATTERN,
    PROCESS_ARGS,
    RUN_SCRIPT,
    camel,
    job_name,
    job_spec,
    on_demand_job,
)
from tests.conftest import VALID_IMAGES, env_of, find, run_config

# -- validateConfig, ported from internal/app/config.go at the pinned commit ----------------------

# app.Config's mapstructure keys (config.go:14-27); viper drops anything else. Plus `qdrant`: upstream's
# config/config.yaml:108-132 carries it and the patched worker reads qdrant.embedding.model (notes/app-contract.md).
CONFIG_KEYS = {"input_dir", "tex_output_dir", "report_output_dir", "processing", "gemini", "latex", "cache",
               "faiss", "graph", "visualization", "hash_algorithm", "logging", "qdrant"}


def validate_config(cfg: dict[str, Any], num_cpu: int) -> None:
    """config.go:244-318, rule by rule; viper leaves absent keys at Go's zero values."""
    processing = cfg.get("processing") or {}
    gemini = cfg.get("gemini") or {}
    cache = cfg.get("cache") or {}
    max_workers = int(processing.get("max_workers", 0))
    if max_workers <= 0:  # config.go:246-248
        raise ValueError(f"max_workers must be > 0, got {max_workers}")
    if max_workers > num_cpu:  # config.go:249-252
        raise ValueError(f"max_workers ({max_workers}) exceeds available CPUs ({num_cpu})")
    if int(processing.get("timeout_per_paper", 0)) <= 0:  # config.go:255-258
        raise ValueError("timeout_per_paper must be > 0 seconds")
    temperature = float(gemini.get("temperature", 0))
    if temperature < 0 or temperature > 2:  # config.go:261-264
        raise ValueError(f"temperature must be in range [0, 2], got {temperature}")
    if not str(gemini.get("model", "")).startswith("models/"):  # config.go:267-270
        raise ValueError("invalid model format")
    if int(gemini.get("max_tokens", 0)) <= 0:  # config.go:273-275
        raise ValueError("max_tokens must be > 0")
    if cache.get("enabled", False) and int(cache.get("ttl", 0)) <= 0:  # config.go:278-281
        raise ValueError("cache TTL must be > 0 hours when caching is enabled")
    if cache.get("enabled", False) and cache.get("type", "") not in ("redis", "memory"):  # config.go:284-287
        raise ValueError("cache type must be 'redis' or 'memory'")
    if (cfg.get("latex") or {}).get("compiler", "") not in ("pdflatex", "xelatex", "lualatex"):  # config.go:290-301
        raise ValueError("invalid latex compiler")
    if cfg.get("hash_algorithm", "") not in ("sha256", "sha512", "md5"):  # config.go:304-315
        raise ValueError(f"invalid hash_algorithm: {cfg.get('hash_algorithm', '')}")


def test_the_ported_validator_rejects_what_the_go_code_rejects() -> None:
    good = {"processing": {"max_workers": 2, "timeout_per_paper": 600},
            "gemini": {"model": "models/x", "max_tokens": 1, "temperature": 0.3},
            "cache": {"enabled": True, "type": "redis", "ttl": 1}, "latex": {"compiler": "pdflatex"},
            "hash_algorithm": "sha256"}
    validate_config(good, num_cpu=2)
    for path, value, cpus in ((("hash_algorithm",), "", 2), (("processing", "max_workers"), 4, 2),
                              (("gemini", "model"), "gemini-2.0", 2), (("cache", "type"), "disk", 2),
                              (("gemini", "temperature"), 2.5, 2), (("latex", "compiler"), "tectonic", 2)):
        bad = yaml.safe_load(yaml.safe_dump(good))
        target = bad
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        with pytest.raises(ValueError):
            validate_config(bad, num_cpu=cpus)


# config.yaml carries the Redis password (cache.redis.password), so it lives in this Secret, not in the
# ConfigMap (tiers/app_config.py). The offline render masks secret values: read the recorded inputs.
CONFIG_SECRET = "archivist-config-secret"


def _config_yaml(run: Run) -> dict[str, Any]:
    [secret] = [r for r in run.by_type("kubernetes:core/v1:Secret") if r.inputs["metadata"]["name"] == CONFIG_SECRET]
    data = secret.inputs["stringData"]
    assert is_secret_value(data), "the config Secret's data must stay secret in the state"
    return yaml.safe_load(data["value"]["config.yaml"])


def _smallest_node_cpus(stack: str) -> int:
    from archivist_infra.offline.stackfile import read_stack

    config = read_stack(Path(__file__).resolve().parent.parent, stack, None)
    raw = {k.split(":", 1)[1]: v for k, v in config.values.items() if k.startswith("archivist:")}
    parsed = {k: (yaml.safe_load(v) if isinstance(v, str) else v) for k, v in raw.items()}
    settings = load_settings(parsed, project="archivist", stack=stack, secrets_present={"geminiApiKey"})
    cpu, _ = platform_module(settings.platform).node_machine(settings.cluster)
    floor = math.floor(cpu)
    return min(floor, LOCAL_CPU_FLOOR) if settings.platform == "local" else floor


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_config_passes_validate_config_on_the_smallest_node(stack: str, request: pytest.FixtureRequest) -> None:
    cfg = _config_yaml(request.getfixturevalue(f"{stack}_run"))
    validate_config(cfg, num_cpu=_smallest_node_cpus(stack))
    assert set(cfg) <= CONFIG_KEYS, set(cfg) - CONFIG_KEYS  # nothing viper would silently drop (audit #10)


def test_config_carries_what_upstream_ships_and_the_cluster_decides(dev_run: Run, dev_objects: list) -> None:
    cfg = _config_yaml(dev_run)
    # The ConfigMap keeps only what holds no secret: config.yaml (with the Redis password) is not there.
    assert "config.yaml" not in find(dev_objects, "ConfigMap", "archivist-config")["data"]
    assert cfg["hash_algorithm"] == "sha256"  # config/config.yaml:49
    assert cfg["faiss"]["index_dir"].startswith("/data/")  # index.go:89, chat.go:103 on the shared volume
    stages = cfg["gemini"]["agentic"]["stages"]  # config/config.yaml:23-36
    assert {name: stage["temperature"] for name, stage in stages.items()} == {
        "metadata_extraction": 1, "methodology_analysis": 1, "latex_generation": 1}
    assert stages["methodology_analysis"]["thinking_budget"] == 10000
    assert stages["latex_generation"]["validation"] is True
    assert cfg["graph"]["neo4j"]["database"] == "neo4j"
    # No Neo4j password: the worker image never opens Neo4j (only cmd/graph-init does; app_config.py).
    assert "password" not in cfg["graph"]["neo4j"]
    assert cfg["cache"]["redis"]["addr"] == "redis.archivist.svc.cluster.local:6379"
    assert cfg["input_dir"] == "/data/lib"


def test_max_workers_follows_the_cpu_limit_and_stays_within_the_node() -> None:
    run = run_config({"images": VALID_IMAGES, "platform": "local",
                      "worker": {"resources": {"cpuRequest": "1", "cpuLimit": "8"}}})
    # local: a conservative 2 CPUs unless maxWorkers says otherwise.
    assert _config_yaml(run)["processing"]["max_workers"] == LOCAL_CPU_FLOOR
    assert _config_yaml(run_config({"images": VALID_IMAGES, "worker": {"maxWorkers": 3}}))["processing"]["max_workers"] == 3


def test_max_workers_above_the_node_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"worker": {"maxWorkers": 64}}, project="archivist", stack="t", secrets_present={"geminiApiKey"})
    assert "archivist:worker.maxWorkers" in str(err.value) and "config.go:249" in str(err.value)


# -- batch: CronJob and on-demand Jobs ------------------------------------------------------------


def _cron(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return find(objects, "CronJob", "archivist-worker")


def test_batch_is_the_default_a_cronjob_that_never_overlaps(prod_objects: list) -> None:
    cron = _cron(prod_objects)["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    assert cron["schedule"] == WorkerRunSettings().schedule
    job = cron["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == WorkerRunSettings().deadline_seconds
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    # No long-running worker: no Deployment, autoscaler or disruption budget for it.
    for kind in ("Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert not [o for o in prod_objects if o["kind"] == kind and o["metadata"]["name"] == "archivist-worker"], kind


def test_the_run_is_the_cli_process_command_over_the_inbox_non_interactively(dev_objects: list) -> None:
    container = _cron(dev_objects)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["process", "--mode", "fast", "--interactive=false", "/data/lib"]
    # No --force: the hash cache skips papers already processed (internal/worker/pool.go:298-310).
    assert "--force" not in container["args"] and "-f" not in container["args"]
    script = container["command"][2]
    assert container["command"][:2] == ["/bin/sh", "-c"] and "/app/archivist --config /app/config/config.yaml" in script


def test_wrapper_feeds_q_until_the_cli_exits_and_keeps_its_status(tmp_path: Path) -> None:
    """Run the wrapper against a stand-in that behaves like pool.go:415-425 (read lines until 'q')."""
    fake = tmp_path / "archivist"
    fake.write_text("#!/bin/sh\n# swallow a prompt's line, then wait for q like pool.go\nread first\n"
                    "while read line; do [ \"$line\" = q ] && exit 3; done\nexit 9\n")
    fake.chmod(0o755)
    script = RUN_SCRIPT.replace("/app/archivist", str(fake))
    result = subprocess.run(["/bin/sh", "-c", script, "archivist-run", *PROCESS_ARGS],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 3  # the CLI's own status, not the feeder's
    assert "archivist process exited with status 3" in result.stdout


def test_spot_scheduling_is_merged_into_the_batch_pod() -> None:
    from archivist_infra.tiers import worker as worker_tier

    spot = {"tolerations": [{"key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true",
                             "effect": "NoSchedule"}]}
    settings = load_settings({"images": VALID_IMAGES}, project="archivist", stack="t",
                             secrets_present={"geminiApiKey"})
    spec = worker_tier.job_spec(image="w:1", env=[], app=settings.worker, run=WorkerRunSettings(),
                                config_volume={"name": "config", "config_map": {"name": "archivist-config"}}, claim="archivist-data", config_checksum="x",
                                labels={"app.kubernetes.io/name": "archivist-worker"}, interruptible=spot)
    assert spec["template"]["spec"]["tolerations"] == spot["tolerations"]
    # The spec is in the API's own spelling, so the ops client can submit it unchanged.
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    assert "backoffLimit" in spec and "active_deadline_seconds" not in spec


def test_on_demand_job_names_follow_the_pattern() -> None:
    assert job_name("20261127103000") == "archivist-process-20261127103000"
    assert JOB_NAME_PATTERN.startswith("archivist-process-")
    assert len(job_name("20261127103000")) <= 52  # CronJob/Job name limits leave room for pod suffixes
    with pytest.raises(ValueError):
        job_name("now")


def test_on_demand_job_is_the_cronjobs_template(prod_objects: list) -> None:
    cron = {**_cron(prod_objects)}
    cron["metadata"] = {**cron["metadata"], "uid": "1234"}
    job = on_demand_job(cron, "20261127103000")
    assert job["metadata"]["name"] == "archivist-process-20261127103000"
    assert job["metadata"]["namespace"] == "archivist"
    assert job["spec"] == cron["spec"]["jobTemplate"]["spec"]
    assert job["metadata"]["ownerReferences"][0]["name"] == "archivist-worker"
    assert job["metadata"]["labels"]["app.kubernetes.io/name"] == "archivist-worker"  # network policy selects it


def test_camel_leaves_label_keys_alone() -> None:
    assert camel({"metadata": {"labels": {"app_x": "y"}}, "run_as_user": 1, "exec_": {"command": []}}) == {
        "metadata": {"labels": {"app_x": "y"}}, "runAsUser": 1, "exec": {"command": []}}


def test_schedule_deadline_and_suspend_are_configurable() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "worker": {
        "schedule": "@hourly", "deadlineSeconds": 900, "suspend": True}}))
    cron = _cron(objects)["spec"]
    assert cron["schedule"] == "@hourly" and cron["suspend"] is True
    assert cron["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 900


@pytest.mark.parametrize(("worker", "key"), [
    ({"mode": "daemon"}, "archivist:worker.mode"),
    ({"schedule": "every hour"}, "archivist:worker.schedule"),
    ({"deadlineSeconds": 5}, "archivist:worker.deadlineSeconds"),
    ({"command": ["process"]}, "archivist:worker.command"),  # batch runs `process` itself
    ({"mode": "service"}, "archivist:worker.mode"),  # the guide's `worker` command is not in the pinned CLI
    ({"mode": "service", "command": ["serve"]}, "archivist:worker.command"),
])
def test_bad_worker_settings_are_refused_by_name(worker: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"worker": worker}, project="archivist", stack="t", secrets_present={"geminiApiKey"})
    assert key in str(err.value)


def test_service_mode_refusal_lists_the_pinned_commands() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"worker": {"mode": "service"}}, project="archivist", stack="t", secrets_present={"geminiApiKey"})
    message = str(err.value)
    assert "`worker`" in message and "process" in message and "root.go:30-47" in message


def _checkout_with_command(root: Path, name: str) -> Path:
    (root / "go.mod").write_text("module archivist\n\ngo 1.24.0\n")
    commands = root / "cmd" / "main" / "commands"
    commands.mkdir(parents=True)
    (commands / f"{name}.go").write_text(
        f'package commands\n\nfunc New{name.title()}Command() *cobra.Command {{\n\tcmd := &cobra.Command{{\n'
        f'\t\tUse:   "{name}",\n\t}}\n\treturn cmd\n}}\n')
    return root


def test_service_mode_runs_a_command_the_source_has_as_the_guides_deployment(tmp_path: Path) -> None:
    checkout = _checkout_with_command(tmp_path, "worker")
    objects = manifests(run_config({"images": VALID_IMAGES, "source": {"path": str(checkout)},
                                    "worker": {"mode": "service", "command": ["worker", "--queue", "papers"]}}))
    deployment = find(objects, "Deployment", "archivist-worker")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["worker", "--queue", "papers"]
    assert env_of(container) == {"GEMINI_API_KEY": ("secret", "GEMINI_API_KEY"), "HOME": "/tmp"}
    hpa = find(objects, "HorizontalPodAutoscaler", "archivist-worker")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 20)
    assert not [o for o in objects if o["kind"] == "CronJob"]


def test_a_listening_service_mode_worker_gets_its_service_and_endpoint(tmp_path: Path) -> None:
    checkout = _checkout_with_command(tmp_path, "serve")
    run = run_config({"images": VALID_IMAGES, "source": {"path": str(checkout)},
                      "worker": {"mode": "service", "command": ["serve"], "port": 8080,
                                 "healthCheck": {"kind": "http", "path": "/health", "port": 8080}}})
    service = find(manifests(run), "Service", "archivist-worker")
    assert service["spec"]["ports"][0]["port"] == 8080


def test_batch_worker_capacity_counts_a_scheduled_and_an_on_demand_run() -> None:
    from archivist_infra.capacity.demands_from_settings import workload_demands

    settings = load_settings({"images": VALID_IMAGES}, project="archivist", stack="t",
                             secrets_present={"geminiApiKey"})
    [worker] = [d for d in workload_demands(settings) if d.name == "archivist-worker"]
    assert (worker.min_replicas, worker.max_replicas) == (0, 2)
    assert worker.cpu_limit == Decimal(2)


# -- services ---------------------------------------------------------------------------------------


def test_neo4j_keeps_the_database_the_graph_service_opens(prod_objects: list) -> None:
    neo4j = find(prod_objects, "StatefulSet", "neo4j")["spec"]["template"]["spec"]["containers"][0]
    assert not [e for e in neo4j["env"] if e["name"] == "NEO4J_initial_dbms_default__database"]
    with pytest.raises(ConfigError) as err:
        load_settings({"neo4j": {"database": "archivist"}}, project="archivist", stack="t",
                      secrets_present={"geminiApiKey"})
    assert "archivist:neo4j.database" in str(err.value)


def test_graph_waits_for_kafka_with_a_deadline_before_starting(dev_objects: list) -> None:
    pod = find(dev_objects, "Deployment", "archivist-graph")["spec"]["template"]["spec"]
    wait, neo4j = pod["initContainers"]
    assert wait["name"] == "wait-for-kafka" and wait["image"] == pod["containers"][0]["image"]
    # Audit F1: then for Neo4j, with the graph's own driver and credentials, before the schema is created.
    assert neo4j["name"] == "wait-for-neo4j" and neo4j["image"] == pod["containers"][0]["image"]
    compile(neo4j["command"][2], "wait-for-neo4j", "exec")
    assert "verify_connectivity()" in neo4j["command"][2]
    assert env_of(neo4j) == {"NEO4J_URI": ("config", "NEO4J_URI"), "NEO4J_USER": ("config", "NEO4J_USER"),
                             "NEO4J_PASSWORD": ("secret", "NEO4J_PASSWORD")}
    assert wait["command"][:2] == ["python", "-c"]
    compile(wait["command"][2], "wait-for-kafka", "exec")  # valid Python
    assert re.search(r"deadline = time\.monotonic\(\) \+ [0-9]+", wait["command"][2])
    assert env_of(wait) == {"KAFKA_BOOTSTRAP_SERVERS": ("config", "KAFKA_BOOTSTRAP_SERVERS")}


def test_kafka_partitions_cover_every_graph_consumer(prod_objects: list) -> None:
    kafka = find(prod_objects, "StatefulSet", "kafka")["spec"]["template"]["spec"]["containers"][0]
    partitions = int(next(e["value"] for e in kafka["env"] if e["name"] == "KAFKA_NUM_PARTITIONS"))
    # The graph scales on its consumer lag (KEDA ScaledObject, which makes its own HPA in the cluster)
    # when there is more than one partition, else on CPU (a plain HPA): exactly one of them owns it.
    scalers = [o for o in prod_objects if o["metadata"]["name"] == "archivist-graph"
               and o["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")]
    assert len(scalers) == 1, [o["kind"] for o in scalers]
    spec = scalers[0]["spec"]
    graph_max = spec["maxReplicaCount"] if scalers[0]["kind"] == "ScaledObject" else spec["maxReplicas"]
    assert partitions >= graph_max
    with pytest.raises(ConfigError) as err:
        load_settings({"kafka": {"partitions": 3}, "graph": {"autoscaling": {"maxReplicas": 6}}},
                      project="archivist", stack="t", secrets_present={"geminiApiKey"})
    assert "archivist:kafka.partitions" in str(err.value)


# -- the keeper x the worker (data-ops' archivist-data-keeper x the batch worker's spot placement) ------------


def _worker_pod(objects: list) -> dict[str, Any]:
    return find(objects, "CronJob", "archivist-worker")["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_a_read_write_once_shared_claim_puts_the_worker_beside_the_keeper(dev_objects: list) -> None:
    """The keeper holds a ReadWriteOnce claim attached to its node: a worker run elsewhere could never mount it."""
    [claim] = [o for o in dev_objects if o["kind"] == "PersistentVolumeClaim" and o["metadata"]["name"] == "archivist-data"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    keeper = find(dev_objects, "Deployment", "archivist-data-keeper")["spec"]["template"]["metadata"]["labels"]
    [term] = _worker_pod(dev_objects)["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"].items() <= keeper.items()


def test_a_read_write_many_shared_claim_leaves_the_worker_free(prod_objects: list) -> None:
    [claim] = [o for o in prod_objects if o["kind"] == "PersistentVolumeClaim" and o["metadata"]["name"] == "archivist-data"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert "podAffinity" not in (_worker_pod(prod_objects).get("affinity") or {})


def test_a_read_write_once_worker_leaves_the_spot_pool_and_is_sized_on_demand() -> None:
    from archivist_infra.capacity.demands_from_settings import workload_demands

    spot = {"tolerations": [{"key": "archivist.io/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}}
    args: dict[str, Any] = dict(image="img", env=[], app=load_settings({"images": VALID_IMAGES}, project="archivist",
                                stack="t", secrets_present={"geminiApiKey"}).worker, run=WorkerRunSettings(),
                                config_volume={"name": "config", "secret": {"secret_name": "c"}}, claim="archivist-data",
                                config_checksum="x", labels={"app.kubernetes.io/name": "archivist-worker"},
                                interruptible=spot)
    free = job_spec(**args)["template"]["spec"]
    tied = job_spec(**args, shared_read_write_once=True)["template"]["spec"]
    assert free["tolerations"] and "nodeAffinity" in free["affinity"]
    assert "tolerations" not in tied and set(tied["affinity"]) == {"podAffinity"}
    for mode, interruptible in (("ReadWriteMany", True), ("ReadWriteOnce", False)):
        settings = load_settings({"images": VALID_IMAGES, "sharedData": {"accessMode": mode}}, project="archivist",
                                 stack="t", secrets_present={"geminiApiKey"})
        [worker] = [d for d in workload_demands(settings) if d.name == "archivist-worker"]
        assert worker.interruptible is interruptible, mode
