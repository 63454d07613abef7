"""Following an object until it reaches an end state, with a progress bar for a person."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .context import Ops


@dataclass(frozen=True)
class Seen:
    phase: str  # the object's own phase word ("InProgress", "Running", ...)
    done: int | None = None  # items so far, where the object reports them
    total: int | None = None
    last: str = ""  # on Timeout: the phase it was still in


TIMEOUT = "Timeout"


def follow(ops: Ops, label: str, read: Callable[[], Seen], final: set[str], timeout: float,
           sleep: Callable[[float], None] = time.sleep) -> Seen:
    """Polls `read` every `ops.poll_seconds` until its phase is in `final` or `timeout` passes."""
    deadline = time.monotonic() + timeout
    show = not ops.out.json
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=ops.out.console, disable=not show)
    last_phase = ""
    with progress:
        task = progress.add_task(label, total=None)
        while True:
            seen = read()
            if seen.phase != last_phase and show:
                progress.console.print(f"{label}: {seen.phase or 'waiting'}", markup=False)
                last_phase = seen.phase
            progress.update(task, description=f"{label}: {seen.phase or 'waiting'}",
                            completed=seen.done or 0, total=seen.total)
            if seen.phase in final:
                return seen
            if time.monotonic() >= deadline:
                return Seen(TIMEOUT, seen.done, seen.total, last=seen.phase)
            sleep(ops.poll_seconds)
