"""Property: any config either renders schema-valid manifests or fails with a ConfigError
naming the key that was broken, before a single Kubernetes resource is registered."""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml
from helpers import ROOT
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from archivist_infra.config.problems import ConfigError
from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests
from archivist_infra.offline.stackfile import StackConfig
from archivist_infra.program import main as program_main
from tests.conftest import CRD_KINDS

# kubernetes_validate re-reads its multi-megabyte definitions file on every call; cache it
# (test-only) so a rendered stack validates in ~0.1 s instead of ~1 s.
kubernetes_validate.utils.schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)

Config = dict[str, Any]


def dev_config() -> Config:
    data = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in data.items() if k != "archivist:geminiApiKey"}


DEV = dev_config()


def to_stack_config(config: Config, *, with_secret: bool = True) -> StackConfig:
    values = {f"archivist:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    secret_keys = []
    if with_secret:
        values["archivist:geminiApiKey"] = "[secret:archivist:geminiApiKey]"
        secret_keys.append("archivist:geminiApiKey")
    return StackConfig(project="archivist", stack="fuzz", values=values, secret_keys=secret_keys)


_validated: set[str] = set()


def check_valid(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        if obj["kind"] in CRD_KINDS:
            continue  # a CRD: no schema in kubernetes_validate (the apiserver suite checks them)
        text = json.dumps(obj, sort_keys=True)
        if text in _validated:
            continue
        kubernetes_validate.validate(obj, "1.29", strict=True)
        _validated.add(text)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> Callable[[Config, bool], tuple[engine.Run | None, Exception | None, list[engine.Recorded]]]:
    """Runs a config; returns (run, error, what was registered) even when the program raised."""
    monitors: list[engine.RecordingMonitor] = []

    class Capturing(engine.RecordingMonitor):
        def __init__(self, mocks: Any) -> None:
            super().__init__(mocks)
            monitors.append(self)

    monkeypatch.setattr(engine, "RecordingMonitor", Capturing)

    def go(config: Config, with_secret: bool = True) -> tuple[engine.Run | None, Exception | None, list[engine.Recorded]]:
        monitors.clear()
        try:
            run = engine.run(to_stack_config(config, with_secret=with_secret), program_main)
        except Exception as err:
            return None, err, list(monitors[-1].recorded) if monitors else []
        return run, None, run.resources

    return go


def names(reported: str, mutated: str) -> bool:
    """The problem is on the mutated key (or inside it), or on its partner in a cross-field rule.

    Found by this test: a 1-byte memoryLimit is a valid quantity, and the loader reports the
    conflict on memoryRequest ("768Mi is above the memory limit 1; raise memoryLimit or lower
    memoryRequest"), and on redis.maxMemory for a tiny Redis limit. Both messages name the
    mutated key in their text, so the section is accepted for resources and autoscaling.
    """
    if reported == mutated or reported.startswith(mutated + "."):
        return True
    parts = mutated.split(".")
    if len(parts) >= 3 and parts[-2] in ("resources", "autoscaling"):
        return reported.startswith(parts[0] + ".")
    return False


def assert_renders_or_names(runner: Any, config: Config, key: str, *, with_secret: bool = True) -> None:
    run, error, recorded = runner(config, with_secret)
    event("rendered" if error is None else type(error).__name__)
    if error is None:
        assert run is not None
        check_valid(manifests(run))
        return
    assert isinstance(error, ConfigError), f"{type(error).__name__}: {error}"
    assert any(names(k, key) for k in error.keys), f"{key} not in {error.keys}"
    assert not [r for r in recorded if r.type.startswith("kubernetes:")], "registered resources before failing"


# -- mutations ---------------------------------------------------------------------------

def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    return [path]


LEAVES = [p for p in _leaves(DEV) if p]
QUANTITY_KEYS = [p for p in LEAVES if p[-1] in ("size", "cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit")]
NUMBER_KEYS = [p for p in LEAVES if p[-1] in ("minReplicas", "maxReplicas", "brokers")]
SECTIONS = [p for p in _leaves({k: v for k, v in DEV.items()}, ()) if len(p) >= 1]
SECTION_PATHS = sorted({p[:i] for p in LEAVES for i in range(0, len(p))})

junk = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12), st.booleans(), st.none(),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
bad_quantity = st.one_of(
    st.sampled_from(["10Gb", "-1Gi", "0", "1.5.5Gi", "abc", "", " ", "1e400", "Gi", "10 Gi", "999999999999999999999Ei",
                     "0.0001m", "1Ki1", "NaN", "-0", "+5Gi"]),
    st.text(max_size=8), st.integers(min_value=-5, max_value=5), st.floats(allow_nan=True),
)
bad_number = st.one_of(st.integers(min_value=-(10**9), max_value=0), st.integers(min_value=1001, max_value=10**18),
                       st.sampled_from(["three", "1.5", 2.5, True, "", None, [1]]))


def _set(config: Config, path: tuple[str, ...], value: Any) -> Config:
    out = copy.deepcopy(config)
    node = out
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return out


def _key(path: tuple[str, ...]) -> str:
    return "archivist:" + ".".join(path)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Config, str]:
    kind = draw(st.sampled_from(["wrong-type", "quantity", "number", "min-max", "unknown-key", "platform", "images"]))
    if kind == "wrong-type":
        path = draw(st.sampled_from(LEAVES + [p for p in SECTION_PATHS if p]))
        return _set(DEV, path, draw(junk)), _key(path)
    if kind == "quantity":
        path = draw(st.sampled_from(QUANTITY_KEYS))
        return _set(DEV, path, draw(bad_quantity)), _key(path)
    if kind == "number":
        path = draw(st.sampled_from(NUMBER_KEYS))
        return _set(DEV, path, draw(bad_number)), _key(path)
    if kind == "min-max":
        app = draw(st.sampled_from(["worker", "search", "graph", "qdrant"]))
        lo = draw(st.integers(min_value=2, max_value=1000))
        hi = draw(st.integers(min_value=1, max_value=lo - 1))
        config = _set(DEV, (app, "autoscaling", "minReplicas"), lo)
        return _set(config, (app, "autoscaling", "maxReplicas"), hi), _key((app, "autoscaling", "maxReplicas"))
    if kind == "unknown-key":
        parent = draw(st.sampled_from(SECTION_PATHS))
        name = draw(st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9]{0,10}\Z"))
        existing: Any = DEV
        for part in parent:
            existing = existing.get(part, {}) if isinstance(existing, dict) else {}
        if parent == () or not isinstance(existing, dict) or name in existing:
            name = "zz" + name  # never a real key
        return _set(DEV, (*parent, name), draw(junk)), _key((*parent, name))
    if kind == "platform":
        value = draw(st.one_of(st.sampled_from(["openshift", "GKE", "", "k3s"]), junk))
        return _set(DEV, ("platform",), value), "archivist:platform"
    config = copy.deepcopy(DEV)
    victim = draw(st.sampled_from(["worker", "search", "graph", None]))
    if victim is None:
        # The images build from archivist:source: a commit that is not 40 hex digits is refused by name.
        config["source"] = {"commit": draw(st.sampled_from(["f27c790", "HEAD", "", "g" * 40]))}
        return config, "archivist:source.commit"
    # Ready-made references must be all three: leaving one out names it.
    config["images"] = {app: f"registry.example.com/archivist/{app}:1.0.0" for app in ("worker", "search", "graph")
                        if app != victim}
    return config, f"archivist:images.{victim}"


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated())
def test_mutated_config_renders_valid_or_names_the_key(runner: Any, case: tuple[Config, str]) -> None:
    config, key = case
    assert_renders_or_names(runner, config, key)


# -- hand-written cases --------------------------------------------------------------------

def test_dev_config_renders_valid(runner: Any) -> None:
    run, error, _ = runner(DEV, True)
    assert error is None, error
    assert run is not None
    check_valid(manifests(run))


@pytest.mark.parametrize(("path", "value"), [
    (("worker", "autoscaling", "maxReplicas"), 0),
    (("platform",), "openshift"),
    (("neo4j", "storage", "size"), "10Gb"),
    (("kafka", "storage", "size"), "-1Gi"),
    (("redis", "resources", "memoryLimit"), "lots"),
    (("networkPolicy", "enabled"), "maybe"),
    (("networkPolicy", "ingressControllerNamespaces"), ["Not_A_Namespace"]),
    (("networkPolicy", "ingressControllerNamespaces"), "traefik"),
    (("quota", "enabled"), 3),
    (("quota", "hard"), {}),
])
def test_bad_value_names_its_key(runner: Any, path: tuple[str, ...], value: Any) -> None:
    _, error, recorded = runner(_set(DEV, path, value), True)
    assert isinstance(error, ConfigError), error
    assert _key(path) in error.keys
    assert not [r for r in recorded if r.type.startswith("kubernetes:")]


def test_max_below_min_replicas(runner: Any) -> None:
    config = _set(_set(DEV, ("search", "autoscaling", "minReplicas"), 5), ("search", "autoscaling", "maxReplicas"), 2)
    _, error, _ = runner(config, True)
    assert isinstance(error, ConfigError)
    assert "archivist:search.autoscaling.maxReplicas" in error.keys


def test_missing_gemini_key(runner: Any) -> None:
    _, error, recorded = runner(DEV, False)
    assert isinstance(error, ConfigError), error
    assert "archivist:geminiApiKey" in error.keys
    assert not [r for r in recorded if r.type.startswith("kubernetes:")]
