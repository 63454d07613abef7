"""The three Archivist services, each given exactly the environment its code reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pulumi

from ..config.settings import Settings, Volume
from ..config.worker import WorkerRunSettings
from ..images import ImageRefs
from .app_config import AppConfig
from .app_service import AppService, AppServiceArgs
from .context import TierContext
from .pods import Spec
from .preflight import Preflight
from .secrets import AppSecrets
from .worker import ArchivistWorker


@dataclass(frozen=True)
class ArchivistApps:
    worker: ArchivistWorker
    search: AppService
    graph: AppService


def _literal(env: dict[str, str]) -> list[Spec]:
    return [{"name": k, "value": v} for k, v in sorted(env.items())]


def worker_env(secrets: AppSecrets, extra: dict[str, str]) -> list[Spec]:
    """The worker reads GEMINI_API_KEY (internal/app/config.go:197, its only os.Getenv) and its config
    file; viper binds no environment. HOME: Go's os.UserHomeDir (preferences, config.go:176) and TeX's
    caches write under it, and the root filesystem is read-only."""
    return [
        secrets.gemini_api_key.env("GEMINI_API_KEY"),
        {"name": "HOME", "value": "/tmp"},
        *_literal(extra),
    ]


@dataclass(frozen=True)
class Links:
    """Addresses of one app handed to another (not stores: those come through AppConfig)."""

    search_url: pulumi.Input[str] | None = None  # the search Service's http://host:port


# The embedding model and its output size (search and graph), the generation model (graph): the patched
# services read them instead of the shut-down ids they hard-coded (notes/app-contract.md).
EMBEDDING_ENV = ("GEMINI_EMBEDDING_MODEL", "GEMINI_EMBEDDING_DIMENSIONS")


def search_env(config: AppConfig, secrets: AppSecrets, extra: dict[str, str], _links: Links) -> list[Spec]:
    # The original manifest forgot GEMINI_API_KEY, without which the service cannot embed queries.
    return [*config.env("REDIS_URL", *EMBEDDING_ENV), secrets.gemini_api_key.env("GEMINI_API_KEY"),
            {"name": "HOME", "value": "/tmp"}, *_literal(extra)]


def graph_env(config: AppConfig, secrets: AppSecrets, extra: dict[str, str], links: Links) -> list[Spec]:
    # What services/graph-service/app reads (main.py:113-164): Neo4j, Kafka, Qdrant, Gemini; no Redis.
    # SEARCH_SERVICE_URL: the patched consumer indexes every paper it adds through search's /api/index/paper.
    search = [{"name": "SEARCH_SERVICE_URL", "value": links.search_url}] if links.search_url is not None else []
    return [
        *config.env("NEO4J_URI", "NEO4J_USER"),
        secrets.neo4j_password.env("NEO4J_PASSWORD"),
        *config.env("KAFKA_BOOTSTRAP_SERVERS", "QDRANT_URL", "GEMINI_GENERATION_MODEL", *EMBEDDING_ENV),
        secrets.gemini_api_key.env("GEMINI_API_KEY"),
        *search,
        {"name": "HOME", "value": "/tmp"},
        *_literal(extra),
    ]


# The graph service's startup gives Kafka 10 tries 3 s apart, then uvicorn exits
# (services/graph-service/app/kafka_consumer.py:34-67, main.py:145-154): on a first deploy,
# where Kafka starts with it, that is a crash loop into long back-offs. This waits for a
# broker's port first, with the graph image's own python, and gives up after a deadline.
KAFKA_WAIT_SECONDS = 600
KAFKA_WAIT = f"""import os, socket, sys, time
deadline = time.monotonic() + {KAFKA_WAIT_SECONDS}
servers = os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(",")
while True:
    for server in servers:
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
            print(f"kafka reachable at {{server}}")
            sys.exit(0)
        except OSError as error:
            last = f"{{server}}: {{error}}"
    if time.monotonic() > deadline:
        print(f"kafka not reachable after {KAFKA_WAIT_SECONDS}s ({{last}})", file=sys.stderr)
        sys.exit(1)
    time.sleep(3)
"""


def kafka_wait_container(image: pulumi.Input[str], config: AppConfig) -> Spec:
    return {
        "name": "wait-for-kafka",
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "command": ["python", "-c", KAFKA_WAIT],
        "env": config.env("KAFKA_BOOTSTRAP_SERVERS"),
    }


# Audit F1: the graph's startup creates its schema with one warning per failed constraint and goes on
# (graph_builder.py:49-55,83-89) when Neo4j is not up yet. This waits until the graph's own driver
# (neo4j 5.16, graph requirements.txt:11) opens a session with the graph's credentials, so the schema
# is created against a live server; a TCP connect alone is accepted by Neo4j before it serves queries.
NEO4J_WAIT_SECONDS = 900
NEO4J_WAIT = f"""import os, sys, time
from neo4j import GraphDatabase
deadline = time.monotonic() + {NEO4J_WAIT_SECONDS}
uri, auth = os.environ["NEO4J_URI"], (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
while True:
    try:
        with GraphDatabase.driver(uri, auth=auth, connection_timeout=5) as driver:
            driver.verify_connectivity()
            with driver.session(database="neo4j") as session:
                session.run("RETURN 1").consume()
        print(f"neo4j answers at {{uri}}")
        sys.exit(0)
    except Exception as error:  # noqa: BLE001 - any failure means: not yet
        last = f"{{type(error).__name__}}: {{error}}"
    if time.monotonic() > deadline:
        print(f"neo4j not answering at {{uri}} after {NEO4J_WAIT_SECONDS}s ({{last}})", file=sys.stderr)
        sys.exit(1)
    time.sleep(3)
"""


def neo4j_wait_container(image: pulumi.Input[str], config: AppConfig, secrets: AppSecrets) -> Spec:
    return {
        "name": "wait-for-neo4j",
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "command": ["python", "-c", NEO4J_WAIT],
        "env": [*config.env("NEO4J_URI", "NEO4J_USER"), secrets.neo4j_password.env("NEO4J_PASSWORD")],
    }


EnvBuilder = Callable[[AppConfig, AppSecrets, dict[str, str], Links], list[Spec]]
# The one table of what each service gets: the tier builds its env from it, and the config
# check asks it (through `derived_env_names`) which names a user's `env` may not repeat.
ENV_BUILDERS: dict[str, EnvBuilder] = {
    # The worker reads no service address from its environment: its config file carries them.
    "worker": lambda _config, secrets, extra, _links: worker_env(secrets, extra),
    "search": search_env,
    "graph": graph_env,
}


class _NamesOnly:
    """Stands in for AppConfig (`env(*keys)` gives entries) and AppSecrets (`<ref>.env(name)` gives
    one entry): every entry carries just its name, so no resource is needed to list them."""

    def env(self, *keys: str) -> list[dict[str, str]]:
        return [{"name": k} for k in keys]

    def __getattr__(self, ref: str) -> _SecretRefName:
        return _SecretRefName()


class _SecretRefName:
    def env(self, name: str) -> dict[str, str]:
        return {"name": name}


def derived_env_names(app: str) -> list[str]:
    """The env var names the program itself sets on `app`'s container (not the user's `env`)."""
    built = ENV_BUILDERS[app](cast(AppConfig, _NamesOnly()), cast(AppSecrets, _NamesOnly()), {},
                              Links(search_url="http://search"))
    return [str(e["name"]) for e in built]


def deploy_apps(ctx: TierContext, settings: Settings, *, images: ImageRefs, config: AppConfig,
                secrets: AppSecrets, shared_claim: pulumi.Input[str],
                preflight: Preflight | None = None) -> ArchivistApps:
    """`preflight`: its Jobs gate the apps (Pulumi creates an app only once the Jobs it needs completed)."""
    checked: list[pulumi.Resource] = [preflight.model_check] \
        if preflight is not None and preflight.model_check is not None else []
    topic: list[pulumi.Resource] = [preflight.topic] if preflight is not None else []
    none = Links()
    worker = ArchivistWorker(
        "worker", ctx, app=settings.worker, run=settings.worker_run or WorkerRunSettings(),
        image=images.worker, env=ENV_BUILDERS["worker"](config, secrets, settings.worker.extra_env, none),
        config_volume=config.config_file_volume(), config_checksum=config.checksum, claim=shared_claim,
        shared_read_write_once=settings.shared_data.access_mode == "ReadWriteOnce",
        depends_on=[*checked, *topic],  # it publishes to the topic
    )
    index = settings.search_index or Volume(size="2Gi", storage_class=None)
    search = AppService("search", ctx, AppServiceArgs(
        settings=settings.search,
        image=images.search,
        env=ENV_BUILDERS["search"](config, secrets, settings.search.extra_env, none),
        config_checksum=config.checksum,
        annotations=secrets.reload_annotations,
        # The service keeps an embedded Qdrant under ./data/qdrant (app/vector_store.py:27-31, WORKDIR /app):
        # a volume per replica that survives restarts, reschedules and scale-downs. Replicas do not share
        # it (an embedded Qdrant locks its directory), so each replica has its own index (docs/application-readiness.md).
        volume_mounts=[{"name": "index", "mount_path": "/app/data"}],
        claim_templates={"index": (index.size, index.storage_class or ctx.target.storage.read_write_once)},
        depends_on=checked,
    ))
    graph = AppService("graph", ctx, AppServiceArgs(
        settings=settings.graph,
        image=images.graph,
        env=ENV_BUILDERS["graph"](config, secrets, settings.graph.extra_env,
                                  Links(search_url=search.endpoint.url if search.endpoint is not None else None)),
        config_checksum=config.checksum,
        init_containers=[kafka_wait_container(images.graph, config), neo4j_wait_container(images.graph, config, secrets)],
        depends_on=[*checked, *topic],  # its consumer subscribes to the topic the Job created
        annotations=secrets.reload_annotations,
        cpu_autoscaler=not (settings.keda is not None and settings.keda.enabled),  # KEDA scales it on lag
    ))
    return ArchivistApps(worker=worker, search=search, graph=graph)
