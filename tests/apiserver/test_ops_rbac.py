"""Each `ops` verb runs as a ServiceAccount bound to exactly the Role `ops rbac` prints for it.

The account's token (TokenRequest, as `kubectl create token` makes it) goes into a kubeconfig of its
own, loaded by the same `api_client` the CLI uses; any call the verb makes outside its Role comes back
403 and fails the test. Verbs that cannot finish here (no kubelet, no metrics API) must fail for that
reason, never for a permission.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from archivist_infra.ops import velero
from archivist_infra.ops.context import Ops, Out, api_client, require_namespace
from archivist_infra.ops.errors import OpsError
from archivist_infra.ops.logs import logs
from archivist_infra.ops.models import key_from_secret
from archivist_infra.ops.portforward import port_forward
from archivist_infra.ops.process import process
from archivist_infra.ops.qdrant import qdrant_drain
from archivist_infra.ops.rbac import RULES, bindings, roles
from archivist_infra.ops.restart import restart
from archivist_infra.ops.scale import scale
from archivist_infra.ops.status import status
from archivist_infra.ops.top import top
from archivist_infra.ops.upload import upload
from tests.ops.test_qdrant_drain import FakeQdrant

from .fake_qdrant import behind_the_proxy, served
from .kube import Cluster
from .test_data_ops import statefulset, statefulset_hpa
from .test_ops import deployment, hpa, make_backup, worker_cronjob


def as_account(cluster: Cluster, namespace: str, verb: str, tmp_path: Path) -> Ops:
    """Ops for `namespace` as ServiceAccount ops-<verb>, bound to exactly `ops rbac --verb <verb>`."""
    account = f"ops-{verb}"
    made = roles(namespace, [verb], name=account)
    subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    applied = cluster.apply([{"apiVersion": "v1", "kind": "ServiceAccount",
                              "metadata": {"name": account, "namespace": namespace}}, *made, *bindings(made, subject)])
    assert applied.ok, applied.stderr
    token = cluster.run("create", "token", account, "-n", namespace, "--duration=10m", check=True).stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
    server = next(c for c in admin["clusters"] if c["name"] == context["cluster"])
    own = {"apiVersion": "v1", "kind": "Config", "current-context": account, "clusters": [server],
           "users": [{"name": account, "user": {"token": token}}],
           "contexts": [{"name": account, "context": {"cluster": server["name"], "user": account}}]}
    path = tmp_path / f"{account}.kubeconfig"
    path.write_text(yaml.safe_dump(own))
    return Ops(api=api_client(path, None), namespace=namespace, out=Out(file=io.StringIO(), err_file=io.StringIO()),
               poll_seconds=0.1)


def not_forbidden(call: Callable[[], Any]) -> Any:
    """Run a verb; an error is fine when it is not about permissions."""
    try:
        return call()
    except ApiException as err:
        assert err.status != 403, f"forbidden: {err.body}"
        return None
    except OpsError as err:
        assert "forbidden" not in str(err).lower() and "403" not in str(err), str(err)
        return None


@pytest.fixture(scope="module")
def stack_ns(cluster: Cluster) -> Iterator[str]:
    ns = cluster.create_namespace("ops-rbac")
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "archivist-data", "namespace": ns},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "archivist-search", "namespace": ns},
               "spec": {"selector": {"app.kubernetes.io/name": "archivist-search"},
                        "ports": [{"name": "http", "port": 8000, "targetPort": 8000}]}}
    applied = cluster.apply([deployment("archivist-search", ns), hpa("archivist-search", ns, 1, 3),
                             statefulset("qdrant", ns, 3), statefulset_hpa("qdrant", ns, 2, 5),
                             worker_cronjob(ns), claim, service])
    assert applied.ok, applied.stderr
    assert cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": velero.VELERO_NS}}]).ok
    schedule = {"apiVersion": "velero.io/v1", "kind": "Schedule",
                "metadata": {"name": f"{ns}-daily", "namespace": velero.VELERO_NS},
                "spec": {"schedule": "0 3 * * *", "template": {"includedNamespaces": [ns]}}}
    assert cluster.apply([schedule]).ok
    make_backup(cluster, ns, f"{ns}-done", "Completed", "2026-11-01T03:00:00Z")
    yield ns


def test_rbac_names_every_verb_of_the_cli() -> None:
    from archivist_infra.ops.cli import VERBS

    assert set(RULES) == set(VERBS) - {"rbac"}


def test_each_verb_runs_as_an_account_bound_to_exactly_its_role(cluster: Cluster, stack_ns: str, tmp_path: Path) -> None:
    ns = stack_ns
    fake = FakeQdrant(3)
    with served(fake) as port:
        behind_the_proxy(cluster, ns, port)
        runs: dict[str, Callable[[Ops], Any]] = {
            "status": lambda o: status(o),
            "logs": lambda o: logs(o, "archivist-search"),
            "scale": lambda o: (scale(o, "search", maximum=4),
                                not_forbidden(lambda: scale(o, "qdrant", replicas=2, yes=True))),
            "restart": lambda o: restart(o, ["archivist-search", "qdrant"]),
            "port-forward": lambda o: port_forward(o, ["search"]),
            "top": lambda o: top(o),
            "upload": lambda o: upload(o, [_pdf(tmp_path)], timeout=1),
            "process": lambda o: process(o, wait=False),
            "backup": lambda o: velero.backup(o, wait=False),
            "qdrant-drain": lambda o: qdrant_drain(o, 2, yes=True),
            # No Secret here: a 404 (OpsError "no Secret") proves the get was authorized (RBAC answers 403 first).
            "models": lambda o: key_from_secret(o),
            "restore": lambda o: velero.restore(o, source=f"{ns}-done", into=f"{ns}-drill", wait=False),
        }
        assert set(runs) == set(RULES)
        for verb, run in runs.items():
            ops = as_account(cluster, ns, verb, tmp_path)
            if verb != "restore":
                require_namespace(ops)  # every verb but restore checks the namespace first
            not_forbidden(lambda r=run, o=ops: r(o))
        assert fake.deleted == [103]  # qdrant-drain got through the proxy with its own rights


def test_a_verb_outside_the_role_is_refused(cluster: Cluster, stack_ns: str, tmp_path: Path) -> None:
    ops = as_account(cluster, stack_ns, "status", tmp_path)
    with pytest.raises(ApiException) as err:
        scale(ops, "search", maximum=5)
    assert err.value.status == 403


def _pdf(tmp_path: Path) -> Path:
    path = tmp_path / "paper.pdf"
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    return path
