"""renovate.json's custom regex managers find every pin written in Python.

Renovate's config validator (scripts/ci/clouds.sh) checks the options, not what the regexes match;
here each manager runs over its files the way Renovate applies it (JavaScript named groups
`(?<name>` are Python's `(?P<name>`), so a renamed constant cannot silently leave a pin unmanaged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archivist_infra import versions
from tests.conftest import ROOT

CONFIG = json.loads((ROOT / "renovate.json").read_text())
MANAGERS = CONFIG["customManagers"]


def _files(manager: dict) -> list[Path]:
    patterns = [re.compile(p.strip("/")) for p in manager["managerFilePatterns"]]
    tracked = [p for p in ROOT.joinpath("archivist_infra").rglob("*.py")]
    return [p for p in tracked if any(rx.search(p.relative_to(ROOT).as_posix()) for rx in patterns)]


def _matches(manager: dict) -> list[dict[str, str]]:
    found = []
    for path in _files(manager):
        text = path.read_text()
        for js in manager["matchStrings"]:
            for m in re.finditer(js.replace("(?<", "(?P<"), text):
                found.append({**m.groupdict(), "file": path.relative_to(ROOT).as_posix()})
    return found


@pytest.mark.parametrize("manager", MANAGERS, ids=lambda m: m["description"][:60])
def test_every_custom_manager_matches_a_pin(manager: dict) -> None:
    found = _matches(manager)
    assert found, f"matches nothing: {manager['description']}"
    assert all(f.get("currentValue") for f in found)


def _managed_values() -> set[str]:
    values = set()
    for manager in MANAGERS:
        for f in _matches(manager):
            dep = f.get("depName") or manager.get("depNameTemplate", "")
            values.add(f"{dep}:{f['currentValue']}" if f.get("depName") else f["currentValue"])
    return values


@pytest.mark.parametrize("pin", [p for p in versions.PINS if p.kind in ("image", "chart", "crds", "base-image")
                                 and not p.name.startswith("cluster-autoscaler")], ids=lambda p: p.name)
def test_every_pin_of_the_lifecycle_table_is_renovate_managed(pin: versions.Pin) -> None:
    value = f"{pin.name}:{pin.version}" if pin.kind == "base-image" else pin.version
    assert value in _managed_values(), f"{pin.kind} {pin.name} {pin.version} is found by no custom manager"


def test_action_pins_of_the_table_are_matched_with_their_digest() -> None:
    (manager,) = [m for m in MANAGERS if "GitHub Actions" in m["description"]]
    digests = {f["currentDigest"] for f in _matches(manager)}
    assert digests == {p.version for p in versions.PINS if p.kind == "action"}


def test_the_autoscaler_chart_is_left_to_the_minor_table() -> None:
    rules = [r for r in CONFIG["packageRules"] if r.get("matchPackageNames") == ["cluster-autoscaler"]]
    assert rules and rules[0]["enabled"] is False
