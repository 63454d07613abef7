"""The `ops` subcommand: argument parsing and the one place errors become one line.

Exit codes: 0 done and healthy; 1 done but unhealthy, failed or timed out; 2 bad input, bad
config, or no cluster reachable (`error: ...` on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

VERBS = {
    "status": "every workload, autoscaler, claim, recent job and warning event; exit 1 when unhealthy",
    "logs": "logs of every pod of a workload (or Job), with --follow and --previous",
    "scale": "change an autoscaler's bounds (--min/--max, --replicas N), --pause or --resume it",
    "restart": "rolling restart of Deployments/StatefulSets (kubectl.kubernetes.io/restartedAt)",
    "port-forward": "forward the APIs and admin UIs to localhost: search 8000, graph 8081, neo4j 7474/7687, qdrant 6333",
    "top": "CPU and memory of every pod from the metrics API (metrics.k8s.io), against requests and limits",
    "upload": "copy PDFs into the worker's inbox /data/lib on the shared claim archivist-data",
    "process": "run a batch now: a Job from the worker CronJob, followed to the end",
    "backup": "a Velero Backup from Schedule velero/<namespace>-daily, followed to the end",
    "qdrant-drain": "move every shard off Qdrant peer qdrant-N, then remove the peer (--yes; plan only without)",
    "restore": "a Velero Restore from --from NAME or the newest Completed backup (--into NS for a drill)",
    "models": "ask the Gemini API for each configured model with the stack's key (Secret archivist-secrets)",
    "rbac": "print the Roles (and RoleBindings) that every verb, or --verb V, needs; reads no cluster",
}


def add_ops_parser(sub: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml for the namespace and context")
    common.add_argument("--config-file", type=Path, help="another stack file to read instead")
    common.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default: local stacks $KUBECONFIG or "
                        "~/.kube/config; cloud stacks `pulumi stack output kubeconfig`, never the current context)")
    common.add_argument("--context", help="kubeconfig context (default: archivist:cluster.context, else current)")
    common.add_argument("--output", choices=("text", "json"), default="text", help="json: one document for scripts")

    ops = sub.add_parser("ops", help="day-2 commands on the running stack (the successor of k8s-manage.sh)",
                         description="Day-2 commands on the Kubernetes API for a deployed stack "
                         "(the successor of the deployment guide's scripts/k8s-manage.sh).")
    verbs = ops.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = {name: verbs.add_parser(name, parents=[common], help=text, description=text) for name, text in VERBS.items()}

    p["status"].add_argument("--events", type=int, default=15, help="how many warning events to show")
    p["logs"].add_argument("workload", help="Deployment, StatefulSet, CronJob or Job name (e.g. archivist-worker, neo4j)")
    p["logs"].add_argument("-f", "--follow", action="store_true")
    p["logs"].add_argument("-p", "--previous", action="store_true", help="the previous (crashed) container's logs")
    p["logs"].add_argument("--tail", type=int, default=100, help="lines per container (-1: all)")
    p["logs"].add_argument("-c", "--container", help="only this container")
    p["scale"].add_argument("workload", help="the workload whose autoscaler to change (e.g. archivist-worker)")
    p["scale"].add_argument("--min", type=int, dest="minimum")
    p["scale"].add_argument("--max", type=int, dest="maximum")
    p["scale"].add_argument("--replicas", type=int, help="pin: min = max = N")
    p["scale"].add_argument("--pause", action="store_true", help="pin at the current count, remembering the bounds")
    p["scale"].add_argument("--resume", action="store_true", help="restore the bounds --pause remembered")
    p["scale"].add_argument("--yes", action="store_true",
                            help="a store losing pods: do it (default: print the plan only)")
    p["restart"].add_argument("workloads", nargs="+", metavar="WORKLOAD")
    p["restart"].add_argument("--yes", action="store_true",
                              help="a single-replica store among them: do it (default: print the plan only)")
    p["port-forward"].add_argument("targets", nargs="*", metavar="TARGET",
                                   help="search, graph, neo4j, qdrant (default: all), or SERVICE:PORT")
    p["port-forward"].add_argument("--address", default="127.0.0.1", help="local address to listen on")
    p["port-forward"].add_argument("--offset", type=int, default=0, help="add this to every local port")
    p["top"].add_argument("--containers", action="store_true", help="one row per container")
    p["upload"].add_argument("files", nargs="+", type=Path, metavar="PDF")
    p["upload"].add_argument("--timeout", type=float, default=300, help="seconds to wait for the uploader pod")
    p["qdrant-drain"].add_argument("--peer", type=int, required=True, metavar="ORDINAL",
                                   help="the pod ordinal N of qdrant-N to drain (not 0)")
    p["qdrant-drain"].add_argument("--yes", action="store_true", help="do it (default: print the plan only)")
    p["qdrant-drain"].add_argument("--timeout", type=float, default=1800,
                                   help="seconds to wait for a collection's shards to move")
    for name in ("process", "backup", "restore"):
        p[name].add_argument("--timeout", type=float, default=3600, help="seconds to follow before giving up watching")
        p[name].add_argument("--no-wait", dest="wait", action="store_false", help="create it and return")
    p["rbac"].add_argument("--verb", action="append", dest="verbs", metavar="VERB",
                           help="only this verb's rules (repeatable; default: every verb)")
    p["rbac"].add_argument("--group", default="archivist-operators", help="the Group the RoleBindings name")
    p["restore"].add_argument("--from", dest="source", metavar="BACKUP", help="backup name (default: newest Completed)")
    p["restore"].add_argument("--into", metavar="NAMESPACE", help="restore into this namespace instead (a drill)")
    p["models"].add_argument("--key-from-env", action="store_true",
                             help="use $GEMINI_API_KEY instead of the cluster Secret (before the first up, no cluster)")
    p["models"].add_argument("--api-base", default=None, help="the Gemini API's base URL (default: Google's)")
    p["restore"].add_argument("--yes", action="store_true",
                              help="into the live namespace: do it (default: print the plan only)")


def run_ops(args: argparse.Namespace, project_dir: Path) -> int:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from ..config.problems import ConfigError
    from ..offline.stackfile import StackFileError
    from .errors import OpsError, api_message

    try:
        return _dispatch(args, project_dir)
    except ConfigError as err:
        print(f"error: stack {args.stack}: {' '.join(str(err).split())}", file=sys.stderr)
    except (OpsError, StackFileError) as err:
        print(f"error: {err}", file=sys.stderr)
    except ApiException as err:
        print(f"error: the API server said {api_message(err)}", file=sys.stderr)
    except (HTTPError, OSError) as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


def _dispatch(args: argparse.Namespace, project_dir: Path) -> int:
    from . import context
    from .context import Ops, Out

    target = context.stack_target(args.stack, args.config_file, project_dir)
    if args.verb == "rbac":
        from .rbac import rbac

        print(rbac(target.namespace, args.verbs, group=args.group, as_json=args.output == "json"))
        return 0
    if args.verb == "models" and args.key_from_env:
        from .models import models, models_from_env

        return models(Out(json=args.output == "json"), target.gemini, models_from_env(), base=args.api_base)
    kubeconfig = context.stack_kubeconfig(target, args.kubeconfig, project_dir)
    api = context.api_client(kubeconfig, args.context or target.context)
    ops = Ops(api=api, namespace=target.namespace, out=Out(json=args.output == "json"), stack=args.stack)
    verb = args.verb
    if verb != "restore":  # a restore recreates a deleted namespace: its absence is the reason to run it
        context.require_namespace(ops)
    if verb == "status":
        from .status import status

        return status(ops, events=args.events)
    if verb == "logs":
        from .logs import logs

        return logs(ops, args.workload, follow=args.follow, previous=args.previous, tail=args.tail,
                    container=args.container)
    if verb == "scale":
        from .scale import scale

        return scale(ops, args.workload, minimum=args.minimum, maximum=args.maximum, replicas=args.replicas,
                     pause=args.pause, resume=args.resume, yes=args.yes)
    if verb == "restart":
        from .restart import restart

        return restart(ops, args.workloads, yes=args.yes)
    if verb == "port-forward":
        from .portforward import port_forward

        return port_forward(ops, args.targets, address=args.address, offset=args.offset)
    if verb == "top":
        from .top import top

        return top(ops, containers=args.containers)
    if verb == "upload":
        from .upload import upload

        return upload(ops, args.files, timeout=args.timeout)
    if verb == "process":
        from .process import process

        return process(ops, timeout=args.timeout, wait=args.wait)
    if verb == "models":
        from .models import key_from_secret, models

        return models(ops.out, target.gemini, key_from_secret(ops), base=args.api_base)
    if verb == "qdrant-drain":
        from .qdrant import qdrant_drain

        return qdrant_drain(ops, args.peer, yes=args.yes, timeout=args.timeout)
    from . import velero

    if verb == "backup":
        return velero.backup(ops, timeout=args.timeout, wait=args.wait)
    return velero.restore(ops, source=args.source, into=args.into, timeout=args.timeout, wait=args.wait, yes=args.yes)
