"""Benchmark the offline commands against the cost of merely importing the SDKs (not a test).

    .venv/bin/python scripts/benchmark.py [--repeat N] [--warmup N]

Every measurement is a fresh child process of this one, run with this interpreter from the
project directory:

* ``import floor``: a python process that imports exactly the SDK modules the program uses
  (pulumi; pulumi_kubernetes core.v1, apps.v1, autoscaling.v2, policy.v1, networking.v1 and
  apiextensions; pulumi_random) and exits. Nothing the program does can be cheaper.
* ``render dev``, ``render prod``, ``graph dev``, ``graph prod``: ``python -m archivist_infra``,
  and the same two commands for every ``examples/stacks/*.yaml`` (``--config-file``, the stack
  name being the file stem) if that directory exists.

Each command runs ``--warmup`` times unmeasured (so bytecode compilation is not timed), then
``--repeat`` times measured. The table gives wall time (median and min) and peak RSS (median)
with their ratios to the floor.

How peak RSS is measured: the child is started with ``subprocess.Popen`` and reaped with
``os.wait4(pid)``, which returns the rusage of that one child (and of any descendants it
waited for), whose ``ru_maxrss`` is the child's own peak. That is the simplest correct way:
``getrusage(RUSAGE_CHILDREN)`` deltas are wrong because its ``ru_maxrss`` is the *maximum* over
all reaped children, not a sum, so it never reports a child smaller than an earlier one;
``/usr/bin/time -v`` is not installed everywhere; and a wrapper runner adds a process of its
own. ``ru_maxrss`` is KiB on Linux, bytes on macOS; both are shown as MiB. POSIX only.

The exit status is 0 when every command succeeded, 1 if one failed (its stderr is printed),
because a timing of an error path measures nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

FLOOR_IMPORTS = (
    "import pulumi",
    "import pulumi_kubernetes.core.v1",
    "import pulumi_kubernetes.apps.v1",
    "import pulumi_kubernetes.autoscaling.v2",
    "import pulumi_kubernetes.policy.v1",
    "import pulumi_kubernetes.networking.v1",
    "import pulumi_kubernetes.apiextensions",
    "import pulumi_random",
)
FLOOR_CODE = "; ".join(FLOOR_IMPORTS)


@dataclass(frozen=True)
class Command:
    label: str
    argv: list[str]


@dataclass
class Samples:
    command: Command
    wall_s: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)

    @property
    def wall_median(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def wall_min(self) -> float:
        return min(self.wall_s)

    @property
    def rss_median(self) -> float:
        return statistics.median(self.rss_mib)


class CommandFailedError(Exception):
    def __init__(self, command: Command, code: int, stderr: str) -> None:
        super().__init__(f"{command.label}: exit status {code}")
        self.command = command
        self.code = code
        self.stderr = stderr


def _maxrss_mib(maxrss: int) -> float:
    # Linux reports kilobytes, macOS (darwin) bytes.
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def run_once(command: Command) -> tuple[float, float]:
    """Run the command once; return (wall seconds, peak RSS in MiB) of that child alone."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command.argv, cwd=PROJECT_DIR, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if proc.returncode != 0:
            err.seek(0)
            raise CommandFailedError(command, proc.returncode, err.read().decode(errors="replace"))
    return wall, _maxrss_mib(usage.ru_maxrss)


def commands(python: str) -> list[Command]:
    found = [Command("import floor", [python, "-c", FLOOR_CODE])]
    module = [python, "-m", "archivist_infra"]
    for stack in ("dev", "prod"):
        found.append(Command(f"render {stack}", [*module, "render", stack]))
    for stack in ("dev", "prod"):
        found.append(Command(f"graph {stack}", [*module, "graph", stack]))
    for path in sorted((PROJECT_DIR / "examples" / "stacks").glob("*.yaml")):
        rel = str(path.relative_to(PROJECT_DIR))
        for verb in ("render", "graph"):
            found.append(Command(f"{verb} {path.stem} (examples)",
                                 [*module, verb, path.stem, "--config-file", rel]))
    return found


def measure(command: Command, repeat: int, warmup: int) -> Samples:
    for _ in range(warmup):
        run_once(command)
    samples = Samples(command)
    for _ in range(repeat):
        wall, rss = run_once(command)
        samples.wall_s.append(wall)
        samples.rss_mib.append(rss)
    return samples


def table(results: list[Samples], repeat: int) -> str:
    floor = results[0]
    head = (f"{'command':<28} {'wall median':>11} {'wall min':>9} {'x floor':>8} "
            f"{'peak RSS':>10} {'x floor':>8}")
    lines = [f"{repeat} measured runs each; ratios are medians over the import floor's medians", head,
             "-" * len(head)]
    for s in results:
        lines.append(
            f"{s.command.label:<28} {s.wall_median:>10.3f}s {s.wall_min:>8.3f}s "
            f"{s.wall_median / floor.wall_median:>7.2f}x "
            f"{s.rss_median:>6.1f} MiB {s.rss_median / floor.rss_median:>7.2f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="measured runs per command (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per command first (default 1)")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the children (default: this one)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be >= 1 and --warmup >= 0")

    print(f"python: {args.python} ({sys.version.split()[0]}), platform: {sys.platform}, "
          f"cpus: {os.cpu_count()}", file=sys.stderr)
    results: list[Samples] = []
    try:
        for command in commands(args.python):
            print(f"measuring {command.label} ...", file=sys.stderr)
            results.append(measure(command, args.repeat, args.warmup))
    except CommandFailedError as failure:
        print(f"error: {failure}\n{failure.stderr}", file=sys.stderr)
        return 1
    print(table(results, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
