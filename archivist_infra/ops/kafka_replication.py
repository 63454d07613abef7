"""A kafka-reassign-partitions plan that raises topics' replication after brokers were added.

`kafka-reassign-partitions.sh --generate` moves partitions but keeps each one's replica count, so a
topic created with RF 1 (every topic of a 1-broker stack, `__consumer_offsets` included) stays at one
copy after growing to 3 brokers (audit D8). This reads `kafka-topics.sh --describe` output and writes the
`--reassignment-json-file` document that gives every partition `factor` replicas: the current replicas
stay, in order (so the preferred leader does not move), and each added replica goes to the broker that
holds the fewest replicas so far (lowest id on a tie). Procedure: docs/data-safety-ops.md.

    python -m archivist_infra.ops.kafka_replication describe.txt --brokers 3 --factor 3 > reassign.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

_PARTITION = re.compile(r"Topic:\s*(\S+)\s+Partition:\s*(\d+)\s+.*?Replicas:\s*([\d,]+)")


def parse_describe(text: str) -> dict[tuple[str, int], list[int]]:
    """(topic, partition) -> replicas, from the partition lines of `kafka-topics.sh --describe`."""
    found: dict[tuple[str, int], list[int]] = {}
    for line in text.splitlines():
        m = _PARTITION.search(line)
        if m:
            found[(m.group(1), int(m.group(2)))] = [int(b) for b in m.group(3).split(",") if b]
    return found


def plan(current: dict[tuple[str, int], list[int]], brokers: list[int], factor: int) -> dict[str, Any]:
    if factor > len(brokers):
        raise ValueError(f"replication factor {factor} needs at least {factor} brokers (have {len(brokers)})")
    unknown = sorted({b for replicas in current.values() for b in replicas} - set(brokers))
    if unknown:
        raise ValueError(f"replicas on brokers {unknown} that are not among {brokers}: move them off first")
    load = {b: 0 for b in brokers}
    for replicas in current.values():
        for b in replicas:
            load[b] += 1
    partitions = []
    for (topic, partition), replicas in sorted(current.items()):
        if len(replicas) >= factor:
            continue
        grown = list(replicas)
        while len(grown) < factor:
            target = min((b for b in brokers if b not in grown), key=lambda b: (load[b], b))
            grown.append(target)
            load[target] += 1
        partitions.append({"topic": topic, "partition": partition, "replicas": grown,
                           "log_dirs": ["any"] * len(grown)})
    return {"version": 1, "partitions": partitions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("describe", type=Path, help="output of kafka-topics.sh --describe ('-' for stdin)")
    parser.add_argument("--brokers", type=int, required=True, help="broker count: node ids 0..N-1")
    parser.add_argument("--factor", type=int, default=3, help="replicas per partition (default 3)")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if str(args.describe) == "-" else args.describe.read_text()
    current = parse_describe(text)
    if not current:
        print("error: no partition lines (Topic: ... Partition: ... Replicas: ...) in the input", file=sys.stderr)
        return 2
    try:
        document = plan(current, list(range(args.brokers)), args.factor)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
