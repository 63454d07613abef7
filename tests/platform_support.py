"""Shared by the platform-support tests: settings of a stack config, and the checks every render must pass."""

from __future__ import annotations

import json
from typing import Any

from archivist_infra.config.load import SECRET_KEYS, load_settings
from archivist_infra.config.settings import Settings
from archivist_infra.offline.engine import Run
from archivist_infra.offline.stackfile import StackConfig
from archivist_infra.platforms import gcp_apis
from archivist_infra.platforms.served_apis import declared_groups, dependency_closure, missing_apis, platform_of

SERVICE = "gcp:projects/service:Service"


def _parse(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def settings_of(config: StackConfig) -> Settings:
    """The settings the program reads from this config (as program.read_raw_config does)."""
    prefix = f"{config.project}:"
    raw = {k[len(prefix):]: _parse(v) for k, v in config.values.items() if k.startswith(prefix)}
    for key in SECRET_KEYS:
        if key in raw:
            raw[key] = "<secret>"
    secrets = {k[len(prefix):] for k in config.secret_keys if k.startswith(prefix)}
    return load_settings(raw, project=config.project, stack=config.stack, secrets_present=secrets)


def unserved(run: Run, config: StackConfig) -> list[str]:
    return missing_apis(run, platform_of(run), declared_groups(settings_of(config)))


def google_api_gaps(run: Run) -> list[str]:
    """GCP resources whose API is unknown, not enabled by the stack, or not waited for."""
    enabled = {str(r.inputs["service"]): r for r in run.by_type(SERVICE)}
    waits_for = dependency_closure(run)
    gaps = []
    for r in run.resources:
        if not r.custom or not r.type.startswith("gcp:"):
            continue
        api = gcp_apis.api_of(r.type)
        if api is None:
            gaps.append(f"{r.type} {r.name}: no API known for this type (platforms/gcp_apis.py API_OF_TYPE)")
        elif api in gcp_apis.PREREQUISITES:
            continue
        elif api not in enabled:
            gaps.append(f"{r.type} {r.name}: {api} is not enabled by the stack")
        elif enabled[api].urn not in waits_for(r):
            gaps.append(f"{r.type} {r.name}: does not wait for {api} to be enabled")
    for api, service in enabled.items():
        if service.inputs.get("disableOnDestroy") is not False:
            gaps.append(f"{api}: disableOnDestroy must be false (other things in the project may use it)")
    return gaps
