"""Our patches on the pinned source, applied exactly as the Dockerfiles apply them.

No Docker engine here: for each image, the build context (the service's directory of a clean
pinned tree) and the patches its `COPY --from=patches <glob>` selects are laid out as in the build
stage, and the Dockerfile's own `RUN ... git apply ...` line is run on them with /bin/sh.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from pathlib import Path

import pytest

from archivist_infra.images import BUILD_SPECS, PATCHES_DIR, dockerfile_text
from tests.test_app_patches import apply_command, patch_glob
from tests.test_source_images import copied_sources

from .conftest import required_env

pytestmark = pytest.mark.appsource

PATCHES = sorted(PATCHES_DIR.glob("*.patch"))


@pytest.fixture
def pristine() -> Path:
    return Path(required_env("ARCHIVIST_APP_SOURCE"))


def test_every_patch_applies_in_order_to_a_clean_pinned_tree(pristine: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    for patch in PATCHES:
        check = subprocess.run(["git", "-C", str(tree), "apply", "--check", "-p1", str(patch)], capture_output=True, text=True)
        assert check.returncode == 0, f"{patch.name}: {check.stderr}"
        subprocess.run(["git", "-C", str(tree), "apply", "-p1", str(patch)], check=True)


def lay_out_build_stage(app: str, pristine: Path, tmp_path: Path) -> tuple[Path, str, list[str]]:
    """The build stage's /src (the context) and /patches; the Dockerfile's apply command for them."""
    context = tmp_path / "src"
    shutil.copytree(pristine / BUILD_SPECS[app].context, context)
    patches = tmp_path / "patches"
    patches.mkdir()
    chosen = sorted(p.name for p in PATCHES if fnmatch.fnmatch(p.name, patch_glob(dockerfile_text(app))))
    for name in chosen:
        shutil.copy(PATCHES_DIR / name, patches / name)
    return context, apply_command(dockerfile_text(app)).replace("/patches/", f"{patches}/"), chosen


@pytest.mark.parametrize("app", tuple(BUILD_SPECS))
def test_the_dockerfile_applies_its_patches_to_its_context(app: str, pristine: Path, tmp_path: Path) -> None:
    context, command, chosen = lay_out_build_stage(app, pristine, tmp_path)
    assert chosen
    result = subprocess.run(["/bin/sh", "-c", command], cwd=context, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("applying ") == len(chosen)
    # What the image then copies from /src is the patched tree's, file for file.
    patched = Path(required_env("ARCHIVIST_APP_PATCHED")) / BUILD_SPECS[app].context
    copied = [context / c for c in copied_sources(dockerfile_text(app))]
    files = [f for c in copied for f in ([c] if c.is_file() else c.rglob("*")) if f.is_file()]
    assert files
    for path in files:
        assert path.read_bytes() == (patched / path.relative_to(context)).read_bytes(), path


@pytest.mark.parametrize("app", tuple(BUILD_SPECS))
def test_a_patch_that_no_longer_applies_fails_the_build_step(app: str, pristine: Path, tmp_path: Path) -> None:
    context, command, chosen = lay_out_build_stage(app, pristine, tmp_path)
    # A changed pin: a line the first patch's first hunk expects is different.
    first = (PATCHES_DIR / chosen[0]).read_text()
    target = next(line.split(" b/", 1)[1] for line in first.splitlines() if line.startswith("diff --git "))
    strip = 2 if app != "worker" else 0  # -p3 in the service contexts
    path = context / "/".join(target.split("/")[strip:])
    removed = next(line[1:] for line in first.split("\n@@", 1)[1].splitlines()[1:] if line.startswith(("-", " ")) and line[1:].strip())
    text = path.read_text()
    assert removed in text
    path.write_text(text.replace(removed, removed + " // changed upstream", 1))
    result = subprocess.run(["/bin/sh", "-c", command], cwd=context, capture_output=True, text=True)
    assert result.returncode != 0
    assert "patch does not apply" in result.stderr or "patch failed" in result.stderr, result.stderr
