"""Settings of the checked-in stacks, read the way the program reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archivist_infra.config.load import load_settings
from archivist_infra.config.settings import Settings
from archivist_infra.offline.stackfile import StackConfig, read_stack

ROOT = Path(__file__).resolve().parents[2]


def raw_config(config: StackConfig) -> tuple[dict[str, Any], set[str]]:
    raw: dict[str, Any] = {}
    for full, value in config.values.items():
        if not full.startswith("archivist:"):
            continue
        try:
            raw[full.split(":", 1)[1]] = json.loads(value)
        except ValueError:
            raw[full.split(":", 1)[1]] = value
    secrets = {k.split(":", 1)[1] for k in config.secret_keys}
    return raw, secrets


def stack_settings(stack: str) -> Settings:
    config = read_stack(ROOT, stack)
    raw, secrets = raw_config(config)
    return load_settings(raw, project=config.project, stack=stack, secrets_present=secrets)
