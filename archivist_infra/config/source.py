"""`archivist:source`: the one Archivist application source this stack deploys.

Either a git repository at a full commit id (default: the public repository at the commit
this deployment was checked against), or a local checkout. Images are built from it with
this project's own Dockerfiles (`images/*.Dockerfile`), so what runs is exactly what is pinned.

The pinned commit's CLI is known here as data (`PINNED_COMMANDS`, with file:line), so a
worker command the CLI does not have is refused before anything deploys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .reader import ConfigReader

DEFAULT_GIT_URL = "https://github.com/shyan23/Archivist--Research-Paper-Tool"
# f27c790: `git rev-parse f27c790` in a clone of DEFAULT_GIT_URL.
DEFAULT_COMMIT = "f27c790460e5c81961bdce22635ba47273414e12"

# The top-level cobra commands of the CLI at DEFAULT_COMMIT: registered in
# cmd/main/commands/root.go:30-47, each defined at the file:line below (its `Use:` line).
PINNED_COMMANDS: dict[str, str] = {
    "setup": "cmd/main/commands/setup.go:20",
    "process": "cmd/main/commands/process.go:31",
    "list": "cmd/main/commands/list.go:19",
    "status": "cmd/main/commands/other.go:20",
    "clean": "cmd/main/commands/other.go:82",
    "check": "cmd/main/commands/other.go:118",
    "run": "cmd/main/commands/other.go:163",
    "models": "cmd/main/commands/models.go:17",
    "cache": "cmd/main/commands/cache.go:20",
    "configure": "cmd/main/commands/other.go:180",
    "chat": "cmd/main/commands/chat.go:27",
    "index": "cmd/main/commands/index.go:20",
    "search": "cmd/main/commands/search.go:27",
    "similar": "cmd/main/commands/similar.go:26",
    "citations": "cmd/main/commands/citations.go:25",
    "graph": "cmd/main/commands/graph.go:25",
}

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# https://host/owner/repo[.git] or ssh://git@host/owner/repo[.git]: forms BuildKit can clone.
_GIT_URL = re.compile(r"^(https|ssh)://([A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~-]+)+/?$")
_COMMAND_USE = re.compile(r'^\s*Use:\s*"([a-z][a-z0-9-]*)')
_TOP_LEVEL_START = re.compile(r"^(func New[A-Za-z]*Command\(|var [A-Za-z]+ = &cobra\.Command\{)")


@dataclass(frozen=True)
class SourceSettings:
    git_url: str | None = DEFAULT_GIT_URL
    commit: str | None = DEFAULT_COMMIT
    path: Path | None = None  # a local checkout instead of git (absolute)

    @property
    def is_default(self) -> bool:
        return self.path is None and self.git_url == DEFAULT_GIT_URL and self.commit == DEFAULT_COMMIT

    def context(self, subdir: str) -> str:
        """A BuildKit build context for `subdir` of the source ('.' is the root).

        Git: `<url>.git#<commit>:<subdir>` (BuildKit clones that commit and uses the subdirectory).
        """
        if self.path is not None:
            return str(self.path if subdir in ("", ".") else self.path / subdir)
        assert self.git_url is not None and self.commit is not None
        url = self.git_url.rstrip("/")
        if not url.endswith(".git"):
            url += ".git"  # BuildKit recognises a git context by the suffix
        return f"{url}#{self.commit}" + ("" if subdir in ("", ".") else f":{subdir}")

    def default_tag(self) -> str:
        """An image tag that names the source: the commit's first 12 hex digits, or 'local'."""
        return self.commit[:12] if self.commit else "local"

    def commands(self) -> dict[str, str] | None:
        """The CLI's top-level commands (name -> file:line), when known; None when they cannot be.

        Known for the default commit (data above) and for a local checkout (read from its files);
        another git commit would need a clone, so it is not checked here.
        """
        if self.path is not None:
            return commands_in_checkout(self.path)
        if self.commit == DEFAULT_COMMIT:
            return dict(PINNED_COMMANDS)
        return None

    def describe(self) -> str:
        return str(self.path) if self.path is not None else f"{self.git_url}@{self.commit}"


def commands_in_checkout(root: Path) -> dict[str, str]:
    """Top-level commands of a checkout (name -> file:line): the first `Use:` inside each
    `func New<X>Command(` and each package-level `var <x>Cmd = &cobra.Command{` of
    cmd/main/commands/*.go; subcommands come later in those bodies or from lower-case `new...` funcs."""
    found: dict[str, str] = {}
    for file in sorted((root / "cmd" / "main" / "commands").glob("*.go")):
        open_block = False
        for number, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if line.startswith("func ") or line.startswith("var "):
                open_block = bool(_TOP_LEVEL_START.match(line))
                continue
            match = _COMMAND_USE.match(line)
            if match and open_block:
                open_block = False
                if match.group(1) != "rph":  # the root command itself
                    found.setdefault(match.group(1), f"cmd/main/commands/{file.name}:{number}")
    return found


def parse_source(root: ConfigReader, *, base_dir: Path | None = None) -> SourceSettings:
    """`archivist:source`: `{git, commit}` or `{path}`; absent means the default pinned commit."""
    if not root.has("source"):
        root.raw("source")
        return SourceSettings()
    section = root.section("source")
    base = base_dir or Path.cwd()
    if section.has("path"):
        for other in ("git", "commit"):
            if section.has(other):
                section.raw(other)
                section.problems.add(section.key(other), f"give either {section.key('path')} or git and commit, not both")
        text = section.string("path", "")
        path = (base / text).resolve()
        section.reject_unknown()
        if not text:
            section.problems.add(section.key("path"), "is empty: give the directory of an Archivist checkout")
        elif not path.is_dir():
            section.problems.add(section.key("path"), f"{str(path)!r} does not exist or is not a directory; "
                                 f"clone {DEFAULT_GIT_URL} there and check out the commit to deploy")
        elif not (path / "go.mod").is_file():
            section.problems.add(section.key("path"), f"{str(path)!r} is not an Archivist checkout (no go.mod)")
        return SourceSettings(git_url=None, commit=None, path=path)

    url = section.string("git", DEFAULT_GIT_URL)
    if not _GIT_URL.match(url):
        section.problems.add(section.key("git"), f"{url!r} is not a git repository URL; write it like {DEFAULT_GIT_URL!r}")
    if section.has("git") and not section.has("commit"):
        section.raw("commit")
        section.problems.add(section.key("commit"), "is required with a git URL: the full 40-hex commit id to deploy")
        commit = ""
    else:
        commit = section.string("commit", DEFAULT_COMMIT)
        if not _COMMIT.match(commit):
            section.problems.add(
                section.key("commit"),
                f"{commit!r} is not a full commit id; give all 40 lower-case hex digits (`git rev-parse {commit or 'HEAD'}`)",
            )
    section.reject_unknown()
    return SourceSettings(git_url=url, commit=commit or None)
