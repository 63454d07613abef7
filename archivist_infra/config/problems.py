"""Collects every configuration problem before any resource is registered.

Users fix config in one round trip only if they see all problems at once, so validation
never stops at the first bad value: it records it and carries on with a safe stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, key: str, message: str) -> None:
        self.items.append(Problem(key, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(list(self.items))


class ConfigError(pulumi.RunError):
    """Raised with every problem found; a RunError makes the Pulumi CLI print it without a traceback."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid stack configuration ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}"
        )

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.problems]
