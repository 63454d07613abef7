"""A typed view over one section of raw stack config that records problems instead of raising.

Every getter returns a usable value even when the input is wrong (the default), so the
loader can keep going and report every problem in one error. Keys are reported in the
form users type them: `archivist:neo4j.storage.size`.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .problems import Problems
from .quantity import parse_quantity

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Read:
    """One getter call: the key as users type it, the getter, and the arguments it was given
    (default, choices, minimum, maximum, pattern, hint, ...)."""

    key: str
    getter: str
    facts: tuple[tuple[str, Any], ...]


@dataclass
class ReadLog:
    """What one load of the config read (config/reference.py turns many of these into the reference)."""

    reads: list[Read] = field(default_factory=list)
    probes: list[str] = field(default_factory=list)  # keys asked about with `has` (read only when present)


# Set only while config/reference.py loads a stack to learn which keys the program reads; None otherwise.
READ_LOG: ContextVar[ReadLog | None] = ContextVar("archivist_config_read_log", default=None)


def _recorded(getter: F) -> F:
    """Record the outermost getter call on a reader (a getter built on another records once, as itself)."""
    signature = inspect.signature(getter)

    @functools.wraps(getter)
    def wrapper(self: ConfigReader, name: str, *args: Any, **kwargs: Any) -> Any:
        log = READ_LOG.get()
        if log is None or self._inside:
            return getter(self, name, *args, **kwargs)
        bound = signature.bind(self, name, *args, **kwargs)
        bound.apply_defaults()
        facts = tuple((k, v) for k, v in bound.arguments.items() if k not in ("self", "name"))
        log.reads.append(Read(self.key(name), getter.__name__, facts))
        self._inside = True
        try:
            return getter(self, name, *args, **kwargs)
        finally:
            self._inside = False

    return wrapper  # type: ignore[return-value]

# YAML's printable set: server-side apply bodies are decoded as YAML, and the server refuses any
# other character ("yaml: control characters are not allowed"), wherever it sits in an object.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class ConfigReader:
    def __init__(self, raw: Mapping[str, Any] | None, path: str, problems: Problems) -> None:
        self._raw: Mapping[str, Any] = raw or {}
        self.path = path
        self.problems = problems
        self._read: set[str] = set()
        self._inside = False  # inside a getter: READ_LOG records the outermost call only

    # -- navigation -------------------------------------------------------------------

    def key(self, name: str) -> str:
        # The root reader's path is the config namespace ("archivist"); below it, dotted paths.
        return f"{self.path}:{name}" if ":" not in self.path else f"{self.path}.{name}"

    def has(self, name: str) -> bool:
        log = READ_LOG.get()
        if log is not None and not self._inside:
            log.probes.append(self.key(name))
        return self._raw.get(name) is not None

    @_recorded
    def raw(self, name: str) -> Any:
        self._read.add(name)
        return self._raw.get(name)

    @_recorded
    def section(self, name: str) -> ConfigReader:
        value = self.raw(name)
        if value is not None and not isinstance(value, Mapping):
            self.problems.add(self.key(name), f"must be an object (a YAML mapping), got {_show(value)}")
            value = None
        return ConfigReader(value, self.key(name), self.problems)

    def reject_unknown(self, allowed: Iterable[str] | None = None) -> None:
        """Report keys nobody read: almost always a typo that would otherwise be silently ignored."""
        known = set(allowed) if allowed is not None else self._read
        for name in self._raw:
            if name not in known:
                hint = _closest(name, known)
                fix = f" (did you mean '{hint}'?)" if hint else f"; known keys: {', '.join(sorted(known)) or 'none'}"
                self.problems.add(self.key(name), f"unknown key{fix}")

    # -- scalars ----------------------------------------------------------------------

    @_recorded
    def string(self, name: str, default: str, *, pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.problems.add(self.key(name), f"must be a non-empty string, got {_show(value)}")
            return default
        if not self._printable(name, value):
            return default
        if pattern is not None and not pattern.match(value):
            self.problems.add(self.key(name), f"{_show(value)} is not valid{'; ' + hint if hint else ''}")
            return default
        return value

    @_recorded
    def optional_string(self, name: str) -> str | None:
        if self.raw(name) is None:
            return None
        return self.string(name, "") or None

    @_recorded
    def choice(self, name: str, default: T, choices: Sequence[T]) -> T:
        value = self.raw(name)
        if value is None:
            return default
        if value not in choices:
            self.problems.add(
                self.key(name), f"{_show(value)} is not one of {', '.join(repr(c) for c in choices)}"
            )
            return default
        return value

    @_recorded
    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.problems.add(self.key(name), f"must be true or false, got {_show(value)}")
        return default

    @_recorded
    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self.raw(name)
        if value is None:
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (isinstance(value, float) and value.is_integer()) or (isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip())):
            number = int(value)
        if number is None:
            self.problems.add(self.key(name), f"must be a whole number, got {_show(value)}")
            return default
        if minimum is not None and number < minimum:
            self.problems.add(self.key(name), f"must be at least {minimum}, got {number}")
            return default
        if maximum is not None and number > maximum:
            self.problems.add(self.key(name), f"must be at most {maximum}, got {number}")
            return default
        return number

    @_recorded
    def quantity(self, name: str, default: str, *, what: str = "size", example: str = "10Gi") -> str:
        """A Kubernetes quantity such as `512Mi`, `2Gi` or `250m`, kept in the user's spelling."""
        value = self.raw(name)
        if value is None:
            return default
        parsed = parse_quantity(value)
        if parsed is None or parsed <= 0:
            self.problems.add(
                self.key(name),
                f"{_show(value)} is not a positive Kubernetes {what} quantity; write it like '{example}'",
            )
            return default
        if what in ("memory", "storage") and parsed != parsed.to_integral_value():
            # The API server warns "fractional byte value ... is invalid, must be an integer".
            self.problems.add(
                self.key(name), f"{_show(value)} is not a whole number of bytes; write it like '{example}'"
            )
            return default
        return str(value)

    @_recorded
    def dns_label(self, name: str, default: str) -> str:
        value = self.string(name, default)
        if len(value) > 63 or not _DNS_LABEL.match(value):
            self.problems.add(
                self.key(name),
                f"{_show(value)} is not a valid Kubernetes name (lower-case letters, digits and '-', at most 63)",
            )
            return default
        return value

    @_recorded
    def hostname(self, name: str) -> str | None:
        value = self.optional_string(name)
        if value is None:
            return None
        if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
            self.problems.add(self.key(name), f"{_show(value)} is not a valid DNS host name such as 'archivist.example.com'")
            return None
        return value

    @_recorded
    def string_list(self, name: str) -> list[str]:
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problems.add(self.key(name), f"must be a list of strings, got {_show(value)}")
            return []
        if not all(self._printable(f"{name}[{i}]", v) for i, v in enumerate(value)):
            return []
        return list(value)

    @_recorded
    def mapping_of_strings(self, name: str) -> dict[str, str]:
        value = self.raw(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(isinstance(v, str | int | float | bool) for v in value.values()):
            self.problems.add(self.key(name), f"must be a mapping of names to strings, got {_show(value)}")
            return {}
        out = {str(k): str(v) for k, v in value.items()}
        if not all([self._printable(f"{name}.{k}", k) and self._printable(f"{name}.{k}", v) for k, v in out.items()]):
            return {}
        return out

    def _printable(self, name: str, value: str) -> bool:
        bad = _UNPRINTABLE.search(value)
        if bad:
            self.problems.add(self.key(name), f"contains the control character {bad.group()!r}, which the API server "
                                              "refuses; remove it")
        return bad is None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _closest(name: str, known: Iterable[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None
