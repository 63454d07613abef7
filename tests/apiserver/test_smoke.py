"""The suite's own footing: the server answers, enforces Pod Security, and reports refusals."""

from __future__ import annotations

from .kube import Cluster


def test_server_refuses_a_privileged_pod_in_a_restricted_namespace(cluster: Cluster) -> None:
    ns = cluster.create_namespace("smoke")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns},
           "spec": {"containers": [{"name": "c", "image": "busybox:1.37", "securityContext": {"privileged": True}}]}}
    result = cluster.apply([pod])
    assert not result.ok
    assert "violates PodSecurity" in result.stderr
