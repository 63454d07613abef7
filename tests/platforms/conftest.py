"""Mock runtime for the platform tests: records what each resource was registered with.

`set_mocks` runs in a fixture (per test), not at import: at import time the last test
file collected would win and earlier files would run against its mocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

from archivist_infra.config.problems import Problems
from archivist_infra.config.reader import ConfigReader
from archivist_infra.offline.mock_outputs import call_outputs, computed_outputs


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str
    dependencies: list[str]
    protect: bool
    parent: str
    secret_keys: set[str]
    ignore_changes: list[str]


class ArchivistMocks(Mocks):
    def __init__(self) -> None:
        self.calls: list[MockCallArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", {**args.inputs, **computed_outputs(args.typ, args.name, args.inputs)}

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        self.calls.append(args)
        return call_outputs(args.token, args.args)


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: ArchivistMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.calls = mocks.calls

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        raw = json_format.MessageToDict(request.object)
        secret_keys = {k for k, v in raw.items() if _has_secret(v)}
        self.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=plain(self.resources[response.urn].state),
                provider=request.provider,
                dependencies=list(request.dependencies),
                protect=bool(request.protect),
                parent=request.parent,
                secret_keys=secret_keys,
                ignore_changes=list(request.ignoreChanges),
            )
        )
        return response

    # -- queries used by the tests --------------------------------------------------------

    def of_type(self, token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == token]

    def one(self, token: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(token) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {token} {name or ''}, got {[r.name for r in found]}"
        return found[0]

    def call_tokens(self) -> list[str]:
        return [c.token for c in self.calls]

    def depends_on_names(self, reg: Registration) -> set[str]:
        by_urn = {r.urn: r.name for r in self.registrations}
        return {by_urn[d] for d in reg.dependencies if d in by_urn}


def _has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get(_special_sig_key) == _special_secret_sig or any(_has_secret(v) for v in value.values())
    return isinstance(value, list) and any(_has_secret(v) for v in value)


def plain(value: Any) -> Any:
    """The value with secret wrappers removed (which keys were secret is kept in `secret_keys`)."""
    if isinstance(value, dict):
        if value.get(_special_sig_key) == _special_secret_sig:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@pytest.fixture
def monitor() -> Iterator[RecordingMonitor]:
    mon = RecordingMonitor(ArchivistMocks())
    pulumi.runtime.set_mocks(mon.mocks, project="archivist-infra", stack="test", preview=False, monitor=mon)
    yield mon


def settled(root: pulumi.Resource, check: Callable[[], None]) -> pulumi.Output[None]:
    """Run `check` once every resource under `root` has been registered with the monitor."""
    resources: list[pulumi.Resource] = []
    todo = [root]
    while todo:
        res = todo.pop()
        resources.append(res)
        todo.extend(res._childResources)
    return pulumi.Output.all(*[r.urn for r in resources]).apply(lambda _: check())


def reader(raw: dict[str, Any], path: str = "archivist:cluster") -> ConfigReader:
    return ConfigReader(raw, path, Problems())
