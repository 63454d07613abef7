"""What the Kubernetes API server refuses in values that come from config, checked before anything
registers (each rule was seen refused, or warned about, by a real kube-apiserver: see
tests/apiserver/test_config_vs_server.py).

- env var names: duplicates of a name the program derives (`duplicate entries for key
  [name="NEO4J_URI"]` from server-side apply), and names outside `[-._a-zA-Z][-._a-zA-Z0-9]*`
  (the rule every supported Kubernetes version accepts; 1.32 refuses at least '=' and empty);
- annotation keys: qualified names (`prefix/name`, name part `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`
  of at most 63, prefix a DNS subdomain of at most 253);
- class, Gateway and namespace references: DNS subdomains / DNS labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .reader import ConfigReader

ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAME_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and DNS_LABEL.match(value) is not None


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and DNS_SUBDOMAIN.match(value) is not None


def is_qualified_name(value: str) -> bool:
    """A label or annotation key as the API server validates it."""
    prefix, _, name = value.rpartition("/")
    if "/" in value and not (prefix and is_dns_subdomain(prefix)):
        return False
    return 0 < len(name) <= 63 and _NAME_PART.match(name) is not None


def check_app_env(reader: ConfigReader, app: str, env: Mapping[str, str]) -> None:
    """`archivist:<app>.env`: names the server accepts and the program does not already set."""
    from ..tiers.archivist_apps import derived_env_names  # the tier's own table of what it sets

    derived = set(derived_env_names(app))
    for name in env:
        key = reader.key(f"env.{name}")
        if not ENV_NAME.match(name):
            reader.problems.add(key, f"{name!r} is not a valid environment variable name "
                                     "(letters, digits, '_', '-' and '.', not starting with a digit)")
        elif name in derived:
            reader.problems.add(key, f"the program already sets {name} on the {app} from the stack "
                                     "(a second entry makes the API server refuse the Deployment); remove it from env")


def check_annotations(reader: ConfigReader, name: str, annotations: Mapping[str, str]) -> None:
    for key in annotations:
        if not is_qualified_name(key):
            reader.problems.add(reader.key(f"{name}.{key}"),
                                f"{key!r} is not a valid annotation key (e.g. 'example.com/setting' or 'setting')")


def dns_subdomain(reader: ConfigReader, name: str, what: str) -> str | None:
    """An optional name of a Kubernetes object (StorageClass, IngressClass, Gateway)."""
    value = reader.optional_string(name)
    if value is not None and not is_dns_subdomain(value):
        reader.problems.add(reader.key(name), f"{value!r} is not a valid {what} name "
                                              "(lower-case letters, digits, '-' and '.')")
        return None
    return value


def dns_label(reader: ConfigReader, name: str, what: str) -> str | None:
    """An optional namespace name."""
    value = reader.optional_string(name)
    if value is not None and not is_dns_label(value):
        reader.problems.add(reader.key(name), f"{value!r} is not a valid {what} name "
                                              "(lower-case letters, digits and '-', at most 63)")
        return None
    return value


def store_image(reader: ConfigReader, default: str) -> str:
    """A store's `image` override: a pinned reference (a Deployment accepts any string in its
    template, but the pods are then refused, e.g. for whitespace, or pull something unpinned)."""
    from ..images import is_pinned_reference

    value = reader.string("image", default)
    if not is_pinned_reference(value):
        reader.problems.add(reader.key("image"), f"{value!r} is not a pinned image reference; "
                                                 "give a tag other than 'latest' or an @sha256 digest")
        return default
    return value
