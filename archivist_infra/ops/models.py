"""`ops models STACK`: the pre-flight model check, run from a terminal.

The same code as the Job `archivist-model-check` (archivist_infra/gemini_check.py). Which key:
by default the stack's own, read from the cluster Secret `archivist-secrets` (key GEMINI_API_KEY),
the one the apps and the Job use, so a key rotated outside Pulumi is what gets checked; with
`--key-from-env`, $GEMINI_API_KEY (before the first `pulumi up`, or without cluster access). The key
is never printed. Exit 0: every model answers; 1: a model or the key is refused, or no egress.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from ..config.gemini import GeminiSettings
from ..gemini_check import API_BASE, Wanted, check_models
from ..gemini_models import MODELS
from ..tiers.secrets import GEMINI_KEY, SECRET_NAME
from .context import Ops, Out
from .errors import OpsError


def models_from_env() -> str:
    key = os.environ.get("GEMINI_API_KEY", "")
    if not key.strip():
        raise OpsError("--key-from-env: GEMINI_API_KEY is not set")
    return key


def key_from_secret(ops: Ops) -> str:
    from kubernetes.client.exceptions import ApiException

    try:
        secret = ops.core.read_namespaced_secret(SECRET_NAME, ops.namespace)
    except ApiException as err:
        if err.status == 404:
            raise OpsError(f"no Secret {ops.namespace}/{SECRET_NAME}: run `pulumi up` first, or pass --key-from-env "
                           "with GEMINI_API_KEY set") from None
        raise
    data = (secret.data or {}).get(GEMINI_KEY)
    if not data:
        raise OpsError(f"Secret {ops.namespace}/{SECRET_NAME} has no {GEMINI_KEY}")
    return base64.b64decode(data).decode()


def wanted(gemini: GeminiSettings) -> list[Wanted]:
    return [Wanted(gemini.generation_model, "generateContent"), Wanted(gemini.embedding_model, "embedContent")]


def models(out: Out, gemini: GeminiSettings | None, key: str, *, base: str | None = None) -> int:
    settings = gemini or GeminiSettings()
    replacements = {m.id: m.replacement for m in MODELS if m.replacement}
    results = check_models(wanted(settings), key, base=base or API_BASE, replacements=replacements)
    if out.json:
        report: dict[str, Any] = {"models": [{"model": r.model, "ok": r.ok, "message": r.line} for r in results]}
        out.emit(report)
    else:
        for result in results:
            if result.ok:
                out.say(result.line)
            else:  # problems on stderr, one line each, like every verb's errors
                out.err.print(f"error: {result.line}", markup=False, emoji=False)
    return 0 if results and all(r.ok for r in results) else 1
