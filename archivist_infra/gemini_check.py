"""Asks the Gemini API whether each configured model exists and serves what the services call.

One module, two callers: `python -m archivist_infra ops models STACK` imports it, and the
pre-flight Job on `pulumi up` runs this very file (mounted from a ConfigMap) with the Python of an
image we already deploy. So it uses the standard library only and imports nothing from the package.

    GET {base}/v1beta/models/{id}     header x-goog-api-key: KEY

Every problem is one line naming the model (or the key, or the network), so a failed Job's log
and `ops models` say what to change. The replacement comes from the API's answer when it names
one (any `*replacement*` field of the model or of the error's details: the Model resource's
documented fields carry none that we found), else from the table the deployment ships
(gemini_models.py, passed in as GEMINI_REPLACEMENTS).

Job environment: GEMINI_API_KEY, GEMINI_MODELS ("id:method,id:method", method generateContent or
embedContent), GEMINI_REPLACEMENTS ("old=new,..."), GEMINI_API_BASE (tests point it at a stand-in).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

API_BASE = "https://generativelanguage.googleapis.com"
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Wanted:
    model: str  # bare id, e.g. gemini-3.5-flash
    method: str  # the method the service calls: generateContent or embedContent


@dataclass(frozen=True)
class Result:
    model: str
    ok: bool
    line: str  # one line, for logs and the terminal


class UnreachableError(Exception):
    """No answer at all (DNS, refused, timeout): egress, not the model."""


def _find_replacement(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if "replacement" in str(key).lower() and isinstance(item, str) and item:
                return item.removeprefix("models/")
            found = _find_replacement(item)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _find_replacement(item)
            if found:
                return found
    return None


def _get(base: str, model: str, key: str, timeout: float) -> tuple[int, Any]:
    url = f"{base.rstrip('/')}/v1beta/models/{urllib.parse.quote(model, safe='.-_')}"
    request = urllib.request.Request(url, headers={"x-goog-api-key": key, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        host = urllib.parse.urlsplit(base).netloc
        raise UnreachableError(f"cannot reach the Gemini API at {host} ({reason}); check egress to port 443 "
                          "(NetworkPolicy, proxy, firewall)") from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8", "replace") or "null")
    except ValueError:
        return None


def _message(body: Any) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return " ".join(str(body["error"].get("message", "")).split())[:200]
    return ""


def check_model(wanted: Wanted, key: str, *, base: str = API_BASE, replacements: Mapping[str, str] | None = None,
                timeout: float = TIMEOUT_SECONDS) -> Result:
    """Raises UnreachableError when the API does not answer; every other outcome is a Result."""
    status, body = _get(base, wanted.model, key, timeout)
    table = (replacements or {}).get(wanted.model)
    api_says = _find_replacement(body)
    replacement = api_says or table
    instead = f"; use '{replacement}' instead ({'the API' if api_says else 'docs/gemini-models.md'})" if replacement else ""
    message = _message(body)
    if status == 200 and isinstance(body, Mapping):
        methods = body.get("supportedGenerationMethods") or []
        if methods and wanted.method not in methods:
            return Result(wanted.model, False, f"model '{wanted.model}' does not support {wanted.method} "
                          f"(it supports {', '.join(methods)}){instead}")
        if api_says:
            return Result(wanted.model, False, f"model '{wanted.model}' is answered but the API names a "
                          f"replacement{instead}")
        return Result(wanted.model, True, f"ok: model '{wanted.model}' serves {wanted.method}")
    if status == 404:
        return Result(wanted.model, False, f"model '{wanted.model}' not found on the Gemini API (shut down or "
                      f"misspelled){instead}")
    if status in (400, 401, 403) and ("key" in message.lower() or status in (401, 403)):
        return Result(wanted.model, False, f"the Gemini API refused the key (HTTP {status}: {message or 'no message'}); "
                      "set a valid one with `pulumi config set --secret archivist:geminiApiKey <key>`")
    return Result(wanted.model, False, f"model '{wanted.model}': the Gemini API answered HTTP {status}"
                  f"{': ' + message if message else ''}{instead}")


def check_models(wanted: Sequence[Wanted], key: str, *, base: str = API_BASE,
                 replacements: Mapping[str, str] | None = None, timeout: float = TIMEOUT_SECONDS) -> list[Result]:
    """Every model once; a bad key or no network is reported once, not per model."""
    if not key.strip():
        return [Result("", False, "no Gemini API key: set archivist:geminiApiKey (secret) or GEMINI_API_KEY")]
    results: list[Result] = []
    seen: set[str] = set()
    for item in wanted:
        if item.model in seen:
            continue
        seen.add(item.model)
        try:
            result = check_model(item, key, base=base, replacements=replacements, timeout=timeout)
        except UnreachableError as error:
            return [*results, Result(item.model, False, str(error))]
        results.append(result)
        if result.line.startswith("the Gemini API refused the key"):
            return results
    return results


def parse_wanted(text: str) -> list[Wanted]:
    out = []
    for part in text.split(","):
        model, _, method = part.strip().partition(":")
        if model:
            out.append(Wanted(model.removeprefix("models/"), method or "generateContent"))
    return out


def parse_replacements(text: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in text.split(",") if "=" in part)
    return {old.strip(): new.strip() for old, new in pairs}


def main(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    results = check_models(parse_wanted(env.get("GEMINI_MODELS", "")), env.get("GEMINI_API_KEY", ""),
                           base=env.get("GEMINI_API_BASE") or API_BASE,
                           replacements=parse_replacements(env.get("GEMINI_REPLACEMENTS", "")))
    for result in results:
        print(result.line if result.ok else f"error: {result.line}", file=sys.stdout if result.ok else sys.stderr)
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
