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

from ..endpoint import Endpoint
from .context import TierContext

CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class StoreEndpoints:
    neo4j: Endpoint
    redis: Endpoint
    qdrant: Endpoint
    qdrant_grpc: Endpoint
    kafka: Endpoint
    neo4j_database: str
    # Redis requires a password (redis.py): REDIS_URL with it and config.yaml's cache.redis.password
    # then come from a Secret instead of the ConfigMap. None: a Redis without auth (tests only).
    redis_password: pulumi.Output[str] | None = None
    # Only digested into the pods' checksum: a rotated Neo4j password rolls the apps (env from a Secret
    # is read at start only). README: "Rotating the Neo4j password".
    neo4j_password: pulumi.Output[str] | None = None


def worker_config(neo4j_url: str, neo4j_db: str, qdrant_host: str, qdrant_port: int, qdrant_grpc_port: int,
                  redis_address: str, redis_password: str = "") -> str:
    """The worker's config.yaml, as the original ConfigMap laid it out, with derived addresses."""
    config: dict[str, Any] = {
        "input_dir": "/data/lib",
        "tex_output_dir": "/data/tex_files",
        "report_output_dir": "/data/reports",
        "processing": {"max_workers": 4, "batch_size": 10, "timeout_per_paper": 600},
        "gemini": {
            "model": "models/gemini-2.0-flash-exp",
            "max_tokens": 8000,
            "temperature": 0.3,
            "agentic": {
                "enabled": True, "max_iterations": 1, "self_reflection": False, "multi_stage_analysis": False,
                "retry": {"max_attempts": 3, "backoff_multiplier": 2, "initial_delay_ms": 1000},
            },
        },
        "latex": {"compiler": "pdflatex", "engine": "latexmk", "clean_aux": True},
        "graph": {
            "enabled": True,
            "neo4j": {"uri": neo4j_url, "username": "neo4j", "database": neo4j_db},
            "citation_extraction": {"enabled": True, "prioritize_in_text": True, "confidence_threshold": 0.7},
            "search": {"vector_weight": 0.5, "graph_weight": 0.3, "keyword_weight": 0.2},
        },
        "qdrant": {
            "host": qdrant_host, "port": qdrant_port, "grpc_port": qdrant_grpc_port,
            "collection_name": "archivist_papers", "use_grpc": True,
            "vector": {"size": 768, "distance": "Cosine", "on_disk": False},
            "chunking": {"enabled": True, "chunk_size": 512, "chunk_overlap": 50},
        },
        "cache": {"enabled": True, "type": "redis", "ttl": 720,
                  "redis": {"addr": redis_address, "password": redis_password, "db": 0}},
        "logging": {"level": "info", "file": "/data/logs/processing.log", "console": True},
    }
    return yaml.safe_dump(config, sort_keys=False)


class AppConfig(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, ctx: TierContext, stores: StoreEndpoints,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:config:AppConfig", name, None, opts)
        password = stores.redis_password
        config_yaml = pulumi.Output.all(
            stores.neo4j.url, stores.qdrant.host, stores.redis.address, password if password is not None else ""
        ).apply(lambda v: worker_config(v[0], stores.neo4j_database, v[1], stores.qdrant.port,
                                        stores.qdrant_grpc.port, v[2], v[3]))
        data: dict[str, pulumi.Input[str]] = {
            "NEO4J_URI": stores.neo4j.url,
            "NEO4J_USER": "neo4j",
            "QDRANT_HOST": stores.qdrant.host,
            "QDRANT_PORT": str(stores.qdrant.port),
            "QDRANT_URL": stores.qdrant.url,
            "KAFKA_BOOTSTRAP_SERVERS": stores.kafka.address,
        }
        secret_data: dict[str, pulumi.Input[str]] = {}
        if password is None:
            data[CONFIG_FILE] = config_yaml
            data["REDIS_URL"] = stores.redis.url
        else:
            # Both carry the Redis password: a Secret, never the ConfigMap.
            secret_data[CONFIG_FILE] = pulumi.Output.secret(config_yaml)
            secret_data["REDIS_URL"] = pulumi.Output.secret(pulumi.Output.concat(
                "redis://:", password, "@", stores.redis.host, ":", str(stores.redis.port)))
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
