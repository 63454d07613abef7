"""`ops qdrant-drain`: move every shard off one Qdrant peer, then remove it from the cluster.

Talks to Qdrant's REST API through the API server's service proxy
(`/api/v1/namespaces/{ns}/services/qdrant:6333/proxy/<path>`), so no port-forward is needed.
Shapes are Qdrant v1.13.4's (docs/redoc/v1.13.x/openapi.json at tag v1.13.4); every answer is
wrapped as `{"result": ..., "status": "ok", "time": ...}`:
- `GET /cluster` (cluster_status): ClusterStatus `{"status": "enabled", "peer_id", "peers": {id: PeerInfo{uri}}}`
- `GET /collections` (get_collections): CollectionsResponse `{"collections": [{"name"}]}`
- `GET /collections/{name}/cluster` (collection_cluster_info): CollectionClusterInfo `{"peer_id",
  "local_shards": [LocalShardInfo{shard_id}], "remote_shards": [RemoteShardInfo{shard_id, peer_id}]}`
  (local shards belong to the answering peer, `peer_id`)
- `POST /collections/{name}/cluster` (update_collection_cluster): MoveShardOperation
  `{"move_shard": {"shard_id", "from_peer_id", "to_peer_id"}}`
- `DELETE /cluster/peer/{peer_id}` (remove_peer): refused while the peer holds shards unless
  `?force=true` (never sent here).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import Ops
from .errors import OpsError, api_message

SERVICE = "qdrant:6333"
POD_URI = re.compile(r"^https?://qdrant-(\d+)\.qdrant-headless[.:/]")


def _request(ops: Ops, method: str, path: str, body: Any = None) -> Any:
    """One Qdrant REST call through the service proxy; returns the `result` of its answer."""
    from kubernetes.client.exceptions import ApiException

    resource = f"/api/v1/namespaces/{ops.namespace}/services/{SERVICE}/proxy/{path.lstrip('/')}"
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    api = ops.api
    # kubernetes client >= 35 (OpenAPI generator 7): serialize, send, read, then raise ApiException on non-2xx.
    verb, url, headers, payload, post = api.param_serialize(method=method, resource_path=resource,
                                                            header_params=headers, body=body,
                                                            auth_settings=["BearerToken"])
    response = api.call_api(verb, url, header_params=headers, body=payload, post_params=post, _request_timeout=30)
    response.read()
    try:
        data = api.response_deserialize(response, {"2XX": "bytearray"}).data
    except ApiException as err:
        raise OpsError(f"Qdrant answered {method} /{path.lstrip('/')} with {_qdrant_error(err)}") from None
    try:
        answer = json.loads(data.decode() if isinstance(data, bytes) else data)
    except ValueError:
        raise OpsError(f"Qdrant answered {method} /{path.lstrip('/')} with something not JSON: {str(data)[:200]}") from None
    if isinstance(answer, dict) and "result" in answer:
        return answer["result"]
    return answer


def _qdrant_error(err: Any) -> str:
    """Qdrant's own error (`{"status": {"error": ...}}`), else the API server's Status message."""
    try:
        detail = json.loads(err.body)["status"]["error"]
    except (ValueError, KeyError, TypeError):
        return api_message(err)
    return f"{err.status}: {detail}"


@dataclass(frozen=True)
class Move:
    collection: str
    shard_id: int
    from_peer: int
    to_peer: int


def _ordinal(uri: str) -> int | None:
    m = POD_URI.match(uri)
    return int(m.group(1)) if m else None


def peer_ordinals(cluster: dict[str, Any]) -> dict[int, int | None]:
    """Every Raft peer id of the cluster with the ordinal of its pod (None: an address not of this StatefulSet)."""
    return {int(pid): _ordinal(str(info.get("uri", ""))) for pid, info in (cluster.get("peers") or {}).items()}


def drain_command(stack: str, ordinal: int) -> str:
    return f"python -m archivist_infra ops qdrant-drain {stack} --peer {ordinal} --yes"


def find_peer(cluster: dict[str, Any], ordinal: int, stack: str = "STACK") -> tuple[int, dict[int, int | None]]:
    """The peer id of pod qdrant-<ordinal>, and every peer id with its pod ordinal.

    Only the highest ordinal may be drained: a StatefulSet always stops its highest ordinals first, so a
    drained peer in the middle would be replaced by a new, empty pod at the same ordinal while the
    scale-down removes shard holders above it (audit D3).
    """
    if ordinal == 0:
        raise OpsError("qdrant-0 is the bootstrap peer (every other peer joins through it): it is not drained")
    if cluster.get("status") != "enabled":
        raise OpsError("Qdrant runs without distributed mode here (GET /cluster: status disabled): nothing to drain")
    peers = peer_ordinals(cluster)
    matches = [pid for pid, n in peers.items() if n == ordinal]
    if not matches:
        known = ", ".join(f"qdrant-{n}" for n in sorted(n for n in peers.values() if n is not None)) or "none"
        raise OpsError(f"no Qdrant peer is pod qdrant-{ordinal} (peers: {known})")
    highest = max(n for n in peers.values() if n is not None)
    if ordinal != highest:
        raise OpsError(f"qdrant-{ordinal} is not the highest peer (qdrant-{highest} is): a StatefulSet stops its "
                       f"highest ordinals first, so drain from the top: `{drain_command(stack, highest)}`")
    if len(peers) - 1 < 2:
        raise OpsError(f"only {len(peers) - 1} other peer(s) would remain: distributed Qdrant keeps 2 copies of "
                       "every collection and needs at least 2 peers")
    return matches[0], peers


def shard_map(info: dict[str, Any]) -> dict[int, set[int]]:
    """peer id -> shard ids of one collection, from its CollectionClusterInfo."""
    out: dict[int, set[int]] = {}
    me = int(info["peer_id"])
    for s in info.get("local_shards") or []:
        out.setdefault(me, set()).add(int(s["shard_id"]))
    for s in info.get("remote_shards") or []:
        out.setdefault(int(s["peer_id"]), set()).add(int(s["shard_id"]))
    return out


def plan_collection(name: str, shards: dict[int, set[int]], peer: int, others: list[int]) -> list[Move]:
    """For each shard on `peer`: the other peer with the fewest shards of the collection not already holding it."""
    counts = {p: len(shards.get(p, set())) for p in others}
    held = {p: set(shards.get(p, set())) for p in others}
    moves = []
    for shard in sorted(shards.get(peer, set())):
        candidates = [p for p in others if shard not in held[p]]
        if not candidates:
            raise OpsError(f"collection {name}: every other peer already holds shard {shard}; drop the replica on the "
                           "peer instead (POST /collections/{name}/cluster drop_replica)")
        target = min(candidates, key=lambda p: (counts[p], p))
        counts[target] += 1
        held[target].add(shard)
        moves.append(Move(name, shard, peer, target))
    return moves


def _collections(ops: Ops) -> list[str]:
    return sorted(c["name"] for c in (_request(ops, "GET", "/collections").get("collections") or []))


def _shards(ops: Ops, collection: str) -> dict[int, set[int]]:
    return shard_map(_request(ops, "GET", f"/collections/{collection}/cluster"))


def _wait(ops: Ops, collection: str, peer: int, timeout: float, clock: Callable[[], float]) -> bool:
    deadline = clock() + timeout
    last = None
    while True:
        left = sorted(_shards(ops, collection).get(peer, set()))
        if not left:
            return True
        if left != last:
            ops.out.say(f"  {collection}: shards {', '.join(map(str, left))} still on peer {peer}")
            last = left
        if clock() >= deadline:
            return False
        time.sleep(ops.poll_seconds)


def qdrant_drain(ops: Ops, peer_ordinal: int, *, yes: bool = False, timeout: float = 1800,
                 clock: Callable[[], float] = time.monotonic) -> int:
    if peer_ordinal == 0:  # before asking Qdrant anything
        find_peer({}, 0)
    peer, peers = find_peer(_request(ops, "GET", "/cluster"), peer_ordinal, ops.stack)
    others = sorted(p for p in peers if p != peer)
    plan: dict[str, list[Move]] = {}
    for name in _collections(ops):
        plan[name] = plan_collection(name, _shards(ops, name), peer, others)
    moves = [m for ms in plan.values() for m in ms]
    pod = f"qdrant-{peer_ordinal}"
    for m in moves:
        ops.out.say(f"{'move' if yes else 'would move'} {m.collection} shard {m.shard_id}: peer {m.from_peer} ({pod}) "
                    f"-> peer {m.to_peer} (qdrant-{peers[m.to_peer]})")
    if not yes:
        ops.out.say(f"plan: {len(moves)} shard(s) off peer {peer} ({pod}), then DELETE /cluster/peer/{peer}. "
                    "Nothing changed; run again with --yes to do it.")
        if ops.out.json:
            ops.out.emit({"peer": peer, "pod": pod, "moves": [m.__dict__ for m in moves], "done": False})
        return 0
    for name, ms in plan.items():
        for m in ms:
            _request(ops, "POST", f"/collections/{name}/cluster",
                     {"move_shard": {"shard_id": m.shard_id, "from_peer_id": m.from_peer, "to_peer_id": m.to_peer}})
        if ms and not _wait(ops, name, peer, timeout, clock):
            ops.out.say(f"timed out after {timeout:.0f} s: collection {name} still has shards on peer {peer}; Qdrant "
                        f"goes on moving them. Run again to continue (peer {peer} is not removed).")
            if ops.out.json:
                ops.out.emit({"peer": peer, "pod": pod, "moves": [m.__dict__ for m in moves], "done": False,
                              "timedOut": name})
            return 1
        if ms:
            ops.out.say(f"  {name}: no shard left on peer {peer}")
    _request(ops, "DELETE", f"/cluster/peer/{peer}")
    ops.out.say(f"peer {peer} ({pod}) removed from the Qdrant cluster.")
    ops.out.say(f"Next: stop the StatefulSet from running {pod} (the autoscaler only scales up; a StatefulSet stops "
                f"its highest ordinals first): `python -m archivist_infra ops scale {ops.stack} qdrant --replicas "
                f"{peer_ordinal} --yes`, then set `archivist:qdrant.autoscaling.maxReplicas` (and minReplicas) to "
                f"{peer_ordinal} and `pulumi up` so the next update keeps it. The pod's claim is retained; delete it "
                "by hand once its data is no longer needed.")
    if ops.out.json:
        ops.out.emit({"peer": peer, "pod": pod, "moves": [m.__dict__ for m in moves], "done": True})
    return 0


@dataclass(frozen=True)
class Member:
    """A Raft peer of the cluster that runs in pod qdrant-<ordinal>, and how many shard replicas it holds."""

    ordinal: int
    peer: int
    shards: int


def members_at_or_above(ops: Ops, keep: int) -> list[Member]:
    """Peers in pods qdrant-<keep> and above that are still cluster members, highest ordinal first.

    A member is a Raft voter whether or not it holds shards; stopping it without `DELETE /cluster/peer`
    costs the cluster a vote for good (audit Q1), and stopping one that holds shards loses them (D2).
    """
    try:
        cluster = _request(ops, "GET", "/cluster")
        if cluster.get("status") != "enabled":
            return []
        peers = peer_ordinals(cluster)
        counts = {p: 0 for p in peers}
        for name in _collections(ops):
            for p, shards in _shards(ops, name).items():
                counts[p] = counts.get(p, 0) + len(shards)
    except OpsError as err:
        raise OpsError(f"cannot tell which Qdrant peers hold shards, so no peer is removed: {err}") from None
    found = [Member(n, p, counts.get(p, 0)) for p, n in peers.items() if n is not None and n >= keep]
    return sorted(found, key=lambda m: -m.ordinal)


def refuse_undrained(ops: Ops, keep: int) -> None:
    """Raises, with the exact drain command, when scaling Qdrant to `keep` pods would stop a cluster member."""
    members = members_at_or_above(ops, keep)
    if not members:
        return
    listed = ", ".join(f"qdrant-{m.ordinal} (peer {m.peer}, {m.shards} shard replica(s))" for m in members)
    top = members[0].ordinal
    raise OpsError(f"refusing to scale qdrant to {keep}: {listed} still belong to the Qdrant cluster (Raft voters; "
                   "their shards would be lost with them). Drain from the highest ordinal down, one at a time: "
                   f"`{drain_command(ops.stack, top)}`, then `python -m archivist_infra ops scale {ops.stack} qdrant "
                   f"--replicas {top} --yes`, and repeat until {keep} remain")
