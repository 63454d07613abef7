"""archivist:gemini: the dated model table, its expiry, the refusal of shut-down models, and the
wiring of the configured models into every object the stacks render."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from archivist_infra.__main__ import run_stack
from archivist_infra.config.gemini import parse_gemini
from archivist_infra.config.load import load_settings
from archivist_infra.config.problems import ConfigError, Problems
from archivist_infra.config.reader import ConfigReader
from archivist_infra.gemini_models import (
    BY_ID,
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_GENERATION_MODEL,
    MODELS,
    markdown_table,
)
from archivist_infra.offline.engine import Run, is_secret_value
from archivist_infra.offline.render import manifests
from tests.conftest import ROOT, env_of, find, pod_spec, run_config

TODAY = datetime.now(UTC).date()
EXAMPLES = sorted((ROOT / "examples" / "stacks").glob("*.yaml"))


def _load(gemini: dict[str, Any] | None) -> Any:
    raw: dict[str, Any] = {"gemini": gemini} if gemini is not None else {}
    return load_settings(raw, project="archivist", stack="t", secrets_present={"geminiApiKey"})


# -- the table and its expiry --------------------------------------------------------------------

@pytest.mark.parametrize("model", [DEFAULT_GENERATION_MODEL, DEFAULT_EMBEDDING_MODEL])
def test_a_default_is_not_past_its_announced_shutdown(model: str) -> None:
    """Fails on the day a default's announced shutdown arrives: pick its replacement, update the table."""
    known = BY_ID[model]
    assert not known.is_shut_down(TODAY), (
        f"default {model} has an announced shutdown of {known.shutdown} (today is {TODAY}); "
        f"change the default in archivist_infra/gemini_models.py and docs/gemini-models.md")


def test_the_defaults_have_the_kind_their_key_needs() -> None:
    assert BY_ID[DEFAULT_GENERATION_MODEL].kind == "generation"
    assert BY_ID[DEFAULT_EMBEDDING_MODEL].kind == "embedding"


def test_the_expiry_check_counts_the_shutdown_day_itself() -> None:
    m = BY_ID["gemini-3.1-flash-lite"]  # shutdown announced for 2027-05-07
    assert not m.is_shut_down(date(2027, 5, 6))
    assert m.is_shut_down(date(2027, 5, 7))


def test_every_shut_down_entry_names_a_replacement_the_table_keeps_live() -> None:
    for m in MODELS:
        if m.is_shut_down(TODAY) and m.replacement in BY_ID:
            assert not BY_ID[m.replacement].is_shut_down(TODAY), (m.id, m.replacement)
        assert m.source, m.id
    assert len(BY_ID) == len(MODELS), "one row per model id"


def test_the_docs_page_carries_the_generated_table() -> None:
    page = (ROOT / "docs" / "gemini-models.md").read_text()
    match = re.search(r"<!-- BEGIN generated: gemini_models.markdown_table\(\) -->\n(.*)<!-- END generated -->",
                      page, re.S)
    assert match, "docs/gemini-models.md lost its generated table markers"
    assert match.group(1) == markdown_table(), "regenerate the table in docs/gemini-models.md from gemini_models.py"


# -- config ------------------------------------------------------------------------------------------

def test_defaults_when_the_section_is_absent() -> None:
    gemini = _load(None).gemini
    assert (gemini.generation_model, gemini.embedding_model, gemini.embedding_dimensions, gemini.preflight) == (
        DEFAULT_GENERATION_MODEL, DEFAULT_EMBEDDING_MODEL, 768, True)


def test_a_models_prefix_is_accepted_and_dropped() -> None:
    gemini = _load({"generationModel": "models/gemini-3.6-flash"}).gemini
    assert gemini.generation_model == "gemini-3.6-flash"


def test_shut_down_models_are_refused_naming_the_key_and_the_replacement() -> None:
    with pytest.raises(ConfigError) as err:
        _load({"generationModel": "gemini-2.0-flash", "embeddingModel": "models/text-embedding-004"})
    text = str(err.value)
    assert "archivist:gemini.generationModel" in text and "'gemini-3.5-flash'" in text and "2026-06-01" in text
    assert "archivist:gemini.embeddingModel" in text and "'gemini-embedding-001'" in text and "2026-01-14" in text


def test_refusal_follows_the_date_it_is_checked_on() -> None:
    """A model whose shutdown is announced but not reached is accepted until that day."""
    def problems_on(day: date) -> list[str]:
        problems = Problems()
        parse_gemini(ConfigReader({"gemini": {"generationModel": "gemini-3.1-flash-lite"}}, "archivist", problems),
                     on=day)
        return [p.key for p in problems.items]

    before, after = problems_on(date(2027, 5, 6)), problems_on(date(2027, 5, 7))
    assert not any("generationModel" in p for p in before)
    assert any("generationModel" in p for p in after)


def test_wrong_kind_unknown_key_and_other_dimensions_are_refused_together() -> None:
    with pytest.raises(ConfigError) as err:
        _load({"generationModel": "gemini-embedding-001", "embeddingDimension": 768, "embeddingDimensions": 1536})
    text = str(err.value)
    assert "archivist:gemini.generationModel" in text and "embedding model" in text
    assert "archivist:gemini.embeddingDimension" in text and "did you mean" in text
    assert "archivist:gemini.embeddingDimensions" in text and "768" in text


def test_an_unknown_model_is_left_to_the_preflight_check() -> None:
    assert _load({"generationModel": "gemini-9-flash"}).gemini.generation_model == "gemini-9-flash"


def test_a_malformed_model_id_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"archivist:gemini\.generationModel"):
        _load({"generationModel": "Gemini 3.5 Flash"})


# -- what the stacks render -----------------------------------------------------------------------

def _config_yaml(run: Run) -> dict[str, Any]:
    [secret] = [r for r in run.by_type("kubernetes:core/v1:Secret")
                if r.inputs["metadata"]["name"] == "archivist-config-secret"]
    data = secret.inputs["stringData"]
    assert is_secret_value(data)
    return yaml.safe_load(data["value"]["config.yaml"])


def _all_text(run: Run) -> str:
    """Every rendered object plus the (secret) worker config.yaml, as one text to search."""
    return json.dumps(manifests(run)) + yaml.safe_dump(_config_yaml(run))


@pytest.fixture(scope="module")
def all_runs(dev_run: Run, prod_run: Run) -> list[tuple[str, Run]]:
    return [("dev", dev_run), ("prod", prod_run)] + [(p.stem, run_stack(p.stem, p)) for p in EXAMPLES]


def test_no_rendered_object_names_a_shut_down_model_or_localhost_9094(all_runs: list[tuple[str, Run]]) -> None:
    dead = [m.id for m in MODELS if m.is_shut_down(TODAY)]
    assert "gemini-2.0-flash" in dead and "text-embedding-004" in dead  # the pinned app's models
    for name, run in all_runs:
        text = _all_text(run)
        for model in dead:
            # Whole ids only: `gemini-2.0-flash` must not match inside e.g. `gemini-2.0-flash-lite`'s row.
            assert not re.search(rf"(?<![\w.-]){re.escape(model)}(?![\w.-])", _without_check_table(text)), (name, model)
        assert "localhost:9094" not in text, name
        assert DEFAULT_GENERATION_MODEL in text and DEFAULT_EMBEDDING_MODEL in text, name


def _without_check_table(text: str) -> str:
    """The model-check Job carries the table's replacements (old=new) to name them in its errors."""
    return re.sub(r'"GEMINI_REPLACEMENTS", "value": "[^"]*"', "", text)


def test_worker_config_carries_the_models_and_the_kafka_endpoint(dev_run: Run, dev_objects: list) -> None:
    cfg = _config_yaml(dev_run)
    assert cfg["gemini"]["model"] == f"models/{DEFAULT_GENERATION_MODEL}"
    stages = cfg["gemini"]["agentic"]["stages"]
    assert {s["model"] for s in stages.values()} == {f"models/{DEFAULT_GENERATION_MODEL}"}
    assert cfg["qdrant"]["embedding"]["model"] == DEFAULT_EMBEDDING_MODEL
    # The brokers are the KafkaBroker's Service, as rendered (not a typed host).
    service = find(dev_objects, "Service", "kafka")
    port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "client")
    assert cfg["graph"]["kafka"] == {"brokers": [f"kafka.archivist.svc.cluster.local:{port}"],
                                     "topic": "paper.processed"}


def test_configured_models_reach_config_yaml_and_both_services() -> None:
    run = run_config({"gemini": {"generationModel": "gemini-3.8-flash", "embeddingModel": "gemini-embedding-2"}})
    cfg = _config_yaml(run)
    assert cfg["gemini"]["model"] == "models/gemini-3.8-flash"
    assert cfg["qdrant"]["embedding"]["model"] == "gemini-embedding-2"
    objects = manifests(run)
    data = find(objects, "ConfigMap", "archivist-config")["data"]
    assert (data["GEMINI_GENERATION_MODEL"], data["GEMINI_EMBEDDING_MODEL"]) == ("gemini-3.8-flash", "gemini-embedding-2")
    assert data["GEMINI_EMBEDDING_DIMENSIONS"] == "768"


def test_each_service_gets_only_the_model_env_its_patched_code_reads(dev_objects: list) -> None:
    search = env_of(pod_spec(find(dev_objects, "StatefulSet", "archivist-search"))["containers"][0])
    graph = env_of(pod_spec(find(dev_objects, "Deployment", "archivist-graph"))["containers"][0])
    worker = env_of(pod_spec(find(dev_objects, "CronJob", "archivist-worker")["spec"]["jobTemplate"])["containers"][0])
    embedding = {"GEMINI_EMBEDDING_MODEL", "GEMINI_EMBEDDING_DIMENSIONS"}
    assert embedding <= set(search) and "GEMINI_GENERATION_MODEL" not in search and "SEARCH_SERVICE_URL" not in search
    assert embedding | {"GEMINI_GENERATION_MODEL", "SEARCH_SERVICE_URL"} <= set(graph)
    assert not {k for k in worker if k.startswith("GEMINI_") and k != "GEMINI_API_KEY"}  # its config.yaml has them
    assert graph["SEARCH_SERVICE_URL"] == "http://archivist-search.archivist.svc.cluster.local:8000"
    assert graph["GEMINI_EMBEDDING_MODEL"] == ("config", "GEMINI_EMBEDDING_MODEL")


def test_docs_page_exists_in_docs_dir() -> None:
    assert Path(ROOT / "docs" / "gemini-models.md").is_file()
