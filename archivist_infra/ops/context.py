"""Where a verb acts: the stack's namespace and cluster context, an API client, and the output.

The namespace comes from `archivist:namespace` and, on local stacks, the context from
`archivist:cluster.context`, both read through the same loader `pulumi up` uses, so `ops`
acts on the cluster and namespace the stack deploys to. `--kubeconfig/--context` override it.
Cloud stacks never use the current context: their own kubeconfig output, or an error (stack_kubeconfig).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from .errors import OpsError, api_message

FIELD_MANAGER = "archivist-ops"  # how our changes show in managedFields, beside pulumi-kubernetes


@dataclass(frozen=True)
class StackTarget:
    stack: str
    namespace: str
    context: str | None  # None: the kubeconfig's current context
    platform: str
    gemini: Any = None  # config.gemini.GeminiSettings: the models `ops models` checks


def stack_target(stack: str, config_file: Path | None, project_dir: Path) -> StackTarget:
    """Reads Pulumi.<stack>.yaml through the config loader; bad config raises ConfigError/StackFileError."""
    from ..config.load import NAMESPACE, SECRET_KEYS, load_settings
    from ..offline.stackfile import read_stack

    path = config_file or project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise OpsError(f"unknown stack '{stack}': no {path.name} (stacks here: {', '.join(known) or 'none'})")
    config = read_stack(project_dir, stack, config_file)
    prefix = f"{NAMESPACE}:"
    raw: dict[str, Any] = {}
    for full_key, value in config.values.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix):]
        raw[key] = "<secret>" if key in SECRET_KEYS else _parse(value)
    secrets = {k[len(prefix):] for k in config.secret_keys if k.startswith(prefix)}
    settings = load_settings(raw, project=config.project, stack=stack, secrets_present=secrets)
    context = getattr(settings.cluster, "context", None) if settings.platform == "local" else None
    return StackTarget(stack=stack, namespace=settings.namespace, context=context, platform=settings.platform,
                       gemini=settings.gemini)


def stack_kubeconfig(target: StackTarget, given: Path | None, project_dir: Path, *,
                     run: Any = None) -> Path | None:
    """The kubeconfig a verb uses: the one given, on local stacks the default, on cloud stacks the stack's own.

    A cloud stack creates its cluster and exports its kubeconfig (stack.py, output `kubeconfig`); the
    current context of whatever kubeconfig is lying around may be another cluster entirely (audit D9:
    `ops status prod` showed another cluster's objects). So without --kubeconfig a cloud stack reads
    `pulumi stack output kubeconfig --show-secrets` and refuses when that is not available.
    """
    import atexit
    import shutil
    import subprocess
    import tempfile

    if given is not None or target.platform == "local":
        return given
    how = (f"`pulumi stack output kubeconfig --show-secrets --stack {target.stack} > {target.stack}.kubeconfig`, "
           f"then --kubeconfig {target.stack}.kubeconfig")
    pulumi_cli = shutil.which("pulumi")
    if pulumi_cli is None:
        raise OpsError(f"stack {target.stack} runs on {target.platform}: ops uses that cluster's own kubeconfig, never "
                       f"the current context, and the pulumi CLI is not on PATH to read it. Run {how}")
    runner = run or subprocess.run
    proc = runner([pulumi_cli, "stack", "output", "kubeconfig", "--show-secrets", "--stack", target.stack],
                  cwd=project_dir, capture_output=True, text=True, timeout=120, check=False)
    text = (proc.stdout or "").strip()
    if proc.returncode != 0 or not text or "clusters" not in text:
        why = " ".join((proc.stderr or "no kubeconfig output").split())[:300]
        raise OpsError(f"stack {target.stack} runs on {target.platform}: its kubeconfig output is not available "
                       f"({why}); ops never falls back to the current context. Run `pulumi up` first, or {how}")
    handle = tempfile.NamedTemporaryFile("w", prefix=f"archivist-{target.stack}-", suffix=".kubeconfig",  # noqa: SIM115
                                         delete=False)
    with handle:
        handle.write(text)  # created 0600 by tempfile: it may hold credentials
    atexit.register(Path(handle.name).unlink, missing_ok=True)
    return Path(handle.name)


def require_namespace(ops: Ops) -> None:
    """A verb on a namespace that does not exist is an error, not an empty "healthy" (audit D9).

    `get namespaces` is cluster-scoped, which the stack's ops Role cannot grant (ops/rbac.py): on a 403 the
    namespace's `default` ServiceAccount stands in for it (the controller manager makes one in every
    namespace, and listing in a missing namespace answers an empty list, not 404).
    """
    from kubernetes.client.exceptions import ApiException

    try:
        ops.core.read_namespace(ops.namespace)
        return
    except ApiException as err:
        if err.status == 404:
            raise OpsError(f"namespace {ops.namespace} does not exist on {ops.api.configuration.host}: the stack "
                           "is not deployed there (wrong cluster or context?)") from None
        if err.status != 403:
            raise
    if not ops.core.list_namespaced_service_account(ops.namespace, field_selector="metadata.name=default").items:
        raise OpsError(f"namespace {ops.namespace} does not exist on {ops.api.configuration.host} (no `default` "
                       "ServiceAccount in it): the stack is not deployed there (wrong cluster or context?)")


def _parse(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def api_client(kubeconfig: Path | None, context: str | None, *, check: bool = True) -> Any:
    """An ApiClient for `context` in `kubeconfig` (default: $KUBECONFIG or ~/.kube/config)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=str(kubeconfig) if kubeconfig else None, context=context,
                                client_configuration=configuration, persist_config=False)
    except ConfigException as err:
        where = f"context '{context}'" if context else "the current context"
        raise OpsError(f"cannot use {where} of {kubeconfig or 'the default kubeconfig'}: {err}") from None
    except FileNotFoundError as err:
        raise OpsError(f"no kubeconfig: {err.filename or err}") from None
    configuration.retries = 1  # fail fast when no cluster answers
    api = client.ApiClient(configuration)
    if check:
        _check_reachable(api, context)
    return api


def _check_reachable(api: Any, context: str | None) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    host = api.configuration.host
    try:
        client.VersionApi(api).get_code(_request_timeout=10)
    except ApiException as err:
        raise OpsError(f"the cluster at {host} refused us: {api_message(err)}") from None
    except (HTTPError, OSError) as err:
        reason = getattr(err, "reason", None) or err
        name = f" (context {context})" if context else ""
        raise OpsError(f"no cluster reachable at {host}{name}: {reason}") from None


@dataclass
class Out:
    """Where a verb writes: rich tables and progress for a person, or one JSON document for a script."""

    json: bool = False
    file: TextIO | None = None  # None: stdout (tests pass a StringIO)
    err_file: TextIO | None = None

    @cached_property
    def console(self) -> Console:
        file = self.file or sys.stdout
        # Lines never wrap (people grep them); tables get room when the output is not a terminal.
        width = None if file.isatty() else 160
        return Console(file=file, highlight=False, soft_wrap=True, width=width)

    @cached_property
    def err(self) -> Console:
        return Console(file=self.err_file or sys.stderr, highlight=False, soft_wrap=True)

    def say(self, text: str) -> None:
        """A line for a person (goes to stderr under --output json so stdout stays one document)."""
        (self.err if self.json else self.console).print(text, markup=False, emoji=False)

    def line(self, text: str) -> None:
        """A line exactly as given (log lines), flushed at once."""
        file = self.file or sys.stdout
        file.write(text + "\n")
        file.flush()

    def emit(self, data: Any) -> None:
        print(json.dumps(data, indent=2, default=str), file=self.file or sys.stdout)

    def emit_line(self, data: Any) -> None:
        """One compact JSON document per line (a stream, e.g. followed logs)."""
        self.line(json.dumps(data, default=str))


@dataclass
class Ops:
    """The API client, the stack's namespace, and the output of one `ops` invocation."""

    api: Any  # kubernetes.client.ApiClient
    namespace: str
    out: Out = field(default_factory=Out)
    poll_seconds: float = 2.0
    stack: str = "STACK"  # for the exact commands verbs print

    @cached_property
    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    @cached_property
    def apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self.api)

    @cached_property
    def batch(self) -> Any:
        from kubernetes import client

        return client.BatchV1Api(self.api)

    @cached_property
    def autoscaling(self) -> Any:
        from kubernetes import client

        return client.AutoscalingV2Api(self.api)

    @cached_property
    def custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api)

    def plain(self, obj: Any) -> Any:
        """A typed client object as the plain JSON the server sent (camelCase keys)."""
        return self.api.sanitize_for_serialization(obj)
