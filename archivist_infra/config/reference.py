"""The configuration reference, learned from the program itself: docs/configuration.md and Pulumi.yaml's `config:`.

There is no list of keys to keep in step with the code. Every `ConfigReader` getter call is recorded
(reader.py `READ_LOG`: the key, the getter, its default, choices, bounds and hints) while the real
loader (`load_settings`) reads:

1. every shipped stack (Pulumi.*.yaml, examples/stacks/*.yaml) and a minimal stack per platform;
2. each of those with a key the loader only reads when present (`has`, or read raw) set, and with
   every allowed value of each choice and boolean, so keys behind a mode or a switch are read too;
3. each key once more with a value its getter refuses, to record the problem it is refused with.

A key added anywhere through the getters appears here on the next `config-reference` run.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..platforms import PLATFORMS
from .load import NAMESPACE, SECRET_KEYS, load_settings
from .problems import ConfigError, Problem
from .reader import READ_LOG, Read, ReadLog

REFERENCE_PATH = Path("docs") / "configuration.md"
COMMAND = "python -m archivist_infra config-reference"
_PROJECT = "archivist"
_REQUIRED_SECRET = "geminiApiKey"  # a stack without it is refused; every scenario carries it as a secret
_SCALAR_GETTERS = {"string", "choice", "boolean", "integer", "quantity", "dns_label"}
# A value each getter refuses (and the loader's checks built on it): its message is "the problem it is refused with".
_REFUSED_VALUE: dict[str, Any] = {
    "boolean": "maybe", "integer": "many", "choice": "something-else", "quantity": "lots",
    "string_list": "not-a-list", "mapping_of_strings": "not-a-mapping", "section": "not-an-object",
    "string": 42, "optional_string": 42, "dns_label": "Not_A_Name", "hostname": "not a host",
}
_TYPE_NAMES = {
    "string": "string", "optional_string": "string", "choice": "string", "boolean": "boolean",
    "integer": "integer", "quantity": "Kubernetes quantity", "dns_label": "DNS label", "hostname": "DNS name",
    "string_list": "list of strings", "mapping_of_strings": "map of strings", "section": "object", "raw": "any",
}
_PULUMI_TYPES = {"string": "string", "choice": "string", "dns_label": "string", "quantity": "string",
                 "boolean": "boolean", "integer": "integer"}


@dataclass(frozen=True)
class Scenario:
    name: str
    raw: dict[str, Any]
    secrets: frozenset[str] = frozenset({_REQUIRED_SECRET})

    @property
    def platform(self) -> str:
        value = self.raw.get("platform", "local")
        return value if value in PLATFORMS else "local"


@dataclass
class Observation:
    scenario: Scenario
    reads: list[Read]
    probes: list[str]
    problems: list[Problem]
    crash: str | None = None  # the loader raised something other than ConfigError: a traceback for bad input


@dataclass
class KeyFacts:
    key: str
    getters: set[str] = field(default_factory=set)
    facts: dict[str, Any] = field(default_factory=dict)  # of the first call seen (choices, bounds, hints)
    defaults: dict[str, list[str]] = field(default_factory=dict)  # platform -> defaults seen (in scenario order)
    base_default: dict[str, str] = field(default_factory=dict)  # platform -> default in the minimal stack
    platforms: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)
    secret: bool = False


# -- running the loader -------------------------------------------------------------------


def observe(scenario: Scenario) -> Observation:
    log = ReadLog()
    token = READ_LOG.set(log)
    problems: list[Problem] = []
    crash = None
    try:
        load_settings(copy.deepcopy(scenario.raw), project=_PROJECT, stack="reference",
                      secrets_present=set(scenario.secrets))
    except ConfigError as err:
        problems = list(err.problems)
    except Exception as err:  # reported, not raised: the reference still gets written, the test fails
        crash = f"{scenario.name}: {type(err).__name__}: {err}"
    finally:
        READ_LOG.reset(token)
    return Observation(scenario, log.reads, log.probes, problems, crash)


def stack_scenario(path: Path, project_dir: Path) -> Scenario:
    """A stack file's `archivist:` values as the program receives them (secure values: present, secret)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw: dict[str, Any] = {}
    secrets: set[str] = set()
    for full, value in (data.get("config") or {}).items():
        namespace, _, key = str(full).partition(":")
        if namespace != NAMESPACE or not key:
            continue
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            secrets.add(key)
            value = "<secret>"
        raw[key] = value
    return Scenario(str(path.relative_to(project_dir)), raw, frozenset(secrets))


def shipped_stacks(project_dir: Path) -> list[Path]:
    return sorted(project_dir.glob("Pulumi.*.yaml")) + sorted((project_dir / "examples" / "stacks").glob("*.yaml"))


def _path(key: str) -> list[str]:
    return key.split(":", 1)[1].split(".")


def _with(raw: Mapping[str, Any], key: str, value: Any) -> dict[str, Any] | None:
    """`raw` with `key` (archivist:a.b.c) set; None where a parent on the way is not a mapping."""
    out = copy.deepcopy(dict(raw))
    node: dict[str, Any] = out
    *parents, last = _path(key)
    for part in parents:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            return None
        node = child
    node[last] = value
    return out


def _present(raw: Mapping[str, Any], key: str) -> bool:
    node: Any = raw
    for part in _path(key):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return False
        node = node[part]
    return True


def explore(project_dir: Path) -> list[Observation]:
    """Every scenario's observation, in a fixed order (the reference must be byte-stable)."""
    base = [stack_scenario(p, project_dir) for p in shipped_stacks(project_dir)]
    minimal = [Scenario(f"minimal {p}", {"platform": p}) for p in PLATFORMS]
    observations = [observe(s) for s in minimal + base]
    observations.append(observe(Scenario("no secrets", {}, frozenset())))
    # Each (platform, key, value) is tried once, in the first scenario that reads the key: enough to
    # reach what it gates, and the number of loads stays linear in the number of keys.
    tried: set[tuple[str, str, str]] = set()
    frontier = list(observations)
    while frontier:
        variants: list[Scenario] = []
        for obs in frontier:
            for key, value, variant in _variants(obs):
                marker = (variant.platform, key, json.dumps(value, sort_keys=True))
                if marker not in tried:
                    tried.add(marker)
                    variants.append(variant)
        frontier = [observe(v) for v in variants]
        observations.extend(frontier)
    return observations


def _variants(obs: Observation) -> list[tuple[str, Any, Scenario]]:
    raw = obs.scenario.raw
    out: list[tuple[str, Any, Scenario]] = []
    # Keys the loader asks about and reads only when present: set them (an object lets it look inside).
    for key in dict.fromkeys(obs.probes):
        if not _present(raw, key):
            changed = _with(raw, key, {})
            if changed is not None:
                out.append((key, {}, Scenario(f"{obs.scenario.name} + {key}", changed, obs.scenario.secrets)))
    # Keys read raw (their type decided by the code that reads them): an object and a string.
    for read in obs.reads:
        if read.getter == "raw" and not _present(raw, read.key):
            raw_values: tuple[Any, ...] = ({}, "x")
            for value in raw_values:
                changed = _with(raw, read.key, value)
                if changed is not None:
                    out.append((read.key, value, Scenario(f"{obs.scenario.name} + {read.key}={value!r}", changed,
                                                          obs.scenario.secrets)))
    # Keys behind a mode or a switch: every allowed value of each choice and boolean.
    for read in obs.reads:
        facts = dict(read.facts)
        values: Iterable[Any] = ()
        if read.getter == "choice":
            values = facts["choices"]
        elif read.getter == "boolean":
            values = (True, False)
        for value in values:
            if read.key == f"{NAMESPACE}:platform":
                continue  # every platform has its own scenarios
            changed = _with(raw, read.key, value)
            if changed is not None and changed != raw:
                out.append((read.key, value, Scenario(f"{obs.scenario.name} + {read.key}={value}", changed,
                                                      obs.scenario.secrets)))
    return out


# -- from observations to facts per key ---------------------------------------------------------


def collect(observations: list[Observation]) -> dict[str, KeyFacts]:
    keys: dict[str, KeyFacts] = {}
    for obs in observations:
        platform = obs.scenario.platform
        minimal = obs.scenario.name == f"minimal {platform}"
        for read in obs.reads:
            facts = keys.setdefault(read.key, KeyFacts(read.key))
            facts.getters.add(read.getter)
            own = dict(read.facts)
            if not facts.facts or (read.getter != "raw" and "default" not in facts.facts):
                facts.facts = own
            facts.platforms.add(platform)
            if "default" in own:
                shown = show_default(read.getter, own["default"])
                seen = facts.defaults.setdefault(platform, [])
                if shown not in seen:
                    seen.append(shown)
                if minimal:
                    facts.base_default.setdefault(platform, shown)
        for problem in obs.problems:
            if problem.key in keys:
                _add_refusal(keys[problem.key], problem.message)
    for name in SECRET_KEYS:
        key = f"{NAMESPACE}:{name}"
        if key in keys:
            keys[key].secret = True
    return keys


def add_refusals(keys: dict[str, KeyFacts], observations: list[Observation]) -> list[str]:
    """Load once more per key with a value its getter refuses, in the first scenario that read it.
    Returns the loads that crashed instead of reporting a problem."""
    crashes: list[str] = []
    first: dict[str, Scenario] = {}
    for obs in observations:
        for read in obs.reads:
            first.setdefault(read.key, obs.scenario)
    for key in sorted(keys):
        facts = keys[key]
        getter = _main_getter(facts)
        scenario = first[key]
        if facts.secret:
            bad = _with(scenario.raw, key, "in plain text")
            secrets = scenario.secrets - {key.split(":", 1)[1]}
        elif getter in _REFUSED_VALUE:
            bad = _with(scenario.raw, key, _bad_value(getter, facts))
            secrets = scenario.secrets
        else:
            continue
        if bad is None:
            continue
        found = observe(Scenario(f"{scenario.name} refusing {key}", bad, frozenset(secrets)))
        if found.crash:
            crashes.append(found.crash)
        position = 0
        for problem in found.problems:
            if problem.key == key:
                _add_refusal(facts, problem.message, at=position)
                position += 1
    return crashes


_SHOWN_VALUE = re.compile(r"^(\{\}|\[\]|'[^']*'|-?[0-9]+)(?= )|(?<=got ).*$")


def _add_refusal(facts: KeyFacts, message: str, *, at: int | None = None) -> None:
    """One message per kind of refusal: the same message about another example value is not repeated.
    `at`: the refusal of the key's own bad value, placed first (in the loader's order)."""
    shape = _SHOWN_VALUE.sub("<value>", message)
    same = [m for m in facts.refused if _SHOWN_VALUE.sub("<value>", m) == shape]
    if at is not None:
        for m in same:
            facts.refused.remove(m)
        facts.refused.insert(at, message)
    elif not same:
        facts.refused.append(message)


def _bad_value(getter: str, facts: KeyFacts) -> Any:
    pattern = facts.facts.get("pattern")
    if getter == "string" and pattern is not None:
        return "?"  # a string the pattern refuses shows the pattern's hint
    return _REFUSED_VALUE[getter]


def _main_getter(facts: KeyFacts) -> str:
    typed = sorted(facts.getters - {"raw"})
    return typed[0] if len(typed) == 1 else ("raw" if not typed else "|".join(typed))


def show_default(getter: str, value: Any) -> str:
    if value is None or (getter in ("string_list", "mapping_of_strings") and not value):
        return "unset"
    if value == "":
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


# -- the documents ------------------------------------------------------------------------------


def _type_name(facts: KeyFacts) -> str:
    if facts.secret:
        return "string, secret"
    names = [_TYPE_NAMES.get(g, g) for g in sorted(facts.getters - {"raw"})] or ["any"]
    return " or ".join(dict.fromkeys(names))


def _allowed(facts: KeyFacts) -> str:
    f = facts.facts
    parts: list[str] = []
    if "choices" in f:
        parts.append(", ".join(f"`{c}`" for c in f["choices"]))
    lo, hi = f.get("minimum"), f.get("maximum")
    if lo is not None and hi is not None:
        parts.append(f"{lo} to {hi}")
    elif lo is not None:
        parts.append(f"at least {lo}")
    elif hi is not None:
        parts.append(f"at most {hi}")
    if f.get("hint"):
        parts.append(str(f["hint"]))
    elif f.get("pattern") is not None:
        parts.append(f"matches `{f['pattern'].pattern}`")
    if "example" in f and "quantity" in facts.getters:
        parts.append(f"{f.get('what', 'size')} such as `{f['example']}`")
    return "; ".join(parts)


def default_text(facts: KeyFacts) -> str:
    """The default as the reference shows it: one value, or one per platform where they differ."""
    per_platform = {p: facts.base_default.get(p) or facts.defaults[p][0] for p in PLATFORMS if p in facts.defaults}
    if not per_platform:
        return ""
    values = list(dict.fromkeys(per_platform.values()))
    text = f"`{values[0]}`" if len(values) == 1 else " · ".join(f"{p}: `{v}`" for p, v in per_platform.items())
    if any(len(seen) > 1 for seen in facts.defaults.values()):
        text += " (follows other settings)"
    return text


def _platforms(facts: KeyFacts) -> str:
    used = [p for p in PLATFORMS if p in facts.platforms]
    return "all" if len(used) == len(PLATFORMS) else ", ".join(used)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(section: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", section.lower())


def section_of(key: str) -> str:
    return _path(key)[0]


def markdown(keys: dict[str, KeyFacts], stacks: list[str]) -> str:
    sections: dict[str, list[KeyFacts]] = {}
    for key in sorted(keys, key=lambda k: (section_of(k).lower(), k.lower())):
        sections.setdefault(section_of(key), []).append(keys[key])
    lines = [
        "# Configuration reference",
        "",
        f"<!-- generated by `{COMMAND}`: do not edit; tests/test_config_reference.py fails when it is stale -->",
        "",
        "Every `archivist:` key the program reads, learned from the program itself: the loader",
        "(`archivist_infra/config/load.py` and the modules it calls) runs with every shipped stack, a minimal",
        "stack per platform, each key the loader reads only when it is present, and every allowed value of",
        "each choice and switch, while each `ConfigReader` getter call is recorded. **Refused with** is the",
        "problem the loader reports for a bad value (the value shown in it is an example). Keys are set with",
        "`pulumi config set --path 'archivist:<key>' <value>`; secrets with `--secret`.",
        "",
        "Stacks read: " + ", ".join(f"`{s}`" for s in stacks) + ".",
        "",
        "**Default** is what the program uses when the key is absent; where it differs by platform each",
        "platform's is listed, and *(follows other settings)* marks a default computed from other keys.",
        "**Platforms** lists where the loader reads the key.",
        "",
        "| Section | Keys |",
        "|---|---|",
    ]
    for section, items in sections.items():
        lines.append(f"| [`{section}`](#{_anchor('archivist:' + section)}) | {len(items)} |")
    for section, items in sections.items():
        lines += ["", f"## archivist:{section}", "", "| Key | Type | Default | Allowed | Platforms | Refused with |",
                  "|---|---|---|---|---|---|"]
        for facts in items:
            refused = "<br>".join(_cell(m) for m in facts.refused[:4])
            lines.append(f"| `{facts.key}` | {_cell(_type_name(facts))} | {_cell(default_text(facts))} | "
                         f"{_cell(_allowed(facts))} | {_platforms(facts)} | {refused} |")
    return "\n".join(lines) + "\n"


def pulumi_schema(keys: dict[str, KeyFacts]) -> dict[str, dict[str, Any]]:
    """Pulumi.yaml `config:` for the top-level scalar keys with one fixed default.

    Pulumi's project config types are string, integer, boolean and array; a key declared there
    without a default is required by the CLI, and a declared default is passed to the program as
    if set, so only keys whose default is the same everywhere are declared (objects stay untyped).
    """
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(keys):
        facts = keys[key]
        getter = _main_getter(facts)
        if "." in key or facts.secret or getter not in _SCALAR_GETTERS or getter not in _PULUMI_TYPES:
            continue
        seen = {d for defaults in facts.defaults.values() for d in defaults}
        if len(seen) != 1 or seen == {"unset"} or set(facts.platforms) != set(PLATFORMS):
            continue
        default = facts.facts["default"]
        description = f"{_TYPE_NAMES[getter]}"
        allowed = _allowed(facts).replace("`", "")
        if allowed:
            description += f"; {allowed}"
        description += f". Reference: docs/configuration.md#{_anchor(key)}"
        out[key] = {"type": _PULUMI_TYPES[getter], "description": description, "default": default}
    return out


_CONFIG_HEADER = f"# generated by `{COMMAND}` from the program's own getters (docs/configuration.md); do not edit\n"


def pulumi_yaml(current: str, keys: dict[str, KeyFacts]) -> str:
    """Pulumi.yaml with its `config:` block (the last block of the file) replaced by the generated one."""
    head = current.split(_CONFIG_HEADER, 1)[0]
    head = re.split(r"(?m)^config:\s*$", head, maxsplit=1)[0].rstrip("\n") + "\n"
    block = yaml.safe_dump({"config": pulumi_schema(keys)}, sort_keys=False, default_flow_style=False, width=1000)
    return head + _CONFIG_HEADER + block


@dataclass(frozen=True)
class Reference:
    keys: dict[str, KeyFacts]
    stacks: list[str]
    crashes: list[str] = field(default_factory=list)  # config the loader met with a traceback, not a problem

    def markdown(self) -> str:
        return markdown(self.keys, self.stacks)

    def pulumi_yaml(self, current: str) -> str:
        return pulumi_yaml(current, self.keys)


def build(project_dir: Path) -> Reference:
    observations = explore(project_dir)
    keys = collect(observations)
    crashes = [o.crash for o in observations if o.crash] + add_refusals(keys, observations)
    return Reference(keys, [str(p.relative_to(project_dir)) for p in shipped_stacks(project_dir)], crashes)


def outputs(reference: Reference, project_dir: Path) -> dict[Path, str]:
    """Each generated file and its content."""
    project_file = project_dir / "Pulumi.yaml"
    return {
        project_dir / REFERENCE_PATH: reference.markdown(),
        project_file: reference.pulumi_yaml(project_file.read_text(encoding="utf-8")),
    }


def run(project_dir: Path, *, check: bool) -> tuple[list[Path], list[str]]:
    """Write the generated files (or, with check, only compare); returns the files that differed and the
    config the loader crashed on (each one a traceback a user would see instead of a problem)."""
    reference = build(project_dir)
    stale = []
    for path, text in outputs(reference, project_dir).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale, reference.crashes
