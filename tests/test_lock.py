"""One locked dependency set for the program, its tests and the policy pack.

The program once ran on protobuf 6 while its tests ran on protobuf 5 (only the policy pack's pins
pulled it down), so neither saw the program's real behaviour. Now uv.lock resolves everything
together, with a hash for every file, and requirements.txt (for `toolchain: pip` users) is its export.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())


def _uv() -> str:
    local = Path(sys.executable).with_name("uv")
    found = str(local) if local.exists() else shutil.which("uv")
    assert found, "uv is in the dev dependency group; install with `uv sync --locked`"
    return found


def _locked_version(name: str) -> str:
    return next(p["version"] for p in LOCK["package"] if p["name"] == name)


def test_requirements_txt_is_the_export_of_the_lock() -> None:
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-header", "--format",
         "requirements-txt", "-q"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert (ROOT / "requirements.txt").read_text() == exported, "run `make lock` to export requirements.txt again"


def test_every_locked_file_has_a_hash() -> None:
    registry = [p for p in LOCK["package"] if "registry" in p.get("source", {})]
    assert len(registry) > 50
    for package in registry:
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files, package["name"]
        assert all(f.get("hash", "").startswith("sha256:") for f in files), package["name"]


def test_the_policy_pack_pins_what_the_lock_resolves() -> None:
    # `pulumi preview --policy-pack policy` builds the pack's own venv from policy/requirements.txt.
    pins = dict(line.split("==") for line in (ROOT / "policy" / "requirements.txt").read_text().split())
    assert pins == {"pulumi": _locked_version("pulumi"), "pulumi-policy": _locked_version("pulumi-policy")}


def test_the_running_environment_is_the_locked_one() -> None:
    from importlib.metadata import version

    for name in ("protobuf", "grpcio", "pulumi", "pulumi-kubernetes", "PyYAML"):
        assert version(name) == _locked_version(name.lower()), name
