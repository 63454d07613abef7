"""A local stand-in for the Gemini API (generativelanguage v1beta REST) that knows only live models.

It answers what the services call: models.get / models.list, generateContent, embedContent and
batchEmbedContents, with the request and response shapes of the v1beta REST reference
(ai.google.dev/api). A model it does not list as live (e.g. `text-embedding-004`, shut down on
2026-01-14, or the `gemini-2.0-*` family, shut down on 2026-06-01) gets the API's 404 NOT_FOUND, so
code that still asks for a retired model fails here as it fails against Google.

Embeddings are deterministic bag-of-words vectors (hashed tokens, L2-normalised): texts sharing
words are close, so a semantic search can find what was indexed. Without `outputDimensionality`
an embedding has the model's full size (3072 for gemini-embedding-001), as the real API does.
Every call is recorded (`calls`) so the tests can say which model was asked for what.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Full output size of each live embedding model (gemini-embedding-001: 3072, reducible by
# output_dimensionality; ai.google.dev/gemini-api/docs/embeddings).
EMBEDDING_SIZES = {"gemini-embedding-001": 3072}


@dataclass
class Call:
    method: str
    model: str
    action: str  # "get", "list", "generateContent", "embedContent", "batchEmbedContents"
    status: int
    dimensions: list[int | None] = field(default_factory=list)  # outputDimensionality per embedded text


def embed(text: str, size: int) -> list[float]:
    vector = [0.0] * size
    for token in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.sha256(token.encode()).digest()
        index = int.from_bytes(digest[:4], "big") % size
        vector[index] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class GeminiStandIn:
    """Serve on 127.0.0.1:<free port>; `base_url` is what GOOGLE_GEMINI_BASE_URL takes."""

    def __init__(self, api_key: str, generation_models: set[str], embedding_models: set[str], reply_text: str) -> None:
        self.api_key = api_key
        self.generation_models = generation_models
        self.embedding_models = embedding_models
        self.reply_text = reply_text
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> GeminiStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls_for(self, action: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.action == action]

    # -- the API ----------------------------------------------------------------------------------

    def _model_info(self, model: str) -> dict[str, Any]:
        embedding = model in self.embedding_models
        return {
            "name": f"models/{model}",
            "displayName": model,
            "supportedGenerationMethods": ["embedContent", "batchEmbedContents"] if embedding
            else ["generateContent", "countTokens"],
        }

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = request.path.split("?", 1)[0]
        query = request.path.split("?", 1)[1] if "?" in request.path else ""
        body: dict[str, Any] = {}
        if method == "POST":
            length = int(request.headers.get("Content-Length") or 0)
            body = json.loads(request.rfile.read(length) or b"{}")
        key = request.headers.get("x-goog-api-key") or dict(
            p.split("=", 1) for p in query.split("&") if "=" in p).get("key")
        if key != self.api_key:
            return self._send(request, 400, {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                                       "message": "API key not valid. Please pass a valid API key."}})
        match = re.fullmatch(r"/v1beta/models(?:/([^/:]+))?(?::([A-Za-z]+))?", path)
        if not match:
            return self._send(request, 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": f"{path} not found"}})
        model, action = match.group(1) or "", match.group(2) or ("get" if match.group(1) else "list")
        live = self.generation_models | self.embedding_models
        if action == "list":
            self._record(Call(method, "", action, 200))
            return self._send(request, 200, {"models": [self._model_info(m) for m in sorted(live)]})
        wanted = self.embedding_models if action in ("embedContent", "batchEmbedContents") else (
            self.generation_models if action == "generateContent" else live)
        if model not in wanted:
            self._record(Call(method, model, action, 404))
            return self._send(request, 404, {"error": {
                "code": 404, "status": "NOT_FOUND",
                "message": f"models/{model} is not found for API version v1beta, or is not supported for {action}. "
                           "Call ListModels to see the list of available models and their supported methods."}})
        if action == "get":
            self._record(Call(method, model, action, 200))
            return self._send(request, 200, self._model_info(model))
        if action == "generateContent":
            self._record(Call(method, model, action, 200))
            return self._send(request, 200, {
                "candidates": [{"content": {"role": "model", "parts": [{"text": self.reply_text}]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
                "modelVersion": model,
            })
        requests = body.get("requests", []) if action == "batchEmbedContents" else [body]
        dims = [r.get("outputDimensionality") for r in requests]
        self._record(Call(method, model, action, 200, dims))
        vectors = []
        for r, dim in zip(requests, dims, strict=True):
            text = " ".join(p.get("text", "") for p in r.get("content", {}).get("parts", []))
            vectors.append({"values": embed(text, dim or EMBEDDING_SIZES.get(model, 3072))})
        if action == "embedContent":
            return self._send(request, 200, {"embedding": vectors[0]})
        return self._send(request, 200, {"embeddings": vectors})

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=UTF-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
