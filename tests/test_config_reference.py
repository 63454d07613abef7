"""The configuration reference (docs/configuration.md) and Pulumi.yaml's `config:` are generated from the
program's own getter calls (archivist_infra/config/reference.py); these keep them current and honest."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from archivist_infra.config import load as load_module
from archivist_infra.config import reference
from archivist_infra.config.load import NAMESPACE, TOP_LEVEL_KEYS, load_settings
from archivist_infra.config.problems import ConfigError
from archivist_infra.config.reader import READ_LOG, ConfigReader, ReadLog
from archivist_infra.platforms import PLATFORMS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ref() -> reference.Reference:
    return reference.build(ROOT)


def test_generated_files_are_current(ref: reference.Reference) -> None:
    # Built in this process (its own hash seed), compared with what another process wrote: also byte stability.
    stale = []
    if (ROOT / reference.REFERENCE_PATH).read_text(encoding="utf-8") != ref.markdown():
        stale.append(str(reference.REFERENCE_PATH))
    project = (ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    if project != ref.pulumi_yaml(project):
        stale.append("Pulumi.yaml")
    assert not stale, f"{stale} differ from the program: run `{reference.COMMAND}` and commit the result"


def test_no_config_value_makes_the_loader_raise_instead_of_reporting_a_problem(ref: reference.Reference) -> None:
    # Every key was loaded with a value its getter refuses: each must come back as a problem, never a traceback.
    assert not ref.crashes, "\n".join(ref.crashes)


def test_a_crash_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(root: ConfigReader) -> Any:
        raise AttributeError("'str' object has no attribute 'get'")

    monkeypatch.setattr(load_module, "parse_security", broken)
    observation = reference.observe(reference.Scenario("minimal local", {"platform": "local"}))
    assert observation.crash == "minimal local: AttributeError: 'str' object has no attribute 'get'"


def _leaves(value: Any, path: str) -> Iterator[str]:
    yield path
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from _leaves(child, f"{path}.{key}")


def test_every_key_the_shipped_stacks_set_is_in_the_reference(ref: reference.Reference) -> None:
    stacks = reference.shipped_stacks(ROOT)
    assert len(stacks) >= 6
    missing = []
    for stack in stacks:
        for name, value in reference.stack_scenario(stack, ROOT).raw.items():
            for key in _leaves(value, f"{NAMESPACE}:{name}"):
                # A key under a map of user-chosen names (env, labels) is covered by the map's own entry.
                parents = [key.rsplit(".", n)[0] for n in range(1, key.count(".") + 1)]
                if key not in ref.keys and not any(p in ref.keys and ref.keys[p].getters - {"section"} for p in parents):
                    missing.append(f"{stack.name}: {key}")
    assert not missing, missing


def test_every_top_level_key_the_loader_accepts_is_in_the_reference(ref: reference.Reference) -> None:
    documented = {reference.section_of(k) for k in ref.keys}
    assert set(TOP_LEVEL_KEYS) <= documented, set(TOP_LEVEL_KEYS) - documented


def test_the_reference_carries_defaults_types_platforms_and_refusals(ref: reference.Reference) -> None:
    size = ref.keys[f"{NAMESPACE}:neo4j.storage.size"]
    assert reference.default_text(size) == "`10Gi`"
    assert "quantity" in size.getters and size.platforms == set(PLATFORMS)
    assert any("not a positive Kubernetes storage quantity" in m for m in size.refused)
    mode = ref.keys[f"{NAMESPACE}:ingress.mode"]
    assert reference.default_text(mode) == "`none` (follows other settings)"  # `gateway` once a host is set
    by_platform = [k for k, f in ref.keys.items() if " · " in reference.default_text(f)]
    assert f"{NAMESPACE}:cluster.registryName" in by_platform  # differs by platform: each one is shown
    assert set(dict(mode.facts)["choices"]) == {"none", "ingress", "gateway"}
    cluster_keys = [k for k in ref.keys if k.startswith(f"{NAMESPACE}:cluster.") and "local" not in ref.keys[k].platforms]
    assert cluster_keys  # cloud-only keys say so
    assert ref.keys[f"{NAMESPACE}:geminiApiKey"].secret
    assert any("pulumi config set --secret" in m for m in ref.keys[f"{NAMESPACE}:geminiApiKey"].refused)


def test_pulumi_yaml_declares_only_valid_types_whose_default_changes_nothing(ref: reference.Reference) -> None:
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    assert {"archivist:platform", "archivist:protect"} <= set(config)
    python_types = {"string": str, "integer": int, "boolean": bool}
    for key, spec in config.items():
        # Pulumi's project schema (sdk/go/common/workspace/project.json, configTypeDeclaration).
        assert set(spec) <= {"type", "description", "default", "secret", "items"}, key
        assert isinstance(spec["default"], python_types[spec["type"]]), key
        # A declared default reaches the program as if set: it must be exactly the program's own default.
        name = key.split(":", 1)[1]
        for platform in PLATFORMS if name != "platform" else ["local"]:
            base = {"platform": platform} if name != "platform" else {}
            assert _settings(base) == _settings({**base, name: spec["default"]}), (key, platform)


def _settings(raw: dict[str, Any]) -> Any:
    try:
        return load_settings(raw, project="archivist", stack="t", secrets_present={"geminiApiKey"})
    except ConfigError as err:
        return sorted(str(p) for p in err.problems)


def test_recording_changes_nothing_the_loader_returns() -> None:
    raw = reference.stack_scenario(ROOT / "Pulumi.prod.yaml", ROOT).raw
    plain = load_settings(dict(raw), project="archivist", stack="t", secrets_present={"geminiApiKey"})
    token = READ_LOG.set(ReadLog())
    try:
        recorded = load_settings(dict(raw), project="archivist", stack="t", secrets_present={"geminiApiKey"})
    finally:
        READ_LOG.reset(token)
    assert plain == recorded


def test_a_key_added_through_a_getter_appears_without_editing_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    original = load_module.parse_security

    def with_new_key(root: ConfigReader) -> Any:
        root.section("security").integer("newLimit", 7, minimum=1, maximum=9)
        return original(root)

    monkeypatch.setattr(load_module, "parse_security", with_new_key)
    observation = reference.observe(reference.Scenario("minimal local", {"platform": "local"}))
    keys = reference.collect([observation])
    reference.add_refusals(keys, [observation])
    facts = keys[f"{NAMESPACE}:security.newLimit"]
    assert reference.default_text(facts) == "`7`"
    assert facts.refused == ["must be a whole number, got 'many'"]
    assert "| `archivist:security.newLimit` | integer | `7` | 1 to 9 | local |" in reference.markdown(keys, [])
