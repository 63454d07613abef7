"""A stand-in `random` resource provider for the engine suite: `RandomPassword` only.

Why a stand-in: the program generates its store passwords with pulumi-random (Python SDK
pulumi-random==4.21.4), whose provider is a Go module (github.com/pulumi/pulumi-random/provider/v4)
that the Go module proxy here refuses (403 "This module version is not available", for every
version), and nothing else reachable ships the plugin. docs/engine.md records the command and answer.

What it implements is the part of pulumi-random's `random:index/randomPassword:RandomPassword`
contract that the engine and the program see: the inputs and their defaults (length required;
special/upper/lower/numeric default true; min* default 0; overrideSpecial), every input forcing a
replacement (the provider marks them all ForceNew), the `result` output (the SDK itself marks
`result` and `bcryptHash` secret through additional_secret_outputs), id "none", and a state that
never changes on read. `bcryptHash` is not computed (nothing in the program reads it).

It is never used by the program or by users: only the engine suite puts it on PATH, as
`pulumi-resource-random`, so the real CLI loads it like any plugin (an executable that serves the
ResourceProvider gRPC service and prints its port).
"""

from __future__ import annotations

import secrets
import string
import sys
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

PASSWORD = "random:index/randomPassword:RandomPassword"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for an unknown value
DEFAULTS: dict[str, Any] = {
    "special": True, "upper": True, "lower": True, "numeric": True,
    "minLower": 0, "minUpper": 0, "minNumeric": 0, "minSpecial": 0,
}
SPECIAL = "!@#$%&*()-_=+[]{}<>:?"  # terraform-provider-random's default special set


def _dict(message: struct_pb2.Struct) -> dict[str, Any]:
    return MessageToDict(message)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def _inputs(news: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **news}


def generate(inputs: dict[str, Any]) -> str:
    length = int(inputs["length"])
    classes = [
        (inputs["lower"], string.ascii_lowercase, int(inputs["minLower"])),
        (inputs["upper"], string.ascii_uppercase, int(inputs["minUpper"])),
        (inputs["numeric"], string.digits, int(inputs["minNumeric"])),
        (inputs["special"], inputs.get("overrideSpecial") or SPECIAL, int(inputs["minSpecial"])),
    ]
    chars = [secrets.choice(pool) for on, pool, minimum in classes if on for _ in range(minimum)]
    alphabet = "".join(pool for on, pool, _ in classes if on)
    chars += [secrets.choice(alphabet) for _ in range(max(0, length - len(chars)))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


class RandomProvider(provider_pb2_grpc.ResourceProviderServicer):
    def GetPluginInfo(self, request: empty_pb2.Empty, context: Any) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version="4.21.4")

    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:
        return provider_pb2.ConfigureResponse(acceptSecrets=False, supportsPreview=True)

    def Check(self, request: provider_pb2.CheckRequest, context: Any) -> provider_pb2.CheckResponse:
        news = _dict(request.news)
        failures = []
        if request.type != PASSWORD:
            failures.append(provider_pb2.CheckFailure(property="", reason=f"this stand-in serves only {PASSWORD}"))
        elif "length" not in news:
            failures.append(provider_pb2.CheckFailure(property="length", reason="length is required"))
        return provider_pb2.CheckResponse(inputs=_struct(_inputs(news)), failures=failures)

    def Diff(self, request: provider_pb2.DiffRequest, context: Any) -> provider_pb2.DiffResponse:
        olds = _dict(request.old_inputs) or _dict(request.olds)
        news = _dict(request.news)
        changed = sorted(k for k in set(olds) | set(news) if k not in ("result", "bcryptHash") and olds.get(k) != news.get(k))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed, replaces=changed)

    def Create(self, request: provider_pb2.CreateRequest, context: Any) -> provider_pb2.CreateResponse:
        inputs = _dict(request.properties)
        result = UNKNOWN if request.preview else generate(inputs)
        return provider_pb2.CreateResponse(id="none" if not request.preview else "", properties=_struct({**inputs, "result": result}))

    def Read(self, request: provider_pb2.ReadRequest, context: Any) -> provider_pb2.ReadResponse:
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Update(self, request: provider_pb2.UpdateRequest, context: Any) -> provider_pb2.UpdateResponse:
        return provider_pb2.UpdateResponse(properties=_struct({**_dict(request.olds), **_dict(request.news)}))

    def Delete(self, request: provider_pb2.DeleteRequest, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    def Cancel(self, request: empty_pb2.Empty, context: Any) -> empty_pb2.Empty:
        return empty_pb2.Empty()


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(RandomProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)  # the engine reads the plugin's port from its first line of output
    sys.stdout.close()
    server.wait_for_termination()


if __name__ == "__main__":
    main()
