"""Every stack file, rendered by the real program, is accepted whole by a real API server.

One test per stack file (discovered, not listed): the full render (cluster-scoped objects too)
goes through server-side apply into a fresh namespace, and the controllers must be able to
make every pod under the namespace's Pod Security `restricted` enforcement and its quota.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .kube import Cluster
from .stacks import (
    WORKLOAD_KINDS,
    deployed,
    fresh_namespace,
    hpa_conditions,
    missing_objects,
    read_stack_file,
    stack_files,
    stack_id,
    trigger_cron_jobs,
    wait_for_pods,
    with_config,
    without_namespace,
)

STACKS = stack_files()


def test_every_stack_file_is_covered() -> None:
    ids = {stack_id(p) for p in STACKS}
    assert {"dev", "prod"} <= ids
    assert any(i.startswith("examples/") for i in ids)


@pytest.mark.parametrize("path", STACKS, ids=[stack_id(p) for p in STACKS])
def test_stack_is_accepted_whole_and_every_workload_gets_pods(cluster: Cluster, path: Path) -> None:
    config = with_config(read_stack_file(path), namespace=fresh_namespace(path.stem[:20].lower().replace(".", "-")))
    with deployed(cluster, config) as d:
        assert not without_namespace(cluster, d.rendered.objects)
        assert not d.errors, "the server refused objects:\n" + "\n".join(d.errors)
        assert not d.warnings, "the server warned:\n" + "\n".join(d.warnings)

        # The stack's own namespace carries Pod Security `restricted` in enforce mode, so the
        # pods below are admitted under it (a violation shows as FailedCreate).
        ns = cluster.get("namespace", d.namespace)
        assert ns["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted"

        assert not missing_objects(cluster, d.rendered.objects)

        workloads = d.rendered.of_kind(*WORKLOAD_KINDS)
        assert workloads, "a stack with no workloads proves nothing"
        trigger_cron_jobs(cluster, d.rendered)
        counts = wait_for_pods(cluster, d.rendered)
        assert all(counts.values()), counts

        # Each autoscaler resolves its target's scale subresource (a wrong scaleTargetRef shows
        # as AbleToScale=False with FailedGetScale).
        conditions = hpa_conditions(cluster, d.namespace)
        for hpa in d.rendered.of_kind("HorizontalPodAutoscaler"):
            able = conditions[hpa["metadata"]["name"]].get("AbleToScale", {})
            assert able.get("status") == "True", f"HPA {hpa['metadata']['name']}: {able}"
