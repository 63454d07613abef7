"""No page, README or stack-file comment names a default the program does not use.

The defaults come from docs/configuration.md, which tests/test_config_reference.py keeps identical to
what the program's getters are given. A claim is a config key in backticks followed in the same
sentence (or table cell) by "default" and a value in backticks, e.g. "`kafka.brokers` (default `1`)",
or a row of a table with a Default column.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ROW = re.compile(r"^\| `(archivist:[^`]+)` \| [^|]* \| (?P<default>[^|]*) \|")
_CLAIM = re.compile(r"`(?:archivist:)?(?P<key>[a-zA-Z][\w.]*)`[^.|`\n]{0,40}?\bdefaults?\b(?: is| to| of)?:?\s*`(?P<value>[^`]+)`")


def reference_defaults() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            out[match.group(1).split(":", 1)[1]] = set(re.findall(r"`([^`]+)`", match.group("default")))
    return out


def resolve(token: str, defaults: dict[str, set[str]]) -> str | None:
    """The reference key a short name in prose means: exact, or the one key ending in `.token`."""
    if token in defaults:
        return token
    candidates = [k for k in defaults if k.endswith("." + token)]
    return candidates[0] if len(candidates) == 1 else None


def stale_claims(text: str, defaults: dict[str, set[str]]) -> list[str]:
    found = []
    for match in _CLAIM.finditer(text):
        key = resolve(match.group("key"), defaults)
        if key is None or not defaults[key]:
            continue
        value = match.group("value")
        unset_alike = "unset" in defaults[key] and value in ("unset", "none", "—")
        if value not in defaults[key] and not unset_alike:
            found.append(f"`{key}` default `{value}`, the program's: {sorted(defaults[key])}")
    for table in re.findall(r"(?m)^(\|.*\| Default \|.*\n\|[-| ]+\|\n(?:\|.*\n?)*)", text):
        lines = table.splitlines()
        column = [c.strip() for c in lines[0].strip("|").split("|")].index("Default")
        for row in lines[2:]:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
            keys = re.findall(r"`(?:archivist:)?([a-zA-Z][\w.]*)`", cells[0])
            values = re.findall(r"`([^`]+)`", cells[column]) if column < len(cells) else []
            key = resolve(keys[0], defaults) if keys else None
            if key and values and defaults[key] and values[0] not in defaults[key]:
                found.append(f"table row `{key}` default `{values[0]}`, the program's: {sorted(defaults[key])}")
    return found


def documents() -> list[Path]:
    pages = [p for p in sorted((ROOT / "docs").rglob("*.md")) if p.name != "configuration.md"]
    stacks = sorted(ROOT.glob("Pulumi.*.yaml")) + sorted((ROOT / "examples" / "stacks").glob("*.yaml"))
    return [ROOT / "README.md", *pages, *stacks]


def test_no_document_names_a_default_the_program_does_not_use() -> None:
    defaults = reference_defaults()
    assert len(defaults) > 200 and defaults["kafka.brokers"] == {"1"}
    stale = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".yaml":  # only the comments of a stack file
            text = "\n".join(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)
        stale += [f"{path.relative_to(ROOT)}: {claim}" for claim in stale_claims(text, defaults)]
    assert not stale, "\n".join(stale)


def test_the_checker_sees_a_wrong_default_and_accepts_a_right_one() -> None:
    defaults = reference_defaults()
    assert stale_claims("The broker count `kafka.brokers` (default `3`) may change.", defaults)
    assert not stale_claims("The broker count `kafka.brokers` (default `1`) may change.", defaults)
    assert stale_claims("| Key | Default |\n|---|---|\n| `redis.maxMemory` | `256mb` |\n", defaults)
    assert not stale_claims("| Key | Default |\n|---|---|\n| `redis.maxMemory` | `512mb` |\n", defaults)
    # A name that is not a config key is no claim; a short name resolves to the one key it ends.
    assert resolve("activeDeadlineSeconds", defaults) is None
    assert not stale_claims("`activeDeadlineSeconds` (default `7200`)", defaults)
    assert resolve("maxMemory", defaults) == "redis.maxMemory"


def test_every_key_the_configuring_page_names_is_one_the_program_reads() -> None:
    # docs/configuring.md says what keys are for; a key it names that the program does not read is stale.
    defaults = reference_defaults()
    sections = {k.split(".")[0] for k in defaults}
    unknown, checked = [], 0
    for line in (ROOT / "docs" / "configuring.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        first = re.split(r"(?<!\\)\|", line.strip().strip("|"))[0]
        for token in re.findall(r"`([^`]+)`", first):
            if re.fullmatch(r"[a-zA-Z][\w.]*", token) and token.split(".")[0] in sections:
                checked += 1
                if token not in defaults:
                    unknown.append(token)
    assert checked > 30 and not unknown, (checked, unknown)
