"""The ConfigMap with the worker's config.yaml and the service addresses.

Every address comes from a store's Endpoint, so renaming a Service or the namespace
updates the config instead of leaving a hand-typed host behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from ..config.gemini import GeminiSettings
from ..endpoint import Endpoint
from .context import TierContext
from .credentials import StoreCredentials

CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class StoreEndpoints:
    neo4j: Endpoint
    redis: Endpoint
    qdrant: Endpoint
    kafka: Endpoint
    # Redis requires a password (redis.py): REDIS_URL with it and config.yaml's cache.redis.password
    # come from a Secret, never the ConfigMap; these credentials are the only way to it.
    redis_credentials: StoreCredentials
    neo4j_database: str = "neo4j"  # the database the graph service opens (main.py:121-127)
    # Only digested into the pods' checksum: a rotated Neo4j password rolls the apps (env from a Secret
    # is read at start only). docs/data-safety-ops.md, "Neo4j password rotation".
    neo4j_password: pulumi.Output[str] | None = None


FAISS_INDEX_DIR = "/data/faiss_index"
GRAPH_TOPIC = "paper.processed"  # services/graph-service/app/main.py:150 consumes it


def api_model(model: str) -> str:
    """validateConfig wants `gemini.model` to start with `models/` (internal/app/config.go:267-270)."""
    return model if model.startswith("models/") else f"models/{model}"


def worker_config(*, neo4j_url: str, neo4j_db: str, redis_address: str, max_workers: int,
                  kafka_bootstrap: str, gemini: GeminiSettings | None = None, redis_password: str = "") -> str:
    """The worker's config.yaml: the keys app.Config reads (internal/app/config.go:14-152), with the
    values of the pinned config/config.yaml where the cluster does not decide them, and passing
    validateConfig (config.go:244-318; ported in tests/test_worker.py). The model keys and
    graph.kafka are read by the patched worker (images/patches/, notes/app-contract.md): the pinned
    one forced shut-down models (process.go:261-274) and sent to localhost:9094 (pool.go:56-61)."""
    models = gemini or GeminiSettings()
    model = api_model(models.generation_model)
    config: dict[str, Any] = {
        "input_dir": "/data/lib",
        "tex_output_dir": "/data/tex_files",
        "report_output_dir": "/data/reports",
        # max_workers <= runtime.NumCPU() on the smallest node (config.go:249-252).
        "processing": {"max_workers": max_workers, "batch_size": 10, "timeout_per_paper": 600},
        "gemini": {
            "model": model,
            "max_tokens": 8000,
            "temperature": 0.3,
            # config/config.yaml:16-42: the stage settings matter (analyzer.go:83-88 reads stage 1's).
            "agentic": {
                "enabled": True, "max_iterations": 1, "self_reflection": False, "multi_stage_analysis": False,
                "stages": {
                    "metadata_extraction": {"model": model, "temperature": 1},
                    "methodology_analysis": {"model": model, "temperature": 1, "thinking_budget": 10000},
                    "latex_generation": {"model": model, "temperature": 1, "validation": True},
                },
                "retry": {"max_attempts": 3, "backoff_multiplier": 2, "initial_delay_ms": 1000},
            },
        },
        "latex": {"compiler": "pdflatex", "engine": "latexmk", "clean_aux": True},
        "hash_algorithm": "sha256",  # config/config.yaml:49; validateConfig refuses an empty one (config.go:303-315)
        # `index` and `chat` create this directory (index.go:89, chat.go:103); on the shared volume.
        "faiss": {"index_dir": FAISS_INDEX_DIR},
        "graph": {
            "enabled": True,
            # No Neo4j password: the Go CLI opens Neo4j only in cmd/graph-init, which the worker
            # image does not contain (docs/application-readiness.md).
            "neo4j": {"uri": neo4j_url, "username": "neo4j", "database": neo4j_db},
            "async_building": True,
            "max_graph_workers": 2,
            "citation_extraction": {"enabled": True, "prioritize_in_text": True, "confidence_threshold": 0.7,
                                    "importance_filter": ["high", "medium"]},
            "search": {"default_top_k": 10, "vector_weight": 0.5, "graph_weight": 0.3, "keyword_weight": 0.2,
                       "traversal_depth": 2},
            # The batch publishes one event per processed paper here (the patched pool.go); graph consumes it.
            "kafka": {"brokers": [kafka_bootstrap], "topic": GRAPH_TOPIC},
        },
        # The embedding model where the worker embeds (config/config.yaml:108-132 upstream; honoured by the patch).
        "qdrant": {"embedding": {"model": models.embedding_model}},
        # The hash cache `process` skips processed papers with (internal/worker/pool.go:273-310).
        "cache": {"enabled": True, "type": "redis", "ttl": 720,
                  "redis": {"addr": redis_address, "password": redis_password, "db": 0}},
        "logging": {"level": "info", "file": "/data/logs/processing.log", "console": True},
    }
    return yaml.safe_dump(config, sort_keys=False)


class AppConfig(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, ctx: TierContext, stores: StoreEndpoints, *, max_workers: int,
                 gemini: GeminiSettings | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:config:AppConfig", name, None, opts)
        password = stores.redis_credentials.password
        models = gemini or GeminiSettings()
        config_yaml = pulumi.Output.all(
            stores.neo4j.url, stores.redis.address, password, stores.kafka.address
        ).apply(lambda v: worker_config(neo4j_url=v[0], neo4j_db=stores.neo4j_database, redis_address=v[1],
                                        max_workers=max_workers, redis_password=v[2], kafka_bootstrap=v[3],
                                        gemini=models))
        # Only what some service reads: config.yaml (worker); NEO4J_*, KAFKA_*, QDRANT_URL (graph); REDIS_URL (search);
        # GEMINI_* (search and graph, patched: notes/app-contract.md).
        data: dict[str, pulumi.Input[str]] = {
            "NEO4J_URI": stores.neo4j.url,
            "NEO4J_USER": "neo4j",
            "QDRANT_URL": stores.qdrant.url,
            "KAFKA_BOOTSTRAP_SERVERS": stores.kafka.address,
            "GEMINI_GENERATION_MODEL": models.generation_model,
            "GEMINI_EMBEDDING_MODEL": models.embedding_model,
            "GEMINI_EMBEDDING_DIMENSIONS": str(models.embedding_dimensions),
        }
        # Both carry the Redis password: a Secret, never the ConfigMap.
        secret_data: dict[str, pulumi.Input[str]] = {
            CONFIG_FILE: pulumi.Output.secret(config_yaml),
            "REDIS_URL": pulumi.Output.secret(pulumi.Output.concat(
                "redis://:", password, "@", stores.redis.host, ":", str(stores.redis.port))),
        }
        cm = k8s.core.v1.ConfigMap(
            f"{name}-configmap",
            metadata={"name": "archivist-config", "namespace": ctx.namespace, "labels": ctx.labels("archivist", "config")},
            data=data,
            opts=ctx.opts(self),
        )
        self.name = cm.metadata.name
        self.secret_name: pulumi.Output[str] | None = None
        digests = [cm.data.apply(lambda d: _digest(dict(d)))]
        if secret_data:
            secret = k8s.core.v1.Secret(
                f"{name}-secret",
                metadata={"name": "archivist-config-secret", "namespace": ctx.namespace,
                          "labels": ctx.labels("archivist", "config")},
                type="Opaque",
                string_data=secret_data,
                opts=ctx.opts(self),
            )
            self.secret_name = secret.metadata.name
            # The digest of secret values in an annotation: a truncated sha256 reveals nothing usable.
            digests.append(pulumi.Output.unsecret(pulumi.Output.all(*secret_data.values()).apply(
                lambda values: _digest(dict(zip(secret_data, values, strict=True))))))
        # Redis's digest once Redis has rolled: the apps (search's REDIS_URL, the worker's config.yaml) follow it.
        digests.append(stores.redis_credentials.applied_digest)
        if stores.neo4j_password is not None:
            digests.append(pulumi.Output.unsecret(stores.neo4j_password.apply(lambda p: _digest({"neo4j": p}))))
        self._secret_keys = set(secret_data)
        # Pods read this config at start only: a checksum in their template rolls them when it changes.
        self.checksum = pulumi.Output.all(*digests).apply(lambda parts: _digest({"parts": parts}))
        self.register_outputs({"name": self.name})

    def config_file_volume(self) -> dict[str, object]:
        """The worker's `config` volume holding config.yaml (a Secret when it carries the Redis password)."""
        items = [{"key": CONFIG_FILE, "path": CONFIG_FILE}]
        if self.secret_name is not None:
            return {"name": "config", "secret": {"secret_name": self.secret_name, "items": items}}
        return {"name": "config", "config_map": {"name": self.name, "items": items}}

    def env(self, *keys: str) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for k in keys:
            if k in self._secret_keys:
                out.append({"name": k, "value_from": {"secret_key_ref": {"name": self.secret_name, "key": k}}})
            else:
                out.append({"name": k, "value_from": {"config_map_key_ref": {"name": self.name, "key": k}}})
        return out


def _digest(data: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
