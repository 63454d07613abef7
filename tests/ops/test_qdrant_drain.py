"""`ops qdrant-drain` against a fake Qdrant cluster behind the API server's service proxy.

Answers have Qdrant v1.13.4's shapes (docs/redoc/v1.13.x/openapi.json): `{"result": ..., "status": "ok"}`
around ClusterStatus, CollectionsResponse and CollectionClusterInfo.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from archivist_infra.ops.context import Ops, Out
from archivist_infra.ops.errors import OpsError
from archivist_infra.ops.qdrant import plan_collection, qdrant_drain

from .fake_api import Call, FakeKube

PROXY = "/api/v1/namespaces/ns/services/qdrant:6333/proxy"


def ok(result: Any) -> dict[str, Any]:
    return {"result": result, "status": "ok", "time": 0.001}


class FakeQdrant:
    """Peers 101, 102, 103 are qdrant-0, -1, -2; collection `papers` has 3 shards with 2 copies each."""

    def __init__(self, peers: int = 3, *, moves_happen: bool = True) -> None:
        self.peers = {100 + i + 1: i for i in range(peers)}
        full = {101: {0, 1}, 102: {1, 2}, 103: {0, 2}}
        self.shards = {"papers": {p: set(s) for p, s in full.items() if p in self.peers}}
        self.moves_happen = moves_happen
        self.deleted: list[int] = []

    def install(self, kube: FakeKube) -> FakeKube:
        kube.on("GET", f"{PROXY}/cluster", lambda _c: (200, ok(self.cluster())))
        kube.on("GET", f"{PROXY}/collections", lambda _c: (200, ok({"collections": [{"name": n} for n in self.shards]})))
        for name in self.shards:
            kube.on("GET", f"{PROXY}/collections/{name}/cluster", lambda _c, n=name: (200, ok(self.info(n))))
            kube.on("POST", f"{PROXY}/collections/{name}/cluster", lambda c, n=name: self.move(n, c))
        kube.on("DELETE", f"{PROXY}/cluster/peer/", self.delete, prefix=True)
        return kube

    def cluster(self) -> dict[str, Any]:
        return {"status": "enabled", "peer_id": 101,
                "peers": {str(p): {"uri": f"http://qdrant-{n}.qdrant-headless.ns.svc.cluster.local:6335/"}
                          for p, n in self.peers.items()},
                "raft_info": {}, "consensus_thread_status": {}, "message_send_failures": {}}

    def info(self, name: str) -> dict[str, Any]:
        shards = self.shards[name]
        return {"peer_id": 101, "shard_count": 3, "shard_transfers": [],
                "local_shards": [{"shard_id": s, "points_count": 5, "state": "Active"} for s in sorted(shards.get(101, ()))],
                "remote_shards": [{"shard_id": s, "peer_id": p, "state": "Active"}
                                  for p, ss in shards.items() if p != 101 for s in sorted(ss)]}

    def move(self, name: str, call: Call) -> tuple[int, Any]:
        import json

        body = call.body if isinstance(call.body, dict) else json.loads(call.body)
        m = body["move_shard"]
        if self.moves_happen:
            self.shards[name][m["from_peer_id"]].discard(m["shard_id"])
            self.shards[name].setdefault(m["to_peer_id"], set()).add(m["shard_id"])
        return 200, ok(True)

    def delete(self, call: Call) -> tuple[int, Any]:
        peer = int(call.path.rsplit("/", 1)[1])
        self.deleted.append(peer)
        self.peers.pop(peer, None)  # Qdrant drops a removed peer from /cluster
        return 200, ok(True)


def make(fake: FakeQdrant) -> tuple[FakeKube, Ops, io.StringIO, io.StringIO]:
    kube = fake.install(FakeKube())
    out, err = io.StringIO(), io.StringIO()
    return kube, Ops(api=kube.client(), namespace="ns", out=Out(file=out, err_file=err), poll_seconds=0.0), out, err


def test_plan_only_changes_nothing() -> None:
    fake = FakeQdrant()
    kube, ops, out, _ = make(fake)
    assert qdrant_drain(ops, 2) == 0
    assert not [c for c in kube.calls if c.method != "GET"]
    text = out.getvalue()
    assert "would move papers shard 0: peer 103 (qdrant-2) -> peer 102 (qdrant-1)" in text
    assert "would move papers shard 2: peer 103 (qdrant-2) -> peer 101 (qdrant-0)" in text
    assert "--yes" in text


def test_yes_moves_every_shard_off_the_peer_then_deletes_it() -> None:
    fake = FakeQdrant()
    kube, ops, out, _ = make(fake)
    assert qdrant_drain(ops, 2, yes=True) == 0
    posted = [c.body for c in kube.asked("POST", f"{PROXY}/collections/papers/cluster")]
    assert posted == [{"move_shard": {"shard_id": 0, "from_peer_id": 103, "to_peer_id": 102}},
                      {"move_shard": {"shard_id": 2, "from_peer_id": 103, "to_peer_id": 101}}]
    assert not fake.shards["papers"][103]
    assert fake.deleted == [103]
    assert kube.asked("DELETE", f"{PROXY}/cluster/peer/103")[0].query == {}  # never force=true
    assert "maxReplicas" in out.getvalue() and "retained" in out.getvalue()
    assert "ops scale STACK qdrant --replicas 2 --yes" in out.getvalue()  # the drained peer is the highest


def test_the_target_is_the_least_loaded_peer_without_the_shard() -> None:
    moves = plan_collection("c", {1: {0}, 2: {1, 2}, 3: {0, 1, 3}, 4: set()}, 3, [1, 2, 4])
    assert [(m.shard_id, m.to_peer) for m in moves] == [(0, 4), (1, 1), (3, 4)]


@pytest.mark.parametrize(("peers", "ordinal", "message"), [
    (3, 0, "bootstrap peer"),
    (3, 7, "no Qdrant peer is pod qdrant-7"),
    (2, 1, "only 1 other peer"),
    (3, 1, "not the highest peer"),  # audit D3: a middle peer would come back empty while its neighbours go
])
def test_refusals_change_nothing(peers: int, ordinal: int, message: str) -> None:
    kube, ops, _, _ = make(FakeQdrant(peers))
    with pytest.raises(OpsError, match=message):
        qdrant_drain(ops, ordinal, yes=True)
    assert not [c for c in kube.calls if c.method != "GET"]


def test_a_middle_peer_is_refused_with_the_command_for_the_highest() -> None:
    _kube, ops, _, _ = make(FakeQdrant(3))
    ops.stack = "prod"
    with pytest.raises(OpsError) as err:
        qdrant_drain(ops, 1, yes=True)
    assert "`python -m archivist_infra ops qdrant-drain prod --peer 2 --yes`" in str(err.value)


def test_peer_0_is_refused_before_qdrant_is_asked() -> None:
    kube, ops, _, _ = make(FakeQdrant(3))
    with pytest.raises(OpsError, match="bootstrap peer"):
        qdrant_drain(ops, 0)
    assert kube.calls == []


def test_timeout_exits_1_and_keeps_the_peer() -> None:
    fake = FakeQdrant(moves_happen=False)
    _, ops, out, err = make(fake)
    ticks = iter(range(0, 1000, 10))
    assert qdrant_drain(ops, 2, yes=True, timeout=30, clock=lambda: float(next(ticks))) == 1
    assert fake.deleted == []
    assert "timed out after 30 s" in out.getvalue() + err.getvalue()


def test_a_qdrant_error_is_one_line() -> None:
    fake = FakeQdrant()
    kube, ops, _, _ = make(fake)
    kube.on("DELETE", f"{PROXY}/cluster/peer/103", {"status": {"error": "Peer 103 has shards"}, "time": 0}, status=400)
    with pytest.raises(OpsError, match="Qdrant answered DELETE /cluster/peer/103 with 400: Peer 103 has shards"):
        qdrant_drain(ops, 2, yes=True)


def test_cli_parses_the_verb() -> None:
    import argparse

    from archivist_infra.ops.cli import add_ops_parser

    parser = argparse.ArgumentParser()
    add_ops_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ops", "qdrant-drain", "dev", "--peer", "2", "--yes", "--timeout", "60"])
    assert (args.verb, args.stack, args.peer, args.yes, args.timeout) == ("qdrant-drain", "dev", 2, True, 60.0)
