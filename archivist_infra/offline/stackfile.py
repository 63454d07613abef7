"""Reads `Pulumi.yaml` and a stack file into the config map the Pulumi engine would pass.

Encrypted (`secure:`) values are never decrypted here: they become visible placeholders,
and their keys are marked secret exactly as the engine marks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class StackFileError(Exception):
    pass


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]  # "archivist:neo4j" -> JSON text or plain string, as the engine passes them
    secret_keys: list[str]


def placeholder(key: str) -> str:
    return f"[secret:{key}]"


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _strip_secure(value: Any, key: str) -> tuple[Any, bool]:
    """Replace every `{secure: ...}` inside `value` by a placeholder; report whether any was found."""
    if _is_secure(value):
        return placeholder(key), True
    if isinstance(value, dict):
        found = False
        out = {}
        for k, v in value.items():
            out[k], f = _strip_secure(v, f"{key}.{k}")
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_strip_secure(v, f"{key}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], any(f for _, f in items)
    return value, False


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except yaml.YAMLError as err:
        raise StackFileError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise StackFileError(f"{path}: expected a mapping at the top level")
    return data


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def read_stack(project_dir: Path, stack: str, config_file: Path | None = None) -> StackConfig:
    project_file = _load_yaml(project_dir / "Pulumi.yaml")
    project = str(project_file.get("name") or "")
    if not project:
        raise StackFileError(f"{project_dir / 'Pulumi.yaml'}: 'name' is missing")

    values: dict[str, str] = {}
    secret_keys: list[str] = []

    # Project-level defaults (Pulumi.yaml `config:` with `default:` or `value:`) come first.
    for key, spec in (project_file.get("config") or {}).items():
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            default = spec.get("value", spec.get("default"))
            values[_qualify(project, key)] = _encode(default)
        elif not isinstance(spec, dict):
            values[_qualify(project, key)] = _encode(spec)

    stack_path = config_file or project_dir / f"Pulumi.{stack}.yaml"
    stack_file = _load_yaml(stack_path)
    config = stack_file.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{stack_path}: 'config' must be a mapping")
    for key, value in config.items():
        full = _qualify(project, str(key))
        stripped, secret = _strip_secure(value, full)
        values[full] = _encode(stripped)
        if secret:
            secret_keys.append(full)
    return StackConfig(project=project, stack=stack, values=values, secret_keys=secret_keys)


def _encode(value: Any) -> str:
    # The engine passes strings as they are and everything else as JSON text.
    return value if isinstance(value, str) else json.dumps(value)
