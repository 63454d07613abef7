"""Serves the program (archivist_infra.program.main, what __main__.py runs) to one `pulumi` command.

The CLI connects with `--client 127.0.0.1:PORT` and asks this process to run the program, exactly
as for an Automation API inline program: the server is the Python SDK's own
`pulumi.automation._server.LanguageServer` (pulumi==3.272.0). Prints the port, then serves until
the CLI is done and the suite ends it.
"""

from __future__ import annotations

import sys
from concurrent import futures
from pathlib import Path

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root: archivist_infra

from archivist_infra.program import main


def serve() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)])
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(main), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    serve()
