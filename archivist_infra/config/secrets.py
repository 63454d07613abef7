"""The `secrets` section: where the application Secret's values live.

On a cloud the default is the cloud's own secret manager, read into the namespace by External
Secrets Operator; `kubernetes` keeps the Pulumi-managed Kubernetes Secret (the only choice on
`local`, and an explicit opt-out on a cloud).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .reader import ConfigReader

KUBERNETES = "kubernetes"
GCP_SECRET_MANAGER = "gcpSecretManager"
AWS_SECRETS_MANAGER = "awsSecretsManager"
AZURE_KEY_VAULT = "azureKeyVault"
BACKENDS = (KUBERNETES, GCP_SECRET_MANAGER, AWS_SECRETS_MANAGER, AZURE_KEY_VAULT)
# The secret manager each platform offers; `local` has none.
PLATFORM_BACKEND = {"local": KUBERNETES, "gke": GCP_SECRET_MANAGER, "eks": AWS_SECRETS_MANAGER, "aks": AZURE_KEY_VAULT}

# Go durations as ExternalSecret.spec.refreshInterval takes them ("15m", "1h30m"); at least a minute
# so a stack cannot hammer the secret manager (each refresh is one billed read per key).
_DURATION = re.compile(r"^(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$")
# Key Vault names: 3-24 letters, digits and dashes, starting with a letter, globally unique.
_VAULT_NAME = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-)){1,22}[a-zA-Z0-9]$")


@dataclass(frozen=True)
class SecretStoreSettings:
    backend: str = KUBERNETES
    refresh_interval: str = "15m"
    key_vault_name: str | None = None  # azureKeyVault: None derives one from project and stack

    @property
    def external(self) -> bool:
        return self.backend != KUBERNETES


def duration_seconds(text: str) -> int:
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)([hms])", text))


def default_vault_name(project: str, stack: str) -> str:
    """A stable, globally-unlikely-to-clash vault name within Azure's 24 characters."""
    digest = hashlib.sha256(f"{project}/{stack}".encode()).hexdigest()[:8]
    # "kv-" + stem + "-" + 8 hex digits: a 12-character stem makes 24, Azure's maximum. The stem
    # may be empty (a project and stack of symbols only); "kv--" would break the single-dash rule.
    stem = re.sub(r"[^a-z0-9]", "", f"{project}{stack}".lower())[:12] or "archivist"
    return f"kv-{stem}-{digest}"


def parse_secrets(root: ConfigReader, platform: str) -> SecretStoreSettings:
    section = root.section("secrets")
    default = PLATFORM_BACKEND.get(platform, KUBERNETES)
    backend = section.choice("backend", default, BACKENDS)
    if backend not in (KUBERNETES, default):
        section.problems.add(
            section.key("backend"),
            f"'{backend}' is not the secret manager of platform '{platform}'; use "
            f"'{default}'{'' if default == KUBERNETES else ' or ' + repr(KUBERNETES)}",
        )
        backend = default
    refresh = section.string("refreshInterval", "15m", pattern=_DURATION, hint="a duration such as '15m' or '1h'")
    if duration_seconds(refresh) < 60:
        section.problems.add(section.key("refreshInterval"),
                             f"{refresh!r} is shorter than a minute; every refresh is a billed read per key")
        refresh = "15m"
    vault = section.optional_string("keyVaultName")
    if vault is not None:
        if backend != AZURE_KEY_VAULT:
            section.problems.add(section.key("keyVaultName"), f"applies only to backend '{AZURE_KEY_VAULT}'")
        elif not _VAULT_NAME.match(vault):
            section.problems.add(section.key("keyVaultName"),
                                 f"{vault!r} is not a Key Vault name (3-24 letters, digits, single dashes; starts with a letter)")
            vault = None
    section.reject_unknown()
    return SecretStoreSettings(backend=backend, refresh_interval=refresh, key_vault_name=vault)
