"""KEDA and the graph service scaled on its backlog: its job queue (default) or its Kafka consumer lag.

Why the queue (config/keda.py): the consumer commits as soon as it reads (kafka_consumer.py:46-48),
so the lag stays near 0 while papers wait in the graph's in-memory queue.

The graph service consumes `paper.processed` as consumer group `graph-builder`
(/work/app-src services/graph-service/app/main.py:150-151). A `ScaledObject` with KEDA's `kafka`
trigger replaces the graph's CPU HorizontalPodAutoscaler: KEDA creates (or adopts) and owns the HPA
`archivist-graph`, whose external metric is the group's lag divided by
`lagThreshold`, within `archivist:graph.autoscaling`'s bounds and behaviour. The upper bound never
exceeds the partitions (config/keda.py), and KEDA itself will not report more than one consumer
per partition while `allowIdleConsumers` is false (kedacore/keda v2.20.2
pkg/scalers/kafka_scaler.go:825-827).
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs

from ..config.keda import KedaSettings
from ..config.settings import Autoscaling
from .autoscaling import behavior
from .context import TierContext
from .pods import Spec

# kedacore/charts tag v2.20.2: keda/Chart.yaml (version and appVersion 2.20.2)
KEDA_CHART = "keda"
KEDA_CHART_VERSION = "2.20.2"
KEDA_VERSION = "2.20.2"
KEDA_REPO = "https://kedacore.github.io/charts"
KEDA_NAMESPACE = "keda"
# The operator pod's label (keda/templates/manager/deployment.yaml:30 at v2.20.2): the scaler runs there.
KEDA_OPERATOR_LABELS = {"app.kubernetes.io/name": "keda-operator"}

GRAPH_TOPIC = "paper.processed"  # services/graph-service/app/main.py:150
GRAPH_CONSUMER_GROUP = "graph-builder"  # services/graph-service/app/main.py:151
# The consumer starts from the beginning when the group has no offset (kafka_consumer.py:45,
# auto_offset_reset='earliest'), so lag is counted the same way (KEDA's default is `latest`).
GRAPH_OFFSET_RESET = "earliest"
# KEDA's HPA takes the name the CPU HPA had: on a stack that had the CPU HPA, the ScaledObject adopts it
# (the admission webhook refuses a second HPA on one Deployment otherwise; kedacore/keda v2.20.2
# apis/keda/v1alpha1/scaledobject_webhook.go:297-312), so switching is one `pulumi up`.
TRANSFER_HPA_ANNOTATION = "scaledobject.keda.sh/transfer-hpa-ownership"


def keda_values() -> dict[str, Any]:
    """Chart values, keys checked against keda/values.yaml at kedacore/charts v2.20.2."""
    return {
        "image": {
            "keda": {"tag": KEDA_VERSION},
            "metricsApiServer": {"tag": KEDA_VERSION},
            "webhooks": {"tag": KEDA_VERSION},
            "pullPolicy": "IfNotPresent",
        },
        # The chart's defaults (1 CPU / 1000Mi limits per pod) are far above what one ScaledObject needs.
        "resources": {
            part: {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
            for part in ("operator", "metricServer", "webhooks")
        },
    }


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def camel(value: Any) -> Any:
    """The typed-SDK (snake_case) spec as the raw Kubernetes JSON a custom resource carries."""
    if isinstance(value, dict):
        return {_camel(k) if re.fullmatch(r"[a-z_]+", k) else k: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


QUEUE_STATS_PATH = "/api/graph/queue-stats"  # services/graph-service/app/main.py:329-341
QUEUE_VALUE = "queue_size"  # its JSON: queue_size, processed_count, failed_count, active_workers, is_running


def queue_trigger(keda: KedaSettings, queue_stats_url: pulumi.Input[str]) -> Spec:
    """KEDA's metrics-api scaler (v2.20: pkg/scalers/metrics_api_scaler.go metadata; keda.sh/docs/2.20/scalers/metrics-api).
    Each replica's queue is its own (in memory), so KEDA asks every endpoint of the graph Service and
    sums (aggregateFromKubeServiceEndpoints, aggregationType sum; the URL's port is the pod's port, which
    the Service targets by name). The operator may list EndpointSlices (kedacore/charts v2.20.2
    keda/templates/manager/clusterrole.yaml:43-50); the NetworkPolicy lets it reach the graph pods.
    metricType AverageValue (KEDA's default): replicas = ceil(total queued / queueThreshold)."""
    return {
        "type": "metrics-api",
        "metricType": "AverageValue",
        "metadata": {
            "url": queue_stats_url,
            "format": "json",
            "valueLocation": QUEUE_VALUE,
            "targetValue": str(keda.queue_threshold),
            "activationTargetValue": str(keda.activation_queue_threshold),
            "aggregateFromKubeServiceEndpoints": "true",
            "aggregationType": "sum",
        },
    }


def scaled_object_spec(keda: KedaSettings, scaling: Autoscaling, *, deployment: pulumi.Input[str],
                       bootstrap: pulumi.Input[str], hpa_name: str,
                       queue_stats_url: pulumi.Input[str] | None = None) -> Spec:
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicaCount": keda.min_replicas,
        "maxReplicaCount": keda.max_replicas,
        "pollingInterval": keda.polling_interval_seconds,
        "advanced": {"horizontalPodAutoscalerConfig": {"name": hpa_name, "behavior": camel(behavior(scaling))}},
        "triggers": [queue_trigger(keda, queue_stats_url) if keda.signal == "queue" and queue_stats_url is not None
                     else lag_trigger(keda, bootstrap)],
    }


def lag_trigger(keda: KedaSettings, bootstrap: pulumi.Input[str]) -> Spec:
    return {
        "type": "kafka",
        "metadata": {
            "bootstrapServers": bootstrap,
            "consumerGroup": GRAPH_CONSUMER_GROUP,
            "topic": GRAPH_TOPIC,
            "lagThreshold": str(keda.lag_threshold),
            "activationLagThreshold": str(keda.activation_lag_threshold),
            "offsetResetPolicy": GRAPH_OFFSET_RESET,
            "allowIdleConsumers": "false",
        },
    }


class LagScaling(pulumi.ComponentResource):
    """KEDA's operator (cluster-wide, namespace `keda`) and the graph's ScaledObject."""

    def __init__(self, name: str, ctx: TierContext, keda: KedaSettings, scaling: Autoscaling, *,
                 deployment: pulumi.Input[str], bootstrap: pulumi.Input[str],
                 queue_stats_url: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:apps:LagScaling", name, None, opts)
        self.release = Release(
            "keda-chart",
            ReleaseArgs(name="keda", chart=KEDA_CHART, version=KEDA_CHART_VERSION, namespace=KEDA_NAMESPACE,
                        create_namespace=True, repository_opts=RepositoryOptsArgs(repo=KEDA_REPO),
                        values=keda_values(), atomic=True),
            opts=ctx.target.options(parent=self, depends_on=list(ctx.target.ready)),
        )
        app = "archivist-graph"
        self.scaled_object = k8s.apiextensions.CustomResource(
            f"{name}-graph",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": app, "namespace": ctx.namespace, "labels": ctx.labels(app, "autoscaler"),
                      "annotations": {TRANSFER_HPA_ANNOTATION: "true"}},
            spec=scaled_object_spec(keda, scaling, deployment=deployment, bootstrap=bootstrap, hpa_name=app,
                                    queue_stats_url=queue_stats_url),
            opts=ctx.opts(self, depends_on=[self.release]),
        )
        self.register_outputs({"scaledObject": app})
