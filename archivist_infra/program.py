"""The Pulumi program: read config, validate it whole, then build the stack.

Nothing is registered until every setting has been checked, so bad config never leaves
a half-created stack behind.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from .config.entry_access import IAP_SECRET_KEY
from .config.load import NAMESPACE, SECRET_KEYS, load_settings
from .config.settings import Settings
from .stack import ArchivistStack, StackSecrets, build_stack


def _all_config() -> dict[str, Any]:
    # The engine hands config to the program as one map; the env var carries it under tests.
    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def _parse(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def read_raw_config() -> tuple[dict[str, Any], set[str]]:
    """Every `archivist:` key with its parsed value, and which keys are stored encrypted."""
    prefix = f"{NAMESPACE}:"
    raw: dict[str, Any] = {}
    secret: set[str] = set()
    for full_key, value in _all_config().items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix):]
        if key in SECRET_KEYS:
            raw[key] = "<secret>"  # presence only: the value is read as a secret Output below
        else:
            raw[key] = _parse(value)
        if runtime_config.is_config_secret(full_key):
            secret.add(key)
    return raw, secret


def read_raw_config_and_settings(project: str, stack: str) -> Settings:
    raw, secret_keys = read_raw_config()
    return load_settings(raw, project=project, stack=stack, secrets_present=secret_keys)


def load() -> tuple[Settings, StackSecrets]:
    settings = read_raw_config_and_settings(pulumi.get_project(), pulumi.get_stack())
    cfg = pulumi.Config(NAMESPACE)
    return settings, StackSecrets(
        gemini_api_key=cfg.require_secret("geminiApiKey"),
        neo4j_password=cfg.get_secret("neo4jPassword"),
        iap_client_secret=cfg.get_secret(IAP_SECRET_KEY),
        redis_password=cfg.get_secret("redisPassword"),
    )


def main() -> ArchivistStack:
    settings, secrets = load()
    stack = build_stack(settings, secrets)
    for key, value in stack.outputs().items():
        pulumi.export(key, value)
    return stack
