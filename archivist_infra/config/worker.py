"""How the worker runs: `archivist:worker.mode` and the keys of each mode.

The pinned CLI has no long-running mode (no server, no queue consumer: audit #1, #2); what it
supports is a batch: `process --mode fast --interactive=false <dir>` over the inbox. So the
default is `batch` (a CronJob and on-demand Jobs). `service` keeps the guide's Deployment and
autoscaler for an image whose CLI has a long-running command, and is refused when the
configured command is not one of the pinned source's commands.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from .reader import ConfigReader
from .source import SourceSettings

WorkerMode = Literal["batch", "service"]
WORKER_MODES: tuple[WorkerMode, ...] = ("batch", "service")

# Five cron fields, each of digits, '*', ',', '-', '/' (or a named month/day); or a @macro.
_CRON = re.compile(r"^(@(hourly|daily|weekly|monthly|yearly|annually|midnight)|(\S+\s+){4}\S+)$")
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/?-]+$")
# Conservative CPU figure for local clusters whose node the stack cannot see (laptops often
# give kind/minikube 2 CPUs), unless `worker.maxWorkers` says otherwise.
LOCAL_CPU_FLOOR = 2


@dataclass(frozen=True)
class WorkerRunSettings:
    mode: WorkerMode = "batch"
    schedule: str = "*/30 * * * *"  # batch: when the CronJob processes what is new in the inbox
    suspend: bool = False  # batch: keep the CronJob but run only on demand
    deadline_seconds: int = 7200  # batch: activeDeadlineSeconds of every run
    command: tuple[str, ...] = ("worker",)  # service: the CLI command (the guide's; absent at the pin)
    max_workers: int | None = None  # processing.max_workers; None: derived from CPUs
    node_cpus: int = 1  # CPUs the worker process can count on seeing (runtime.NumCPU) on the smallest node


def parse_worker_run(reader: ConfigReader, source: SourceSettings, *, node_cpu: Decimal, platform: str) -> WorkerRunSettings:
    """Reads the run keys of `archivist:worker` (the rest of the section is the app's, read elsewhere)."""
    mode = reader.choice("mode", "batch", WORKER_MODES)
    defaults = WorkerRunSettings()
    schedule = reader.string("schedule", defaults.schedule)
    if not _valid_cron(schedule):
        reader.problems.add(reader.key("schedule"),
                            f"{schedule!r} is not a cron schedule; write five fields like '*/30 * * * *' or '@hourly'")
    suspend = reader.boolean("suspend", False)
    deadline = reader.integer("deadlineSeconds", defaults.deadline_seconds, minimum=60, maximum=7 * 24 * 3600)

    command: tuple[str, ...] = defaults.command
    if reader.has("command"):
        command = tuple(reader.string_list("command"))
        if mode != "service":
            reader.problems.add(reader.key("command"), "applies to mode 'service' only; mode 'batch' runs the CLI's "
                                "`process` command (cmd/main/commands/process.go:31)")
    if mode == "service":
        _check_command(reader, source, command)

    # runtime.NumCPU() counts the node's CPUs, not the container's limit (internal/app/config.go:249).
    seen = max(1, math.floor(node_cpu))
    node_cpus = min(seen, LOCAL_CPU_FLOOR) if platform == "local" else seen
    max_workers: int | None = None
    if reader.has("maxWorkers"):
        max_workers = reader.integer("maxWorkers", 1, minimum=1, maximum=256)
        if max_workers > seen:
            reader.problems.add(
                reader.key("maxWorkers"),
                f"{max_workers} is above the {seen} CPUs of the smallest node this stack allows; the worker's "
                f"validateConfig refuses max_workers above runtime.NumCPU() (internal/app/config.go:249-252)",
            )
    return WorkerRunSettings(mode=mode, schedule=schedule, suspend=suspend, deadline_seconds=deadline,
                             command=command, max_workers=max_workers, node_cpus=node_cpus)


def _valid_cron(text: str) -> bool:
    if not _CRON.match(text.strip()):
        return False
    return text.startswith("@") or all(_CRON_FIELD.match(f) for f in text.split())


def _check_command(reader: ConfigReader, source: SourceSettings, command: tuple[str, ...]) -> None:
    if not command:
        reader.problems.add(reader.key("command"), "mode 'service' needs the CLI command that runs the long-lived worker")
        return
    known = source.commands()
    if known is None:
        return  # another git commit: its commands are not known offline (docs/known-gaps.md)
    if command[0] not in known:
        listing = ", ".join(sorted(known))
        reader.problems.add(
            reader.key("command" if reader.has("command") else "mode"),
            f"mode 'service' runs `{command[0]}`, which is not a command of the Archivist CLI at {source.describe()} "
            f"(its commands, cmd/main/commands/root.go:30-47: {listing}); that CLI has no long-running worker, so use "
            "mode 'batch', or pin a source whose CLI has one and name it in worker.command",
        )


def max_workers(run: WorkerRunSettings, cpu_limit: Decimal) -> int:
    """processing.max_workers: the configured figure, else the worker's CPU limit (rounded up),
    never above the CPUs the process sees on the smallest node (validateConfig, config.go:249)."""
    if run.max_workers is not None:
        return run.max_workers
    return max(1, min(run.node_cpus, math.ceil(cpu_limit)))
