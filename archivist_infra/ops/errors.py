"""The one error type a verb raises for bad input or an unreachable cluster: printed as one line."""

from __future__ import annotations

import json


class OpsError(Exception):
    """A problem the user can fix; the CLI prints `error: <message>` and exits 2."""


def api_message(err: object) -> str:
    """The server's own message from a kubernetes ApiException (its JSON `Status` body), on one line."""
    status = getattr(err, "status", None)
    reason = getattr(err, "reason", None) or ""
    body = getattr(err, "body", None)
    message = ""
    if body:
        try:
            message = str(json.loads(body).get("message", ""))
        except (ValueError, AttributeError, TypeError):
            message = str(body)[:300]
    text = f"{status} {reason}".strip()
    return f"{text}: {message}" if message else text
