"""Every platform x every optional feature: renders with every custom resource served or installed first
(and, on GKE, every Google API enabled and waited for), or is refused at config time by key with the fix.

Slow (one render per combination): `pytest -m matrix` (CI runs it, scripts/ci/matrix.sh). Each feature is
tried one at a time on the platform's stack file, plus everything on at once.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

import pytest

from archivist_infra.config.problems import ConfigError
from archivist_infra.offline import engine
from archivist_infra.offline.stackfile import StackConfig
from archivist_infra.platforms.served_apis import platform_of
from archivist_infra.program import main as program_main
from tests.apiserver.stacks import read_stack_file, stack_files, stack_id
from tests.platform_support import google_api_gaps, settings_of, unserved

pytestmark = pytest.mark.matrix

FILES = {stack_id(p): p for p in stack_files()}
BASES = {"local": "dev", "gke": "prod", "eks": "examples/eks", "aks": "examples/aks"}
HOST = "archivist.example.com"
CLOUD_BACKEND = {"local": "kubernetes", "gke": "gcpSecretManager", "eks": "awsSecretsManager", "aks": "azureKeyVault"}


def _entry(issuer: str, controller: str | None = None) -> dict[str, Any]:
    tls: dict[str, Any] = {"issuer": issuer, **({"acmeEmail": "ops@example.com"} if issuer == "acme" else {})}
    return {"ingress": {"mode": "gateway", "host": HOST, "tls": tls,
                        **({"gateway": {"controller": controller}} if controller else {})}}


# Feature variant -> config overrides: a top-level key replaces the base's; `section.key` sets one key in it.
VARIANTS: dict[str, dict[str, Any]] = {
    **{f"entry-{issuer}": _entry(issuer) for issuer in ("managed", "acme", "selfSigned", "none")},
    **{f"entry-envoy-{issuer}": _entry(issuer, "envoy") for issuer in ("acme", "selfSigned", "none")},
    "monitoring-install": {"monitoring": {"mode": "prometheus-operator", "install": True}},
    "monitoring-attach": {"monitoring": {"mode": "attach", "selectorLabels": {"release": "theirs"}}},
    "monitoring-gmp": {"monitoring": {"mode": "gmp"}},
    "monitoring-none": {"monitoring": {"mode": "none"}},
    "backups-on": {"backup": {"enabled": True}},
    "backups-s3": {"backup": {"enabled": True, "s3": {"bucket": "archivist", "url": "http://minio.minio.svc:9000",
                                                       "credentialsSecret": "minio-credentials"}}},
    "backups-off": {"backup": {"enabled": False}},
    "external-secrets": {"secrets": {"backend": "<cloud>"}},
    "kubernetes-secrets": {"secrets": {"backend": "kubernetes"}},
    "lag-scaling": {"keda": {"enabled": True}},  # the default partitions cover the graph's maxReplicas
    "no-lag-scaling": {"keda": {"enabled": False}},
    "spot": {"cluster.spot": {"enabled": True}},
    "no-spot": {"cluster.spot": {"enabled": False}},
    "protect": {"protect": True},
    "no-protect": {"protect": False},
}

# (platform, variant) -> the key the refusal names. Anything not listed must render; anything listed must
# be refused by that key (a new refusal or a new acceptance both fail the matrix, so either is a decision).
REFUSED = {
    ("local", "entry-managed"): "archivist:ingress.tls.issuer",
    ("eks", "entry-managed"): "archivist:ingress.tls.issuer",
    ("aks", "entry-managed"): "archivist:ingress.tls.issuer",
    ("gke", "entry-acme"): "archivist:ingress.tls.issuer",
    ("gke", "entry-selfSigned"): "archivist:ingress.tls.issuer",
    ("local", "monitoring-gmp"): "archivist:monitoring.mode",
    ("eks", "monitoring-gmp"): "archivist:monitoring.mode",
    ("aks", "monitoring-gmp"): "archivist:monitoring.mode",
    ("local", "backups-on"): "archivist:backup.enabled",
    ("gke", "backups-s3"): "archivist:backup.s3.bucket",
    ("eks", "backups-s3"): "archivist:backup.s3.bucket",
    ("aks", "backups-s3"): "archivist:backup.s3.bucket",
    ("local", "spot"): "archivist:cluster.spot",
    ("local", "no-spot"): "archivist:cluster.spot",
}

# Everything on at once, per platform: the variants that platform accepts.
ALL_ON = {
    "local": ("entry-envoy-selfSigned", "monitoring-install", "backups-s3", "kubernetes-secrets", "lag-scaling",
              "protect"),
    "gke": ("entry-managed", "monitoring-gmp", "backups-on", "external-secrets", "lag-scaling", "spot", "protect"),
    "eks": ("entry-acme", "monitoring-install", "backups-on", "external-secrets", "lag-scaling", "spot", "protect"),
    "aks": ("entry-acme", "monitoring-attach", "backups-on", "external-secrets", "lag-scaling", "spot", "protect"),
}


def configured(platform: str, variants: tuple[str, ...]) -> StackConfig:
    config = read_stack_file(FILES[BASES[platform]])
    values = dict(config.values)
    for variant in variants:
        for key, value in VARIANTS[variant].items():
            if key == "secrets" and value.get("backend") == "<cloud>":
                value = {"backend": CLOUD_BACKEND[platform]}
            if "." in key:
                section, sub = key.split(".", 1)
                text = values.get(f"{config.project}:{section}")
                key, value = section, {**(json.loads(text) if text else {}), sub: value}
            values[f"{config.project}:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return dataclasses.replace(config, values=values)


@cache
def outcome(platform: str, variants: tuple[str, ...]) -> engine.Run | ConfigError:
    config = configured(platform, variants)
    try:
        settings_of(config)  # the config-time check: every problem at once, before any resource exists
    except ConfigError as refused:
        return refused
    return engine.run(config, program_main)


def _check_render(platform: str, variants: tuple[str, ...]) -> None:
    run = outcome(platform, variants)
    assert not isinstance(run, ConfigError), f"refused: {run}"
    assert platform_of(run) == platform
    assert unserved(run, configured(platform, variants)) == []
    if platform == "gke":
        assert google_api_gaps(run) == []


CASES = [(p, v) for p in BASES for v in VARIANTS]


@pytest.mark.parametrize(("platform", "variant"), CASES, ids=[f"{p}-{v}" for p, v in CASES])
def test_feature_renders_or_is_refused_by_key(platform: str, variant: str) -> None:
    expected = REFUSED.get((platform, variant))
    if expected is None:
        _check_render(platform, (variant,))
        return
    refused = outcome(platform, (variant,))
    assert isinstance(refused, ConfigError), f"{platform} {variant}: expected a refusal naming {expected}"
    assert expected in refused.keys
    assert all(k.startswith("archivist:") for k in refused.keys)
    for problem in refused.problems:  # each says what to do, not only what is wrong
        assert len(problem.message) > 20, problem


@pytest.mark.parametrize("platform", sorted(ALL_ON))
def test_every_feature_at_once(platform: str) -> None:
    _check_render(platform, ALL_ON[platform])


def test_refusals_collect_every_problem_at_once() -> None:
    refused = outcome("local", ("entry-managed", "monitoring-gmp", "backups-on", "spot"))
    assert isinstance(refused, ConfigError)
    assert {"archivist:ingress.tls.issuer", "archivist:monitoring.mode", "archivist:backup.enabled",
            "archivist:cluster.spot"} <= set(refused.keys)
