"""A reviewer reads a rendered Secret's documents with only the secret values standing in as placeholders.

The worker's config.yaml and redis.conf carry a generated password inside a whole document; masking the
document whole hid everything a reviewer needs to check. Offline every secret value is one of our
placeholders, so a document around one is shown; a secret with no placeholder is masked whole.
"""

from __future__ import annotations

from typing import Any

import yaml
from conftest import find
from pulumi.runtime import rpc

from archivist_infra.offline.engine import SECRET_SIG
from archivist_infra.offline.render import _clean, to_yaml


def test_worker_config_shows_every_setting_and_only_the_redis_password_as_a_placeholder(dev_objects: list) -> None:
    data = find(dev_objects, "Secret", "archivist-config-secret")["stringData"]
    config = yaml.safe_load(data["config.yaml"])
    assert config["cache"]["redis"]["password"] == "[generated:redis-password]"
    assert config["cache"]["redis"]["addr"].startswith("redis.")  # the rest of the document is readable
    assert config["graph"]["neo4j"]["uri"].startswith("bolt://neo4j.")
    assert config["input_dir"] == "/data/lib"
    assert data["REDIS_URL"].startswith("redis://:[generated:redis-password]@redis.")


def test_redis_conf_shows_the_directive_around_the_placeholder(dev_objects: list) -> None:
    data = find(dev_objects, "Secret", "redis-auth")["stringData"]
    assert data["redis.conf"].splitlines()[0] == "requirepass [generated:redis-password]"
    assert data["REDIS_PASSWORD"] == "[generated:redis-password]"


def test_app_secret_values_are_placeholders(dev_objects: list) -> None:
    data = find(dev_objects, "Secret", "archivist-secrets")["stringData"]
    assert data["GEMINI_API_KEY"] == "[secret:archivist:geminiApiKey]"
    assert data["NEO4J_AUTH"] == "neo4j/[generated:app-secrets-neo4j-password]"


def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: SECRET_SIG, "value": value}


def test_a_secret_without_a_placeholder_is_masked_whole() -> None:
    cleaned = _clean({"a": _secret("hunter2"), "b": _secret({"k": "token-abc", "p": "pw=[secret:x:y]"}),
                      "c": _secret(["[generated:n]", 42])})
    assert cleaned == {"a": "[secret]", "b": {"k": "[secret]", "p": "pw=[secret:x:y]"},
                       "c": ["[generated:n]", "[secret]"]}


def test_multi_line_documents_render_as_literal_blocks_that_read_back_identically(dev_objects: list) -> None:
    secret = find(dev_objects, "Secret", "archivist-config-secret")
    text = to_yaml([secret])
    assert "config.yaml: |\n    input_dir: /data/lib\n" in text
    assert list(yaml.safe_load_all(text)) == [secret]
    # Text a block cannot hold exactly (trailing spaces) still round-trips through a quoted scalar.
    odd = {"data": {"x": "line with trailing space \nnext\n", "y": "a\n\n\n", "z": " lead\ttab\n"}}
    assert list(yaml.safe_load_all(to_yaml([odd]))) == [odd]
