"""The alert rules: promtool accepts them, and its unit tests prove each alert fires and stays quiet.

promtool comes from Debian's `prometheus` package. Under CI=true a missing promtool FAILS these
tests (a skip would let CI pass without the rules ever being checked); elsewhere it skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from archivist_infra.monitoring.rules import alert_names

from .cases import CASES
from .generate import HERE, RULE_TESTS, RULES, rules_text, tests_text


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool is missing: apt-get install -y prometheus (Debian ships promtool in it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def groups(prod_objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    [rule] = [o for o in prod_objects if o["kind"] == "PrometheusRule"]
    return list(rule["spec"]["groups"])


def test_committed_rules_are_the_prod_render(groups: list[dict[str, Any]]) -> None:
    assert RULES.read_text() == rules_text(groups), "regenerate: python -m tests.monitoring.generate"


def test_committed_rule_tests_are_the_cases(groups: list[dict[str, Any]]) -> None:
    assert RULE_TESTS.read_text() == tests_text(groups), "regenerate: python -m tests.monitoring.generate"


def test_every_alert_has_a_firing_and_a_quiet_case(groups: list[dict[str, Any]]) -> None:
    names = set(alert_names(groups))
    assert names == {c.alert for c in CASES}
    assert names == {c.alert for c in CASES if c.fires}
    assert names == {c.alert for c in CASES if not c.fires}


def test_promtool_check_rules_passes() -> None:
    out = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(alert_names(yaml.safe_load(RULES.read_text())['groups']))} rules found" in out.stdout


def test_promtool_unit_tests_pass() -> None:
    out = subprocess.run([_promtool(), "test", "rules", RULE_TESTS.name], cwd=HERE, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_promtool_unit_tests_catch_a_wrong_threshold(tmp_path: Any) -> None:
    """The unit tests are not vacuous: the same tests against a rule with a raised threshold fail."""
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule["alert"] == "ArchivistCpuNearLimit":
                rule["expr"] = rule["expr"].replace("> 0.9", "> 0.99")
    (tmp_path / RULES.name).write_text(yaml.safe_dump(rules))
    (tmp_path / RULE_TESTS.name).write_text(RULE_TESTS.read_text())
    out = subprocess.run([_promtool(), "test", "rules", RULE_TESTS.name], cwd=tmp_path, capture_output=True,
                         text=True, check=False)
    assert out.returncode != 0
    assert "ArchivistCpuNearLimit" in out.stdout + out.stderr


def test_missing_promtool_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="promtool is missing"):
        _promtool()
