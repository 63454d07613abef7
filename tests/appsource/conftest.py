"""The appsource harness: the patched services' real code, and real stores, on 127.0.0.1.

Run by scripts/ci/app.sh, which builds what these fixtures need and passes it by environment:
ARCHIVIST_APP_SOURCE (the pristine pinned tree), ARCHIVIST_APP_PATCHED (the tree with our patches),
ARCHIVIST_APP_VENV_SEARCH / _GRAPH (venvs from each service's patched requirements and our
constraints), ARCHIVIST_APP_JARS (Kafka's and neo4j-harness's jars), ARCHIVIST_APP_WORKER_TEST (the
patched worker's Go test binary). A missing one fails the test (never a skip).

Stores: Redis (Debian's redis-server), Kafka 4.3.1 in KRaft mode (one broker+controller, its
Maven Central jars), Neo4j 5.26 (neo4j-harness, in-process, Bolt). Qdrant is not run: search's
vector store is qdrant-client's embedded local mode (`QdrantClient(path=...)`, vector_store.py:61),
exactly as the image runs it, and the graph's Qdrant client (semantic_search.py) is never called on
the Kafka path. Gemini: tests/appsource/gemini_standin.py, reached through the google-genai SDK's
own GOOGLE_GEMINI_BASE_URL setting (google/genai/_base_url.py:50 in 1.45.0); no test-only code path.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from archivist_infra import gemini_models

from .gemini_standin import GeminiStandIn

HERE = Path(__file__).resolve().parent
API_KEY = "appsource-test-key"
# The models the deployment configures by default (live), and every model the dated table records as
# shut down (what the pinned source asked for among them): the stand-in answers 404 to the latter.
GENERATION_MODEL = gemini_models.DEFAULT_GENERATION_MODEL
EMBEDDING_MODEL = gemini_models.DEFAULT_EMBEDDING_MODEL
RETIRED_MODELS = {m.id for m in gemini_models.MODELS if m.is_shut_down(date.today())}
assert {"text-embedding-004", "gemini-2.0-flash", "gemini-2.0-flash-exp"} <= RETIRED_MODELS
TOPIC = "paper.processed"

PAPER_TITLE = "Sparse Mixture Routing for Citation Graphs"
PAPER_LATEX = r"""\documentclass{article}
\title{Sparse Mixture Routing for Citation Graphs}
\begin{document}
\maketitle
\begin{abstract}
We route citations through sparse mixtures of experts to rank influential research papers.
\end{abstract}
\section{Introduction}
Citation graphs grow quickly; routing keeps ranking cheap.
\end{document}
"""
# What the stand-in's generation model answers for metadata extraction (the graph asks for JSON).
EXTRACTED = {
    "title": PAPER_TITLE,
    "authors": ["Ada Standin", "Grace Loopback"],
    "affiliations": ["Loopback University", "Loopback University"],
    "year": 2026,
    "abstract": "We route citations through sparse mixtures of experts to rank influential research papers.",
    "venue": "Conference on Stand-ins",
    "venue_short": "CoSI",
    "methods": ["Sparse Mixture Routing"],
    "datasets": ["LoopbackCite"],
    "metrics": ["nDCG"],
    "research_field": "IR",
}


def required_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: the appsource tests are run by scripts/ci/app.sh, which builds what they need")
    return value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], timeout: float, logs: list[Path] = ()) -> None:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.5)
    tails = "\n".join(f"--- {log} ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:])
                      for log in logs if log.exists())
    pytest.fail(f"{what} not ready after {timeout:.0f}s\n{tails}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_json(url: str, body: Any = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class Processes:
    """Processes these fixtures start; each is stopped by its own pid (its process group)."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
              ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.logdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(proc)
        return proc, log

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            self.stop(proc)


@dataclass
class Stack:
    standin: GeminiStandIn
    redis_url: str
    kafka_bootstrap: str
    bolt_uri: str
    search_url: str
    graph_url: str
    search_dir: Path
    search_env: dict[str, str]
    search_proc: subprocess.Popen[bytes]
    graph_log: Path
    search_log: Path
    processes: Processes
    venv_graph: Path
    worker_test: Path

    def graph_python(self, code: str) -> str:
        """Run `code` with the graph venv (aiokafka, neo4j driver); its stdout."""
        result = subprocess.run([str(self.venv_graph / "bin/python"), "-c", code], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout


def _service_env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**base, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", **extra}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    patched = Path(required_env("ARCHIVIST_APP_PATCHED"))
    venv_search = Path(required_env("ARCHIVIST_APP_VENV_SEARCH"))
    venv_graph = Path(required_env("ARCHIVIST_APP_VENV_GRAPH"))
    jars = Path(required_env("ARCHIVIST_APP_JARS"))
    worker_test = Path(required_env("ARCHIVIST_APP_WORKER_TEST"))
    java = shutil.which("java")
    redis_server = shutil.which("redis-server")
    assert java and redis_server, "java and redis-server are required (scripts/ci/app.sh installs redis-server)"

    root = tmp_path_factory.mktemp("appsource")
    processes = Processes(root)
    standin = GeminiStandIn(API_KEY, {GENERATION_MODEL}, {EMBEDDING_MODEL}, json.dumps(EXTRACTED)).start()
    gemini_env = {"GEMINI_API_KEY": API_KEY, "GOOGLE_GEMINI_BASE_URL": standin.base_url,
                  "GEMINI_EMBEDDING_MODEL": EMBEDDING_MODEL, "GEMINI_EMBEDDING_DIMENSIONS": "768"}
    try:
        # Redis: Debian's server, no persistence.
        redis_port = free_port()
        _, redis_log = processes.start("redis", [redis_server, "--bind", "127.0.0.1", "--port", str(redis_port),
                                                 "--save", "", "--appendonly", "no", "--dir", str(root)])
        wait_for("redis", lambda: port_open(redis_port), 30, [redis_log])

        # Kafka: KRaft, one node as broker and controller; the topic created as the deployment does.
        kafka_port, controller_port = free_port(), free_port()
        kafka_dir = root / "kafka"
        kafka_dir.mkdir()
        properties = kafka_dir / "server.properties"
        properties.write_text("\n".join([
            "process.roles=broker,controller", "node.id=1",
            f"listeners=PLAINTEXT://127.0.0.1:{kafka_port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{kafka_port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}",
            f"log.dirs={kafka_dir / 'data'}",
            "offsets.topic.replication.factor=1", "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1", "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",  # the deployment creates paper.processed; so do we
        ]) + "\n")
        kafka_cp = f"{jars / 'kafka'}/*"
        # A random id may start with '-': passed as --cluster-id=ID so the tool never reads it as an option.
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        subprocess.run([java, "-cp", kafka_cp, "kafka.tools.StorageTool", "format", "--standalone", f"--cluster-id={cluster_id}",
                        "-c", str(properties)], check=True, capture_output=True, timeout=120)
        _, kafka_log = processes.start("kafka", [java, "-Xmx512m", "-cp", kafka_cp, "kafka.Kafka", str(properties)])
        wait_for("kafka", lambda: port_open(kafka_port), 90, [kafka_log])
        bootstrap = f"127.0.0.1:{kafka_port}"

        # The services: each the image's CMD (uvicorn app.main:app) from its patched directory copy.
        # As the image: only app/ (the source's services/search-engine/data/ holds a 384-dimension
        # collection the image never copies; the pod's index starts empty on its volume).
        search_dir = root / "search-engine"
        shutil.copytree(patched / "services/search-engine/app", search_dir / "app")
        search_port, graph_port, bolt_port = free_port(), free_port(), free_port()
        search_env = _service_env({**gemini_env, "REDIS_URL": f"redis://127.0.0.1:{redis_port}"})
        search_proc, search_log = processes.start(
            "search", [str(venv_search / "bin/uvicorn"), "app.main:app", "--host", "127.0.0.1", "--port", str(search_port)],
            cwd=search_dir, env=search_env)
        search_url = f"http://127.0.0.1:{search_port}"

        graph_dir = root / "graph-service"
        shutil.copytree(patched / "services/graph-service/app", graph_dir / "app")
        stack = Stack(standin, f"redis://127.0.0.1:{redis_port}", bootstrap, f"bolt://127.0.0.1:{bolt_port}",
                      search_url, f"http://127.0.0.1:{graph_port}", search_dir, search_env, search_proc,
                      root / "graph.log", search_log, processes, venv_graph, worker_test)
        stack.graph_python(
            "import asyncio\nfrom aiokafka.admin import AIOKafkaAdminClient, NewTopic\n"
            "async def main():\n"
            f"    admin = AIOKafkaAdminClient(bootstrap_servers={bootstrap!r})\n"
            "    await admin.start()\n"
            f"    await admin.create_topics([NewTopic({TOPIC!r}, num_partitions=3, replication_factor=1)])\n"
            "    await admin.close()\n"
            "asyncio.run(main())\n")

        # The graph starts BEFORE Neo4j (audit F1): the patched connect() must wait for Bolt.
        graph_env = _service_env({
            **gemini_env, "GEMINI_GENERATION_MODEL": GENERATION_MODEL,
            "NEO4J_URI": stack.bolt_uri, "NEO4J_USER": "neo4j", "NEO4J_PASSWORD": "unused-auth-is-off",
            "NEO4J_CONNECT_TIMEOUT": "180", "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "QDRANT_URL": "http://127.0.0.1:9",  # never called on the Kafka path; nothing listens there
            "SEARCH_SERVICE_URL": search_url,
        })
        processes.start("graph", [str(venv_graph / "bin/uvicorn"), "app.main:app", "--host", "127.0.0.1",
                                  "--port", str(graph_port)], cwd=graph_dir, env=graph_env)
        time.sleep(3)  # the graph is now retrying Bolt
        neo4j_dir = root / "neo4j"
        _, neo4j_log = processes.start("neo4j", [java, "-Xmx1g", "-cp", f"{jars / 'neo4j'}/*",
                                                 str(HERE / "stores/neo4j/Neo4jOnLoopback.java"), str(bolt_port), str(neo4j_dir)])
        wait_for("neo4j", lambda: "BOLT " in neo4j_log.read_text(errors="replace"), 180, [neo4j_log])
        wait_for("search /health", lambda: http_json(f"{search_url}/health")["status"] == "healthy", 90, [search_log])
        wait_for("graph /health", lambda: http_json(f"{stack.graph_url}/health")["neo4j"] == "connected", 240,
                 [stack.graph_log, neo4j_log])
        yield stack
    finally:
        processes.stop_all()
        standin.stop()
