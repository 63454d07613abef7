"""The pinned application source and the Dockerfiles this project owns.

Offline: source settings are validated by name; every base image is pinned by tag and digest;
each image runs as the uid its pods run as. Against a checkout (env ARCHIVIST_APP_SOURCE, a
local path of the Archivist source at the pinned commit): every path our Dockerfiles COPY
exists in the build context, the Go builder is the version go.mod asks for (go.mod:3,5), and
the CLI's command table matches the source's cobra commands.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from archivist_infra.config.load import load_settings
from archivist_infra.config.problems import ConfigError, Problems
from archivist_infra.config.reader import ConfigReader
from archivist_infra.config.source import (
    DEFAULT_COMMIT,
    DEFAULT_GIT_URL,
    PINNED_COMMANDS,
    commands_in_checkout,
    parse_source,
)
from archivist_infra.images import BUILD_SPECS, dockerfile_text
from archivist_infra.offline.render import manifests
from tests.conftest import VALID_IMAGES, run_config

APPS = tuple(BUILD_SPECS)


# -- Dockerfile reading ------------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for word, rest in instructions(text):
        if word == "FROM":
            out.append([])
        if out:
            out[-1].append((word, rest))
    return out


def base_images(text: str) -> list[str]:
    return [rest.split()[0] for word, rest in instructions(text) if word == "FROM"]


def copied_sources(text: str) -> list[str]:
    """Paths COPY'd from the build context (not from another stage)."""
    paths = []
    for word, rest in instructions(text):
        if word in ("COPY", "ADD") and "--from=" not in rest:
            parts = [p for p in rest.split() if not p.startswith("--")]
            paths.extend(parts[:-1])
    return paths


def final_user(text: str) -> str | None:
    users = [rest for word, rest in stages(text)[-1] if word == "USER"]
    return users[-1] if users else None


# -- offline ---------------------------------------------------------------------------------------

_PINNED_BASE = re.compile(r"^[a-z0-9./-]+:[A-Za-z0-9_.-]+@sha256:[a-f0-9]{64}$")


@pytest.mark.parametrize("app", APPS)
def test_every_base_image_is_pinned_by_tag_and_digest(app: str) -> None:
    bases = base_images(dockerfile_text(app))
    assert bases, app
    for base in bases:
        assert _PINNED_BASE.match(base), f"{app}: {base} is not <image>:<tag>@sha256:<digest>"
        assert ":latest@" not in base


@pytest.mark.parametrize("app", APPS)
def test_no_unpinned_frontend_image(app: str) -> None:
    # A `# syntax=` directive makes BuildKit pull that frontend image: it would have to be pinned too.
    assert not re.search(r"^#\s*syntax=", dockerfile_text(app), re.M | re.I)


@pytest.mark.parametrize("app", APPS)
def test_image_runs_as_the_uid_its_pods_run_as(app: str) -> None:
    user = final_user(dockerfile_text(app))
    assert user is not None and re.fullmatch(r"[0-9]+:[0-9]+", user), f"{app}: USER {user!r} is not numeric uid:gid"
    uid = int(user.split(":")[0])
    assert uid != 0
    objects = manifests(run_config({"images": VALID_IMAGES}))
    workloads = [o for o in objects if o["metadata"]["name"] == f"archivist-{app}"
                 and o["kind"] in ("CronJob", "Deployment", "StatefulSet")]
    assert workloads
    for obj in workloads:
        spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
        assert spec["template"]["spec"]["securityContext"]["runAsUser"] == uid


def test_worker_builder_is_the_go_toolchain_the_pinned_go_mod_names() -> None:
    # go.mod:3 `go 1.24.0`, go.mod:5 `toolchain go1.24.5` at the pinned commit.
    builder = base_images(dockerfile_text("worker"))[0]
    assert builder.startswith("golang:1.24.5-")
    assert "GOTOOLCHAIN=local" in dockerfile_text("worker")  # a mismatch fails the build, no silent download


def test_search_runs_uvicorn_without_the_reloader() -> None:
    text = dockerfile_text("search")
    cmd = [rest for word, rest in stages(text)[-1] if word == "CMD"][-1]
    assert '"uvicorn"' in cmd and '"app.main:app"' in cmd and "reload" not in cmd and "run.py" not in cmd


def test_runtime_stages_carry_no_compilers() -> None:
    for app in APPS:
        final = " ".join(rest for word, rest in stages(dockerfile_text(app))[-1] if word == "RUN")
        assert not re.search(r"\b(gcc|g\+\+|golang)\b", final), app


def parse(raw: dict[str, object], base_dir: Path | None = None) -> tuple[object, list[str]]:
    problems = Problems()
    source = parse_source(ConfigReader({"source": raw}, "archivist", problems), base_dir=base_dir)
    return source, [p.key for p in problems.items]


def test_default_source_is_the_public_repository_at_the_full_pinned_commit() -> None:
    problems = Problems()
    source = parse_source(ConfigReader({}, "archivist", problems))
    assert not problems
    assert source.git_url == DEFAULT_GIT_URL and source.commit == DEFAULT_COMMIT and len(DEFAULT_COMMIT) == 40
    assert source.context("services/graph-service") == f"{DEFAULT_GIT_URL}.git#{DEFAULT_COMMIT}:services/graph-service"


@pytest.mark.parametrize(("raw", "keys"), [
    ({"git": "github.com/shyan23/Archivist", "commit": DEFAULT_COMMIT}, ["archivist:source.git"]),
    ({"git": "ftp://example.com/repo", "commit": DEFAULT_COMMIT}, ["archivist:source.git"]),
    ({"commit": "f27c790"}, ["archivist:source.commit"]),
    ({"commit": DEFAULT_COMMIT.upper()}, ["archivist:source.commit"]),
    ({"git": "https://example.com/me/archivist"}, ["archivist:source.commit"]),
    ({"path": "does/not/exist"}, ["archivist:source.path"]),
    ({"path": ".", "commit": DEFAULT_COMMIT}, ["archivist:source.commit", "archivist:source.path"]),
    ({"branch": "main"}, ["archivist:source.branch"]),
])
def test_bad_source_settings_are_refused_by_name(raw: dict[str, object], keys: list[str], tmp_path: Path) -> None:
    _, found = parse(raw, base_dir=tmp_path)
    assert found == keys


def test_another_commit_or_a_checkout_is_accepted(tmp_path: Path) -> None:
    source, found = parse({"git": "https://example.com/me/archivist.git", "commit": "a" * 40})
    assert not found and source.context(".") == "https://example.com/me/archivist.git#" + "a" * 40
    (tmp_path / "go.mod").write_text("module archivist\n")
    source, found = parse({"path": str(tmp_path)})
    assert not found and source.context("services/search-engine") == str(tmp_path / "services/search-engine")


def test_a_bad_commit_stops_the_whole_stack_by_name() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"source": {"commit": "f27c790"}}, project="archivist", stack="t", secrets_present={"geminiApiKey"})
    assert "archivist:source.commit" in str(err.value)


# -- against a checkout of the pinned source ---------------------------------------------------------

_CHECKOUT = os.environ.get("ARCHIVIST_APP_SOURCE")
needs_checkout = pytest.mark.skipif(
    not _CHECKOUT,
    reason="not run: set ARCHIVIST_APP_SOURCE to a local checkout of the Archivist source at the pinned commit",
)


@needs_checkout
@pytest.mark.parametrize("app", APPS)
def test_dockerfile_build_inputs_exist_in_the_pinned_source(app: str) -> None:
    root = Path(str(_CHECKOUT))
    context = root / BUILD_SPECS[app].context
    assert context.is_dir(), context
    for path in copied_sources(dockerfile_text(app)):
        assert (context / path).exists(), f"{app}: COPY {path} is not in {context}"
    if app != "worker":
        # CMD runs `uvicorn app.main:app`: the module and its `app` object exist.
        assert re.search(r"^app\s*=\s*FastAPI\(", (context / "app" / "main.py").read_text(), re.M)


@needs_checkout
def test_go_builder_matches_go_mod() -> None:
    go_mod = (Path(str(_CHECKOUT)) / "go.mod").read_text()
    toolchain = re.search(r"^toolchain go(\S+)$", go_mod, re.M)
    go = re.search(r"^go (\S+)$", go_mod, re.M)
    builder = base_images(dockerfile_text("worker"))[0]
    builder_version = re.match(r"golang:([0-9.]+)-", builder)
    assert go and builder_version
    wanted = toolchain.group(1) if toolchain else go.group(1)
    assert builder_version.group(1) == wanted

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))
    assert key(builder_version.group(1)) >= key(go.group(1))


@needs_checkout
def test_command_table_is_the_checkouts_cobra_commands() -> None:
    root = Path(str(_CHECKOUT))
    assert commands_in_checkout(root) == PINNED_COMMANDS
    registered = re.search(r"AddCommand\((.*?)\n\t\)", (root / "cmd/main/commands/root.go").read_text(), re.S)
    assert registered and len(re.findall(r"New[A-Za-z]+Command\(\)", registered.group(1))) == len(PINNED_COMMANDS)
