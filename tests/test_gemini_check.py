"""The pre-flight model check (archivist_infra/gemini_check.py) against a local stand-in for the
Gemini API: the same module the Job runs (as a file, with a bare Python) and `ops models` imports."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from archivist_infra import gemini_check
from archivist_infra.gemini_check import Wanted, check_models
from archivist_infra.ops.context import Out
from archivist_infra.ops.models import models as ops_models
from archivist_infra.tiers.preflight import CHECK_SCRIPT

KEY = "test-key-123"
LIVE = {
    "gemini-3.5-flash": ["generateContent", "countTokens"],
    "gemini-embedding-001": ["embedContent"],
    # A model the stand-in still serves but for which it names a successor (how a lifecycle field would look).
    "gemini-3.5-flash-lite": ["generateContent"],
}
API_REPLACEMENT = {"gemini-3.5-flash-lite": "models/gemini-3.7-flash"}


class StandIn(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:
        StandIn.seen.append((self.path, self.headers.get("x-goog-api-key")))
        if self.headers.get("x-goog-api-key") != KEY:
            self._send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                       "status": "INVALID_ARGUMENT"}})
            return
        prefix = "/v1beta/models/"
        model = self.path[len(prefix):] if self.path.startswith(prefix) else ""
        if model not in LIVE:
            self._send(404, {"error": {"code": 404, "message": f"models/{model} is not found for API version v1beta",
                                       "status": "NOT_FOUND"}})
            return
        body: dict[str, Any] = {"name": f"models/{model}", "supportedGenerationMethods": LIVE[model]}
        if model in API_REPLACEMENT:
            body["lifecycle"] = {"stage": "DEPRECATED", "replacementModel": API_REPLACEMENT[model]}
        self._send(200, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_live_models_pass_and_the_key_travels_in_the_header(api: str) -> None:
    StandIn.seen.clear()
    results = check_models([Wanted("gemini-3.5-flash", "generateContent"),
                            Wanted("gemini-embedding-001", "embedContent")], KEY, base=api)
    assert [r.ok for r in results] == [True, True]
    assert StandIn.seen == [("/v1beta/models/gemini-3.5-flash", KEY), ("/v1beta/models/gemini-embedding-001", KEY)]


def test_a_missing_model_names_the_tables_replacement(api: str) -> None:
    [result] = check_models([Wanted("gemini-2.0-flash", "generateContent")], KEY, base=api,
                            replacements={"gemini-2.0-flash": "gemini-3.5-flash"})
    assert not result.ok
    assert result.line == ("model 'gemini-2.0-flash' not found on the Gemini API (shut down or misspelled); "
                           "use 'gemini-3.5-flash' instead (docs/gemini-models.md)")


def test_a_replacement_the_api_names_wins_over_the_table(api: str) -> None:
    [result] = check_models([Wanted("gemini-3.5-flash-lite", "generateContent")], KEY, base=api,
                            replacements={"gemini-3.5-flash-lite": "something-else"})
    assert not result.ok and "'gemini-3.7-flash'" in result.line and "(the API)" in result.line


def test_a_model_that_does_not_serve_the_method_is_refused(api: str) -> None:
    [result] = check_models([Wanted("gemini-embedding-001", "generateContent")], KEY, base=api)
    assert not result.ok and "does not support generateContent" in result.line and "embedContent" in result.line


def test_a_bad_key_is_one_line_not_one_per_model(api: str) -> None:
    results = check_models([Wanted("gemini-3.5-flash", "generateContent"),
                            Wanted("gemini-embedding-001", "embedContent")], "wrong", base=api)
    assert len(results) == 1 and not results[0].ok
    assert results[0].line.startswith("the Gemini API refused the key (HTTP 400: API key not valid")
    assert "archivist:geminiApiKey" in results[0].line and "wrong" not in results[0].line


def test_no_egress_is_one_line_naming_the_host(api: str) -> None:
    base = _closed_port()
    results = check_models([Wanted("gemini-3.5-flash", "generateContent"),
                            Wanted("gemini-embedding-001", "embedContent")], KEY, base=base, timeout=3)
    assert len(results) == 1 and not results[0].ok
    assert results[0].line.startswith(f"cannot reach the Gemini API at {base.removeprefix('http://')}")
    assert "443" in results[0].line and "\n" not in results[0].line


def test_no_key_at_all() -> None:
    [result] = check_models([Wanted("gemini-3.5-flash", "generateContent")], " ")
    assert not result.ok and "no Gemini API key" in result.line


def _run_job_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As the Job runs it: the file alone, a fresh interpreter that cannot import the package (-I)."""
    return subprocess.run([sys.executable, "-I", str(CHECK_SCRIPT)], env={"PATH": os.environ.get("PATH", ""), **env},
                          capture_output=True, text=True, timeout=60, check=False, cwd="/")


def test_the_job_script_runs_standalone_and_exits_by_the_result(api: str) -> None:
    ok = _run_job_script({"GEMINI_API_KEY": KEY, "GEMINI_API_BASE": api,
                          "GEMINI_MODELS": "gemini-3.5-flash:generateContent,models/gemini-embedding-001:embedContent"})
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == ["ok: model 'gemini-3.5-flash' serves generateContent",
                                      "ok: model 'gemini-embedding-001' serves embedContent"]
    bad = _run_job_script({"GEMINI_API_KEY": KEY, "GEMINI_API_BASE": api,
                           "GEMINI_MODELS": "gemini-3.5-flash:generateContent,text-embedding-004:embedContent",
                           "GEMINI_REPLACEMENTS": "text-embedding-004=gemini-embedding-001"})
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("error: model 'text-embedding-004' not found on the Gemini API (shut down or "
                                  "misspelled); use 'gemini-embedding-001' instead (docs/gemini-models.md)")


def test_ops_models_uses_the_same_logic_and_the_configured_models(api: str) -> None:
    from archivist_infra.config.gemini import GeminiSettings

    out = Out(file=io.StringIO(), err_file=io.StringIO())
    assert ops_models(out, GeminiSettings(), KEY, base=api) == 0
    assert "ok: model 'gemini-3.5-flash'" in out.file.getvalue()  # type: ignore[union-attr]
    out = Out(json=True, file=io.StringIO(), err_file=io.StringIO())
    assert ops_models(out, GeminiSettings(generation_model="gemini-2.0-flash"), KEY, base=api) == 1
    report = json.loads(out.file.getvalue())  # type: ignore[union-attr]
    [dead] = [m for m in report["models"] if not m["ok"]]
    assert dead["model"] == "gemini-2.0-flash" and "'gemini-3.5-flash'" in dead["message"]


def test_the_module_imports_only_the_standard_library() -> None:
    imported = {line.split()[1].split(".")[0] for line in CHECK_SCRIPT.read_text().splitlines()
                if line.startswith(("import ", "from ")) and not line.startswith("from __future__")}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
    assert gemini_check.__file__ == str(CHECK_SCRIPT)


def test_ops_models_from_the_command_line_with_the_env_key(api: str) -> None:
    """`python -m archivist_infra ops models dev --key-from-env`: no cluster needed, exit code by the result."""
    from tests.conftest import ROOT

    env = {**os.environ, "GEMINI_API_KEY": KEY}
    done = subprocess.run([sys.executable, "-m", "archivist_infra", "ops", "models", "dev", "--key-from-env",
                           "--api-base", api], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "ok: model 'gemini-3.5-flash' serves generateContent" in done.stdout
    env["GEMINI_API_KEY"] = "wrong"
    done = subprocess.run([sys.executable, "-m", "archivist_infra", "ops", "models", "dev", "--key-from-env",
                           "--api-base", api], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.startswith("error:")] == [
        "error: the Gemini API refused the key (HTTP 400: API key not valid. Please pass a valid API key.); set a "
        "valid one with `pulumi config set --secret archivist:geminiApiKey <key>`"]
    env.pop("GEMINI_API_KEY")
    done = subprocess.run([sys.executable, "-m", "archivist_infra", "ops", "models", "dev", "--key-from-env"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stderr.strip() == "error: --key-from-env: GEMINI_API_KEY is not set"
