"""Runs `platform_module(name)` in a fresh interpreter and reports which cloud SDKs it loaded."""

from __future__ import annotations

import json
import subprocess
import sys

CLOUD_SDKS = ("pulumi_gcp", "pulumi_aws", "pulumi_azure_native", "pulumi_docker_build")

_PROBE = """
import json, sys
from archivist_infra.platforms import platform_module
platform_module({name!r})
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sdks!r})))
"""


def loaded_sdks(platform: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(name=platform, sdks=CLOUD_SDKS)],
        check=True, capture_output=True, text=True,
    )
    return {m.split(".")[0] for m in json.loads(out.stdout)}


def assert_only_sdk(platform: str, sdk: str | None) -> None:
    expected = {sdk} if sdk else set()
    assert loaded_sdks(platform) == expected
