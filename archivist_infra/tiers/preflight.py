"""Jobs that `pulumi up` awaits before the apps roll: the Gemini model check and the graph's topic.

Pulumi waits for a Job to complete (pulumi-kubernetes' Job await; no skipAwait annotation here),
and the apps that need what a Job proves list it in `depends_on`, so a stack whose key is bad or
whose model is gone fails its `up` with the Job's one-line error before any app pod rolls.

- `archivist-model-check` runs archivist_infra/gemini_check.py (mounted from a ConfigMap, the very
  file `ops models` imports) with the search image's Python (python:3.11-slim: standard library,
  `ssl` and the CA bundle are there; the script needs nothing else). Egress: 443 to the internet.
- `archivist-kafka-topic` creates `paper.processed` with the configured partitions and the
  brokers' replication (kafka.py `replication`), retrying until enough brokers have registered:
  with prod's 3 brokers and replication 3 the create fails until the third broker is up (audit S1),
  so graph never starts against a topic that cannot exist yet. `--if-not-exists` keeps reruns
  harmless; a raised `kafka.partitions` is applied with `--alter` (Kafka only ever adds partitions).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from ..config.gemini import GeminiSettings
from ..config.settings import KafkaSettings, Resources
from ..gemini_models import MODELS
from .context import TierContext
from .kafka import UID as KAFKA_UID
from .kafka import replication
from .pods import Spec, container_security, pod_security, resources
from .secrets import SecretRef

# A Job that failed (bad key, no egress, brokers late) is replaced on the next `pulumi up` and runs again,
# instead of Pulumi waiting once more on the failed one (pulumi-kubernetes batch/v1 Job docs, v4.24.1).
REPLACE_UNREADY = {"pulumi.com/replaceUnready": "true"}
MODEL_CHECK = "archivist-model-check"
KAFKA_TOPIC = "archivist-kafka-topic"
GRAPH_TOPIC = "paper.processed"  # services/graph-service/app/main.py:150; the worker's graph.kafka.topic
CHECK_SCRIPT = Path(__file__).resolve().parent.parent / "gemini_check.py"
CHECK_MOUNT = "/check"
SEARCH_UID = 1000  # the search image's USER (images/search.Dockerfile)
TOPIC_WAIT_SECONDS = 900  # brokers of a first `up` start in parallel; prod's three need a few minutes
JOB_RESOURCES = Resources("50m", "64Mi", "250m", "128Mi")
# kafka-topics.sh is a JVM: 256m of heap and room for the JVM itself.
TOPIC_RESOURCES = Resources("100m", "384Mi", "500m", "512Mi")


def model_check_env(gemini: GeminiSettings, key: SecretRef) -> list[Spec]:
    wanted = f"{gemini.generation_model}:generateContent,{gemini.embedding_model}:embedContent"
    replacements = ",".join(f"{m.id}={m.replacement}" for m in MODELS if m.replacement)
    return [key.env("GEMINI_API_KEY"), {"name": "GEMINI_MODELS", "value": wanted},
            {"name": "GEMINI_REPLACEMENTS", "value": replacements}]


def topic_script(*, partitions: int, replicas: int) -> str:
    """Create the topic once enough brokers are registered, then raise its partitions if they are fewer.
    The bootstrap servers come from $BOOTSTRAP (the KafkaBroker endpoint, set on the container)."""
    tool = "/opt/kafka/bin/kafka-topics.sh"
    return (
        "set -u\n"
        f"deadline=$(( $(date +%s) + {TOPIC_WAIT_SECONDS} ))\n"
        f'until {tool} --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic {GRAPH_TOPIC} '
        f"--partitions {partitions} --replication-factor {replicas}; do\n"
        '  if [ "$(date +%s)" -ge "$deadline" ]; then\n'
        f'    echo "error: topic {GRAPH_TOPIC} not created after {TOPIC_WAIT_SECONDS}s: fewer than {replicas} '
        f'brokers registered at $BOOTSTRAP?" >&2; exit 1\n'
        "  fi\n"
        "  sleep 5\n"
        "done\n"
        f'have=$({tool} --bootstrap-server "$BOOTSTRAP" --describe --topic {GRAPH_TOPIC} '
        "| sed -n 's/.*PartitionCount: *\\([0-9]*\\).*/\\1/p' | head -n 1)\n"
        f'if [ -n "$have" ] && [ "$have" -lt {partitions} ]; then\n'
        f'  {tool} --bootstrap-server "$BOOTSTRAP" --alter --topic {GRAPH_TOPIC} --partitions {partitions} || exit 1\n'
        "fi\n"
        f'echo "topic {GRAPH_TOPIC}: {partitions} partitions (had ${{have:-?}}), replication {replicas}"\n'
    )


def _job_pod(*, name: str, uid: int, container: Spec, volumes: list[Spec], digest: pulumi.Input[str]) -> Spec:
    return {
        "metadata": {"labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "archivist",
                                "app.kubernetes.io/component": "preflight"},
                     # In the template: a changed model, key or partition count replaces the Job, so it runs again.
                     "annotations": {"archivist.dev/inputs-checksum": digest}},
        "spec": {
            "restart_policy": "Never",
            "automount_service_account_token": False,
            "enable_service_links": False,
            "security_context": pod_security(uid),
            "containers": [container],
            "volumes": volumes,
        },
    }


class Preflight(pulumi.ComponentResource):
    """The Jobs apps wait for: `model_check` (None when archivist:gemini.preflight is false) and `topic`."""

    model_check: k8s.batch.v1.Job | None
    topic: k8s.batch.v1.Job

    def __init__(self, name: str, ctx: TierContext, *, gemini: GeminiSettings, gemini_key: SecretRef,
                 key_checksum: pulumi.Input[str], check_image: pulumi.Input[str], kafka: KafkaSettings,
                 bootstrap: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:apps:Preflight", name, None, opts)
        self.model_check = self._model_check(name, ctx, gemini, gemini_key, key_checksum, check_image) \
            if gemini.preflight else None
        replicas = replication(kafka.brokers)["default_replication"]
        digest = hashlib.sha256(f"{kafka.partitions}/{replicas}".encode()).hexdigest()[:16]
        container = {
            "name": "create-topic",
            "image": kafka.image,
            "image_pull_policy": "IfNotPresent",
            "command": ["/bin/sh", "-c", topic_script(partitions=kafka.partitions, replicas=replicas)],
            "env": [{"name": "BOOTSTRAP", "value": bootstrap},
                    {"name": "KAFKA_HEAP_OPTS", "value": "-Xmx256m"},
                    {"name": "LOG_DIR", "value": "/tmp/logs"}],  # kafka-run-class.sh mkdirs it
            "resources": resources(TOPIC_RESOURCES),
            "security_context": container_security(read_only_root=True),
            "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
        }
        self.topic = k8s.batch.v1.Job(
            f"{name}-kafka-topic",
            metadata={"name": KAFKA_TOPIC, "namespace": ctx.namespace, "labels": ctx.labels(KAFKA_TOPIC, "preflight"),
                      "annotations": dict(REPLACE_UNREADY)},
            spec={
                "backoff_limit": 2,
                "active_deadline_seconds": TOPIC_WAIT_SECONDS + 300,
                "template": _job_pod(name=KAFKA_TOPIC, uid=KAFKA_UID, container=container, digest=digest,
                                     volumes=[{"name": "tmp", "empty_dir": {"size_limit": "64Mi"}}]),
            },
            # Pulumi's Job await gives up after 10 minutes by default; the brokers of a first `up` may take longer.
            opts=ctx.opts(self, custom_timeouts=pulumi.CustomTimeouts(
                create=f"{(TOPIC_WAIT_SECONDS + 300) // 60}m", update=f"{(TOPIC_WAIT_SECONDS + 300) // 60}m")),
        )
        self.register_outputs({"topic": self.topic.metadata.name})

    def _model_check(self, name: str, ctx: TierContext, gemini: GeminiSettings, key: SecretRef,
                     key_checksum: pulumi.Input[str], image: pulumi.Input[str]) -> k8s.batch.v1.Job:
        script = CHECK_SCRIPT.read_text()
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-model-check-script",
            metadata={"name": MODEL_CHECK, "namespace": ctx.namespace, "labels": ctx.labels(MODEL_CHECK, "preflight")},
            data={CHECK_SCRIPT.name: script},
            opts=ctx.opts(self),
        )
        env = model_check_env(gemini, key)
        inputs = f"{gemini.models}|{hashlib.sha256(script.encode()).hexdigest()}"
        digest = pulumi.Output.from_input(key_checksum).apply(
            lambda key_digest: hashlib.sha256(f"{inputs}|{key_digest}".encode()).hexdigest()[:16])
        container = {
            "name": "check-models",
            "image": image,
            "image_pull_policy": "IfNotPresent",
            "command": ["python", f"{CHECK_MOUNT}/{CHECK_SCRIPT.name}"],
            "env": env,
            "resources": resources(JOB_RESOURCES),
            "security_context": container_security(read_only_root=True),
            "volume_mounts": [{"name": "script", "mount_path": CHECK_MOUNT, "read_only": True},
                              {"name": "tmp", "mount_path": "/tmp"}],
        }
        spec: Spec = {
            # One retry for a passing network hiccup; a bad key or model fails the same way twice.
            "backoff_limit": 1,
            "active_deadline_seconds": 300,
            "template": _job_pod(name=MODEL_CHECK, uid=SEARCH_UID, container=container, digest=digest, volumes=[
                {"name": "script", "config_map": {"name": config_map.metadata.name}},
                {"name": "tmp", "empty_dir": {"size_limit": "16Mi"}},
            ]),
        }
        return k8s.batch.v1.Job(
            f"{name}-model-check",
            metadata={"name": MODEL_CHECK, "namespace": ctx.namespace, "labels": ctx.labels(MODEL_CHECK, "preflight"),
                      "annotations": dict(REPLACE_UNREADY)},
            spec=spec,
            opts=ctx.opts(self),
        )
