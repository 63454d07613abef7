"""Runs `platform_module(name)` in a fresh interpreter and reports which cloud SDKs it loaded.

The first call starts one probe per platform at once, so the four interpreters (about
0.5-1 s each) overlap instead of adding up.
"""

from __future__ import annotations

import json
import subprocess
import sys

from archivist_infra.platforms import PLATFORMS

CLOUD_SDKS = ("pulumi_gcp", "pulumi_aws", "pulumi_azure_native", "pulumi_docker_build")

_PROBE = """
import json, sys
from archivist_infra.platforms import platform_module
platform_module({name!r})
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sdks!r})))
"""

_running: dict[str, subprocess.Popen[str]] = {}
_results: dict[str, set[str]] = {}


def start() -> None:
    """Start every probe (idempotent); the session fixture calls this before the first test."""
    if not _running:
        for name in PLATFORMS:
            _running[name] = subprocess.Popen(
                [sys.executable, "-c", _PROBE.format(name=name, sdks=CLOUD_SDKS)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )


def loaded_sdks(platform: str) -> set[str]:
    start()
    if platform not in _results:
        out, err = _running[platform].communicate(timeout=60)
        assert _running[platform].returncode == 0, err
        _results[platform] = {m.split(".")[0] for m in json.loads(out)}
    return _results[platform]


def assert_only_sdk(platform: str, sdk: str | None) -> None:
    expected = {sdk} if sdk else set()
    assert loaded_sdks(platform) == expected
