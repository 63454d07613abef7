"""Our patches to the pinned application (images/patches/), offline.

Each patch: a header (what, why with the upstream file:line, upstreamable), one service's files
only (its name says which), no new hard-coded shut-down model or `localhost:9094`, and listed in
images/patches/README.md. Each Dockerfile: copies exactly its service's patches from the named
context `patches` and applies them with `git apply` at the path depth of its build context.
Applying them to the real pinned tree is `pytest -m appsource` (tests/appsource, scripts/ci/app.sh).
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from archivist_infra.images import BUILD_SPECS, PATCHES_CONTEXT, PATCHES_DIR, dockerfile_text
from tests.test_source_images import instructions

PATCHES = sorted(PATCHES_DIR.glob("*.patch"))
NAME = re.compile(r"^(\d{4})-(worker|search|graph)-[a-z0-9-]+\.patch$")
# Where each image's files live in the source (its build context).
SERVICE_PATHS = {"worker": ("cmd/", "internal/", "pkg/"), "search": ("services/search-engine/",),
                 "graph": ("services/graph-service/",)}
# Shut down on the Gemini API (ai.google.dev/gemini-api/docs/deprecations), and the producer's old address.
RETIRED = re.compile(r"text-embedding-004|gemini-1\.5-|gemini-2\.0-|gemini-exp-|localhost:9094")


def patch_glob(dockerfile: str) -> str:
    copies = [rest for word, rest in instructions(dockerfile) if word == "COPY" and f"--from={PATCHES_CONTEXT}" in rest]
    assert len(copies) == 1, copies
    source, destination = copies[0].split()[1:]
    assert destination == "/patches/"
    return source


def apply_command(dockerfile: str) -> str:
    runs = [rest for word, rest in instructions(dockerfile) if word == "RUN" and "git apply" in rest]
    assert len(runs) == 1, runs
    return runs[0]


def touched(patch: Path) -> list[str]:
    return re.findall(r"^diff --git a/(\S+) b/", patch.read_text(), re.M)


def test_there_are_patches_numbered_in_order() -> None:
    numbers = [NAME.match(p.name) for p in PATCHES]
    assert PATCHES and all(numbers), [p.name for p in PATCHES]
    assert [int(m.group(1)) for m in numbers if m] == list(range(1, len(PATCHES) + 1))


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_each_patch_has_its_header(patch: Path) -> None:
    header = patch.read_text().split("\ndiff --git ", 1)[0]
    assert header.startswith("What: ")
    assert "\nWhy: " in header
    assert re.search(r"^Upstreamable: (yes|no)\b", header, re.M)
    # The why cites the pinned source by file:line.
    assert re.search(r"[\w/.-]+\.(go|py|txt):\d+", header)


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_each_patch_touches_only_the_service_its_name_says(patch: Path) -> None:
    match = NAME.match(patch.name)
    assert match
    files = touched(patch)
    assert files
    assert all(f.startswith(SERVICE_PATHS[match.group(2)]) for f in files), files


@pytest.mark.parametrize("patch", PATCHES, ids=lambda p: p.name)
def test_no_patch_hard_codes_a_new_shut_down_model_or_the_old_broker(patch: Path) -> None:
    # A retired id may stay only where the patch keeps upstream's line (an empty-config default).
    diff = patch.read_text().split("\ndiff --git ", 1)[1]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = " ".join(line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    for line in added:
        for found in RETIRED.findall(line):
            assert found in removed, f"{patch.name} adds {found!r}: {line.strip()}"


@pytest.mark.parametrize("app", tuple(BUILD_SPECS))
def test_each_dockerfile_applies_exactly_its_services_patches(app: str) -> None:
    text = dockerfile_text(app)
    chosen = [p.name for p in PATCHES if fnmatch.fnmatch(p.name, patch_glob(text))]
    assert chosen == [p.name for p in PATCHES if NAME.match(p.name) and NAME.match(p.name).group(2) == app]  # type: ignore[union-attr]
    command = apply_command(text)
    # `git apply` (no fuzz, all or nothing) of each patch in order, failing the RUN on the first error.
    assert command.startswith("set -e;") and "for p in /patches/*.patch" in command
    depth = len(Path(BUILD_SPECS[app].context).parts) if BUILD_SPECS[app].context != "." else 0
    assert f"git apply -p{depth + 1} " in command
    # Applied before anything is built or installed from the sources.
    words = [(w, r) for w, r in instructions(text)]
    apply_at = words.index(("RUN", command))
    assert all("go build" not in r and "pip install" not in r for w, r in words[:apply_at] if w == "RUN")


def test_the_readme_lists_every_patch() -> None:
    readme = (PATCHES_DIR / "README.md").read_text()
    for patch in PATCHES:
        assert patch.name in readme, patch.name
