"""Renders and graphs are byte-identical across processes: GitOps users diff them.

A test inside one process cannot see run-to-run variation (map order from protobuf Structs, hash
seeds, registration order), so these run the real command in fresh interpreters, concurrently,
each with its own PYTHONHASHSEED, in the environment the README installs (this venv).
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from archivist_infra.offline.render import canonical, canonical_object

ROOT = Path(__file__).resolve().parent.parent


def _outputs(args: list[str], runs: int) -> list[bytes]:
    procs = []
    for seed in range(runs):
        env = {**os.environ, "PYTHONHASHSEED": str(seed + 1)}
        procs.append(subprocess.Popen([sys.executable, "-m", "archivist_infra", *args], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        outs.append(out)
    return outs


@pytest.mark.parametrize("args", [["render", "dev"], ["graph", "prod"]], ids=" ".join)
def test_output_is_identical_across_fresh_processes(args: list[str]) -> None:
    outs = _outputs(args, 3 if args[0] == "render" else 2)
    digests = {hashlib.sha256(o).hexdigest() for o in outs}
    assert len(outs[0]) > 1000
    assert len(digests) == 1, f"{' '.join(args)} gave {len(digests)} different outputs"


def test_canonical_order_does_not_depend_on_the_order_maps_arrive_in() -> None:
    obj = {"kind": "ConfigMap", "apiVersion": "v1", "data": {f"k{i}": str(i) for i in range(30)},
           "metadata": {"name": "x", "labels": {"b": "1", "a": "2"}}}
    shuffled = dict(random.Random(7).sample(list(obj.items()), len(obj)))
    shuffled["data"] = dict(random.Random(8).sample(list(obj["data"].items()), 30))
    assert list(canonical_object(shuffled)) == ["apiVersion", "kind", "metadata", "data"]
    assert canonical_object(shuffled) == canonical_object(obj)
    assert list(canonical_object(shuffled)["data"]) == sorted(obj["data"])
    # Lists keep the program's order (env, containers and rules carry meaning in theirs).
    assert canonical({"l": [3, 1, 2]}) == {"l": [3, 1, 2]}
