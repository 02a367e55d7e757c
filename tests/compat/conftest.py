"""Starts one Logfleet server per pytest session for the client compatibility tests.

The binary comes from $LOGFLEET_BIN; it is started as
    $LOGFLEET_BIN serve --data-dir <tmp>/data --listen 127.0.0.1:<free port>
and is considered up once `GET /` answers 200. Standard library only.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_GRACE_S = 10.0
LOG_TAIL_LINES = 60

# Path of the running server's log, for the terminal summary on failures.
_server_log: Path | None = None
# Where the running server takes OTLP/HTTP logs (`[inputs.otlp]`, set through the
# environment as LOGFLEET_INPUTS__OTLP__LISTEN).
_otlp_endpoint: str | None = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        return f"<could not read {path}: {e}>"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "<empty log>"


def _root_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=SHUTDOWN_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=SHUTDOWN_GRACE_S)


@pytest.fixture(scope="session")
def logfleet_url(tmp_path_factory):
    """URL (http://127.0.0.1:PORT, no trailing slash) of a fresh Logfleet server."""
    global _server_log
    binary = os.environ.get("LOGFLEET_BIN")
    if not binary:
        pytest.fail("LOGFLEET_BIN is not set: point it at the logfleet binary", pytrace=False)
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        pytest.fail(f"LOGFLEET_BIN={binary} is not an executable file", pytrace=False)

    workdir = tmp_path_factory.mktemp("logfleet")
    data_dir = workdir / "data"
    data_dir.mkdir()
    log_path = workdir / "server.log"
    _server_log = log_path
    global _otlp_endpoint
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [binary, "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"]
    otlp_port = _free_port()
    _otlp_endpoint = f"http://127.0.0.1:{otlp_port}/v1/logs"
    env = dict(os.environ, LOGFLEET_INPUTS__OTLP__LISTEN=f"127.0.0.1:{otlp_port}")

    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"logfleet exited with code {proc.returncode} during start-up\n"
                    f"command: {' '.join(cmd)}\n--- tail of {log_path} ---\n{_log_tail(log_path)}",
                    pytrace=False,
                )
            if _root_answers(url):
                break
            if time.monotonic() > deadline:
                _stop(proc)
                pytest.fail(
                    f"logfleet did not answer GET / with 200 within {STARTUP_TIMEOUT_S:.0f}s\n"
                    f"command: {' '.join(cmd)}\n--- tail of {log_path} ---\n{_log_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def otlp_endpoint(logfleet_url):
    """The OTLP/HTTP logs endpoint (http://127.0.0.1:PORT/v1/logs) of the session's server."""
    assert _otlp_endpoint is not None
    return _otlp_endpoint


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """On failures, show the end of the server log: it usually explains them."""
    if exitstatus == 0 or _server_log is None or not _server_log.exists():
        return
    terminalreporter.section(f"logfleet server log (tail of {_server_log})")
    terminalreporter.write_line(_log_tail(_server_log))
