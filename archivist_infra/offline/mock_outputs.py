"""Outputs the real providers compute and the mock engine must invent.

Pulumi's mocks echo a resource's inputs back as its state; anything a provider computes
(a digest, a kubeconfig, a generated password) has to be supplied here, one function per
type token, so that the offline `render`/`graph` and the tests see realistic values.
Every invented secret is a visible placeholder, never a plausible credential.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

Inputs = dict[str, Any]


def _fake_digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def _random_password(name: str, inputs: Inputs) -> dict[str, Any]:
    return {"result": f"[generated:{name}]"}


# type token -> function(logical name, inputs) -> extra state merged over the inputs
COMPUTED: dict[str, Callable[[str, Inputs], dict[str, Any]]] = {
    "random:index/randomPassword:RandomPassword": _random_password,
}


def computed_outputs(type_token: str, name: str, inputs: Inputs) -> dict[str, Any]:
    make = COMPUTED.get(type_token)
    return make(name, inputs) if make else {}


__all__ = ["COMPUTED", "computed_outputs", "_fake_digest"]
