"""Runs the real program under Pulumi's mock engine and records what it would create.

Pulumi's `MockResourceArgs` lacks parents, dependencies, providers and `protect`; the
registration request has them, so a `MockMonitor` subclass records the request too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockMonitor

from . import mock_outputs
from .stackfile import StackConfig


@dataclass
class Recorded:
    urn: str
    type: str
    name: str
    custom: bool
    parent_urn: str | None
    dependencies: list[str]
    provider: str | None  # the provider's logical name; None for the default provider
    protect: bool
    inputs: dict[str, Any]  # secret values still wrapped (see `is_secret_value`)
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    before_delete_hooks: list[str] = field(default_factory=list)
    hooks: dict[str, list[str]] = field(default_factory=dict)  # hook kind (before_delete, ...) -> hook names
    before_update_hooks: list[str] = field(default_factory=list)
    retain_on_delete: bool = False


@dataclass
class Run:
    resources: list[Recorded]
    result: Any  # what the program function returned

    def by_type(self, type_token: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str) -> Recorded:
        matches = [r for r in self.resources if r.type == type_token and r.name == name]
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} resources of type {type_token} named {name}")
        return matches[0]


class OfflineMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        state.update(mock_outputs.computed_outputs(args.typ, args.name, args.inputs))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return mock_outputs.call_outputs(args.token, dict(args.args)), []


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.recorded: list[Recorded] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        deps = set(request.dependencies)
        for prop in request.propertyDependencies.values():
            deps.update(prop.urns)
        self.recorded.append(Recorded(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent_urn=request.parent or None,
            dependencies=sorted(deps),
            provider=_provider_name(request.provider),
            protect=bool(request.protect),
            inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=list(request.ignoreChanges),
            before_delete_hooks=list(request.hooks.before_delete),
            hooks=_hooks(request.hooks),
            before_update_hooks=list(request.hooks.before_update),
            retain_on_delete=bool(request.retainOnDelete),
        ))
        return response


_HOOK_KINDS = ("before_create", "after_create", "before_update", "after_update", "before_delete", "after_delete",
               "on_error")


def _hooks(binding: Any) -> dict[str, list[str]]:
    return {kind: list(getattr(binding, kind)) for kind in _HOOK_KINDS if list(getattr(binding, kind, []))}


def _provider_name(ref: str) -> str | None:
    # "<provider urn>::<id>": the URN's last segment is the provider's logical name.
    if not ref:
        return None
    urn = ref.rsplit("::", 1)[0]
    return urn.rsplit("::", 1)[-1]


def run(config: StackConfig, program: Callable[[], Any]) -> Run:
    """Run `program` with the stack's config under mocks; raises whatever the program raises."""
    set_all_config(dict(config.values), list(config.secret_keys))
    mocks = OfflineMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=config.project, stack=config.stack, preview=False, monitor=monitor)
    holder: dict[str, Any] = {}

    @pulumi.runtime.test
    def _program() -> Any:
        holder["result"] = program()
        # Wait for the exported outputs so every registration has happened before we read them.
        return pulumi.Output.from_input(_exports(holder["result"]))

    _program()
    return Run(resources=list(monitor.recorded), result=holder.get("result"))


def _exports(result: Any) -> Any:
    outputs = getattr(result, "outputs", None)
    return outputs() if callable(outputs) else None


SECRET_SIG = rpc._special_secret_sig


def is_secret_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == SECRET_SIG
