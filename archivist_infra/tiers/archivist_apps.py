"""The three Archivist services, each given exactly the environment its code reads."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..config.settings import Settings
from ..images import ImageRefs
from .app_config import CONFIG_FILE, AppConfig
from .app_service import AppService, AppServiceArgs
from .context import TierContext
from .pods import Spec
from .secrets import AppSecrets

DATA_DIRS = ("/data/lib", "/data/tex_files", "/data/reports", "/data/logs")


@dataclass(frozen=True)
class ArchivistApps:
    worker: AppService
    search: AppService
    graph: AppService


def _literal(env: dict[str, str]) -> list[Spec]:
    return [{"name": k, "value": v} for k, v in sorted(env.items())]


def worker_env(config: AppConfig, secrets: AppSecrets, extra: dict[str, str]) -> list[Spec]:
    return [
        secrets.gemini_api_key.env("GEMINI_API_KEY"),
        *config.env("NEO4J_URI"),
        secrets.neo4j_password.env("NEO4J_PASSWORD"),
        *config.env("REDIS_URL", "QDRANT_HOST", "QDRANT_PORT", "KAFKA_BOOTSTRAP_SERVERS"),
        {"name": "MODE", "value": "worker"},
        {"name": "WORKER_ID", "value_from": {"field_ref": {"field_path": "metadata.name"}}},
        {"name": "HOME", "value": "/tmp"},  # TeX writes its font cache under $HOME; the root FS is read-only
        *_literal(extra),
    ]


def search_env(config: AppConfig, secrets: AppSecrets, extra: dict[str, str]) -> list[Spec]:
    # The original manifest forgot GEMINI_API_KEY, without which the service cannot embed queries.
    return [*config.env("REDIS_URL"), secrets.gemini_api_key.env("GEMINI_API_KEY"),
            {"name": "HOME", "value": "/tmp"}, *_literal(extra)]


def graph_env(config: AppConfig, secrets: AppSecrets, extra: dict[str, str]) -> list[Spec]:
    # The original manifest forgot QDRANT_URL, which the semantic search endpoints need.
    return [
        *config.env("NEO4J_URI", "NEO4J_USER"),
        secrets.neo4j_password.env("NEO4J_PASSWORD"),
        *config.env("KAFKA_BOOTSTRAP_SERVERS", "QDRANT_URL", "REDIS_URL"),
        secrets.gemini_api_key.env("GEMINI_API_KEY"),
        {"name": "HOME", "value": "/tmp"},
        *_literal(extra),
    ]


def deploy_apps(ctx: TierContext, settings: Settings, *, images: ImageRefs, config: AppConfig,
                secrets: AppSecrets, shared_claim: pulumi.Input[str]) -> ArchivistApps:
    worker = AppService("worker", ctx, AppServiceArgs(
        settings=settings.worker,
        image=images.worker,
        env=worker_env(config, secrets, settings.worker.extra_env),
        config_checksum=config.checksum,
        annotations=secrets.reload_annotations,
        volumes=[
            {"name": "config", "config_map": {"name": config.name, "items": [{"key": CONFIG_FILE, "path": CONFIG_FILE}]}},
            {"name": "shared-data", "persistent_volume_claim": {"claim_name": shared_claim}},
        ],
        volume_mounts=[
            {"name": "config", "mount_path": "/app/config", "read_only": True},
            {"name": "shared-data", "mount_path": "/data"},
        ],
        # A fresh shared volume hides the directories the image created under /data.
        init_containers=[{
            "name": "data-dirs",
            "image": images.worker,
            "image_pull_policy": "IfNotPresent",
            "command": ["/bin/sh", "-c", "mkdir -p " + " ".join(DATA_DIRS)],
            "volume_mounts": [{"name": "shared-data", "mount_path": "/data"}],
        }],
    ))
    search = AppService("search", ctx, AppServiceArgs(
        settings=settings.search,
        image=images.search,
        env=search_env(config, secrets, settings.search.extra_env),
        config_checksum=config.checksum,
        annotations=secrets.reload_annotations,
        # The service keeps an embedded vector index under ./data (WORKDIR /app).
        volumes=[{"name": "index", "empty_dir": {"size_limit": "2Gi"}}],
        volume_mounts=[{"name": "index", "mount_path": "/app/data"}],
    ))
    graph = AppService("graph", ctx, AppServiceArgs(
        settings=settings.graph,
        image=images.graph,
        env=graph_env(config, secrets, settings.graph.extra_env),
        config_checksum=config.checksum,
        annotations=secrets.reload_annotations,
        cpu_autoscaler=not (settings.keda is not None and settings.keda.enabled),  # KEDA scales it on lag
    ))
    return ArchivistApps(worker=worker, search=search, graph=graph)
