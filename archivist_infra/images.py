"""Container images of the three Archivist services: given references (minimal version)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi

from .config.reader import ConfigReader

APP_IMAGES = ("worker", "search", "graph")

# name[:tag][@sha256:digest]; a tag other than `latest` or a digest is required.
_REFERENCE = re.compile(
    # an optional registry host (with port) ends in "/", so ":<n>" after the path is a tag
    r"^(?P<name>(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def is_pinned_reference(ref: str) -> bool:
    match = _REFERENCE.match(ref)
    if not match:
        return False
    tag, digest = match.group("tag"), match.group("digest")
    return bool(digest) or (bool(tag) and tag != "latest")


@dataclass(frozen=True)
class ImageSettings:
    references: dict[str, str]


@dataclass(frozen=True)
class ImageRefs:
    worker: pulumi.Input[str]
    search: pulumi.Input[str]
    graph: pulumi.Input[str]


def parse_images(reader: ConfigReader) -> ImageSettings:
    refs: dict[str, str] = {}
    for app in APP_IMAGES:
        key = reader.key(app)
        value = reader.raw(app)
        if value is None:
            reader.problems.add(
                key, f"is required: the image of the {app} service, pinned by tag or digest (e.g. 'ghcr.io/you/archivist-{app}:1.4.2')"
            )
            continue
        if not isinstance(value, str) or not is_pinned_reference(value):
            reader.problems.add(
                key, f"{value!r} is not a pinned image reference; give a tag other than 'latest' or an @sha256 digest"
            )
            continue
        refs[app] = value
    reader.reject_unknown()
    return ImageSettings(references=refs)


def deploy_images(settings: ImageSettings) -> ImageRefs:
    return ImageRefs(**{app: settings.references.get(app, "") for app in APP_IMAGES})
