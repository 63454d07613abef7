"""A batch's paper, end to end, in the services' real (patched) code, without Google.

The patched worker's own producer (its Go test binary, NewWorkerPool of a batch run configured with
graph.kafka) publishes `paper.processed` to Kafka; the graph service's real consumer takes it,
extracts metadata with the configured generation model (the stand-in), adds the paper to Neo4j, and
POSTs it to the search service, which embeds it with the configured embedding model at 768
dimensions; then `/api/graph/stats` counts it and search's semantic search finds it. The stand-in
refuses every retired model, so all of this only works because the patched code asks for the
configured ones.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .conftest import (
    EMBEDDING_MODEL,
    EXTRACTED,
    GENERATION_MODEL,
    PAPER_LATEX,
    PAPER_TITLE,
    RETIRED_MODELS,
    TOPIC,
    Stack,
    http_json,
    wait_for,
)

pytestmark = pytest.mark.appsource


@pytest.fixture(scope="module")
def published(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """The batch worker's producer publishes one processed paper."""
    latex = tmp_path_factory.mktemp("paper") / "paper.tex"
    latex.write_text(PAPER_LATEX)
    result = subprocess.run(
        [str(stack.worker_test), "-test.run", "^TestAppsourcePublish$", "-test.v", "-test.count=1"],
        env={**os.environ, "APPSOURCE_KAFKA_BROKERS": stack.kafka_bootstrap, "APPSOURCE_KAFKA_TOPIC": TOPIC,
             "APPSOURCE_LATEX": str(latex), "APPSOURCE_PDF_PATH": "/data/lib/sparse-routing.pdf"},
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return stack


def test_the_event_is_in_the_format_the_graph_consumer_validates(published: Stack) -> None:
    # Read back from the topic with aiokafka (the graph's client): the worker's JSON, Snappy-compressed.
    out = published.graph_python(
        "import asyncio, json\nfrom aiokafka import AIOKafkaConsumer\n"
        "async def main():\n"
        f"    c = AIOKafkaConsumer({TOPIC!r}, bootstrap_servers={published.kafka_bootstrap!r}, group_id='appsource-check',"
        " auto_offset_reset='earliest')\n"
        "    await c.start()\n"
        "    try:\n"
        "        batch = await c.getmany(timeout_ms=20000)\n"
        "        print(json.dumps([json.loads(m.value) for ms in batch.values() for m in ms]))\n"
        "    finally:\n"
        "        await c.stop()\n"
        "asyncio.run(main())\n")
    events = json.loads(out.strip().splitlines()[-1])
    assert len(events) == 1
    event = events[0]
    assert event["paper_title"] == PAPER_TITLE  # the worker's extractTitleFromLatex
    assert event["latex_content"] == PAPER_LATEX and event["pdf_path"] == "/data/lib/sparse-routing.pdf"
    assert {"processed_at", "priority"} <= set(event)


def test_the_graph_consumes_it_and_neo4j_has_the_paper(published: Stack) -> None:
    def built() -> bool:  # the job has run to its end (the paper node comes first, then the rest)
        return "Graph building complete for: " + PAPER_TITLE in published.graph_log.read_text(errors="replace")
    wait_for("the graph's job for the paper", built, 180, [published.graph_log])
    stats = http_json(f"{published.graph_url}/api/graph/stats")
    assert stats["paper_count"] == 1
    # Authors, method, dataset and venue come only from the generation model's answer (the LaTeX has
    # no \author and no year, so the extractor asks the model): the configured model was asked.
    assert stats["author_count"] == len(EXTRACTED["authors"])
    assert stats["method_count"] == 1 and stats["dataset_count"] == 1 and stats["venue_count"] == 1
    queue = http_json(f"{published.graph_url}/api/graph/queue-stats")
    assert json.dumps(queue)  # the queue endpoint KEDA's metrics-api scaler would read answers
    generation = published.standin.calls_for("generateContent")
    assert generation and {c.model for c in generation} == {GENERATION_MODEL}


def test_the_schema_exists_although_the_graph_started_before_neo4j(published: Stack) -> None:
    # Audit F1: the graph was started before Neo4j; the patched connect() waited for Bolt.
    out = published.graph_python(
        "from neo4j import GraphDatabase\n"
        f"d = GraphDatabase.driver({published.bolt_uri!r}, auth=('neo4j', 'x'))\n"
        "print(sorted(r['name'] for r in d.execute_query('SHOW CONSTRAINTS').records))\n"
        "d.close()\n")
    names = eval(out.strip().splitlines()[-1])  # a printed list of strings
    assert set(names) >= {"paper_title_unique", "author_name_unique", "institution_name_unique",
                          "method_name_unique", "dataset_name_unique", "venue_name_unique"}
    log = published.graph_log.read_text(errors="replace")
    assert "Waiting for Neo4j" in log  # it really started first and waited
    assert "Schema query failed" not in log


def test_the_graph_indexed_it_in_search_and_a_search_finds_it(published: Stack) -> None:
    def indexed() -> bool:
        return "Indexed for search (200)" in published.graph_log.read_text(errors="replace")
    wait_for("the graph's POST /api/index/paper", indexed, 120, [published.graph_log, published.search_log])
    embeds = [c for c in published.standin.calls if c.action in ("embedContent", "batchEmbedContents")]
    assert embeds and all(c.model == EMBEDDING_MODEL and c.status == 200 for c in embeds)
    assert all(d == 768 for c in embeds for d in c.dimensions)  # GEMINI_EMBEDDING_DIMENSIONS, the collection size
    # Search's Redis cache reaches the real Redis (cache.py get_cache_stats reads INFO memory).
    cache = http_json(f"{published.search_url}/api/cache/stats")
    assert "memory_used_bytes" in json.dumps(cache), cache

    # The embedded Qdrant (path mode) is locked by the running service: stop it, then search with its code.
    published.processes.stop(published.search_proc)
    code = (
        "import asyncio, json\nfrom app.vector_store import get_vector_store\n"
        "vs = get_vector_store()\n"
        "hits = asyncio.run(vs.semantic_search('sparse mixture routing for citation graphs', limit=5, score_threshold=0.3))\n"
        "print(json.dumps([{'title': h['title'], 'score': h['similarity_score'], 'authors': h['authors']} for h in hits]))\n")
    venv_python = os.environ["ARCHIVIST_APP_VENV_SEARCH"] + "/bin/python"
    result = subprocess.run([venv_python, "-c", code], cwd=published.search_dir, env=published.search_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    hits = json.loads(result.stdout.strip().splitlines()[-1])
    assert hits and hits[0]["title"] == PAPER_TITLE and hits[0]["authors"] == EXTRACTED["authors"]


def test_no_retired_model_was_asked_for_and_the_standin_refuses_them(published: Stack) -> None:
    asked = {c.model for c in published.standin.calls if c.model}
    assert asked and not asked & RETIRED_MODELS
    assert all(c.status == 200 for c in published.standin.calls), published.standin.calls
    # The stand-in answers a retired model as the API does (404 NOT_FOUND), through the services' SDK.
    out = published.graph_python(
        "from google import genai\nfrom google.genai import errors\n"
        f"c = genai.Client(api_key={published.search_env['GEMINI_API_KEY']!r}, "
        f"http_options={{'base_url': {published.standin.base_url!r}}})\n"
        "for m in " + repr(sorted(RETIRED_MODELS)) + ":\n"
        "    try:\n        c.models.get(model=m); print('LIVE', m)\n"
        "    except errors.ClientError as e:\n        print(e.code, m)\n")
    assert sorted(out.split("\n")[:-1]) == sorted(f"404 {m}" for m in RETIRED_MODELS)


def test_a_missing_model_variable_stops_the_graph_at_startup(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> None:
    code = ("from app.metadata_extractor import MetadataExtractor\n"
            "try:\n    MetadataExtractor()\nexcept ValueError as e:\n    print(e)\n")
    env = {"PATH": os.environ["PATH"], "GEMINI_API_KEY": "k"}
    result = subprocess.run([str(stack.venv_graph / "bin/python"), "-c", code], env=env, capture_output=True, text=True,
                            cwd=os.environ["ARCHIVIST_APP_PATCHED"] + "/services/graph-service", timeout=60)
    assert "GEMINI_GENERATION_MODEL is not set" in result.stdout, result.stderr[-2000:]


def test_a_missing_model_variable_stops_search_at_startup(stack: Stack) -> None:
    env = {"PATH": os.environ["PATH"], "GEMINI_API_KEY": "k"}
    result = subprocess.run([os.environ["ARCHIVIST_APP_VENV_SEARCH"] + "/bin/python", "-c", "import app.main"], env=env,
                            capture_output=True, text=True, cwd=stack.search_dir, timeout=60)
    assert result.returncode != 0 and "GEMINI_EMBEDDING_MODEL is not set" in result.stderr, result.stderr[-2000:]
