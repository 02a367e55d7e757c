"""Starts and stops the real Logfleet binary for the Python suites (tests/compat, tests/tools).

The binary is started as
    <binary> serve --data-dir <workdir>/data --listen 127.0.0.1:<free port>
and is considered up once `GET /` answers 200; it is stopped with SIGTERM, then SIGKILL.
Standard library only, so that every suite's venv can import it.
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

STARTUP_TIMEOUT_S = 30.0
SHUTDOWN_GRACE_S = 10.0
LOG_TAIL_LINES = 60


class StartError(RuntimeError):
    """The server exited or did not answer in time; the message holds its log's tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        return f"<could not read {path}: {e}>"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "<empty log>"


def binary_from_env() -> str:
    """The absolute path in $LOGFLEET_BIN, or a ValueError saying what is wrong with it."""
    binary = os.environ.get("LOGFLEET_BIN")
    if not binary:
        raise ValueError("LOGFLEET_BIN is not set: point it at the logfleet binary")
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        raise ValueError(f"LOGFLEET_BIN={binary} is not an executable file")
    return binary


def _root_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        return False


class LogfleetServer:
    """One server process with its own data directory under `workdir`.

    `url` is http://127.0.0.1:PORT without a trailing slash; `log_path` holds its output.
    """

    def __init__(self, binary: str, workdir: Path, env: dict[str, str] | None = None):
        self.binary = binary
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, **(env or {}))
        self.cmd = [
            binary, "serve", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}",
        ]
        self._proc: subprocess.Popen | None = None

    def start(self) -> LogfleetServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                self.cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                env=self.env,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _root_answers(self.url):
            if self._proc.poll() is not None:
                raise StartError(
                    f"logfleet exited with code {self._proc.returncode} during start-up\n"
                    f"command: {' '.join(self.cmd)}\n{self._tail_section()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise StartError(
                    f"logfleet did not answer GET / with 200 within {STARTUP_TIMEOUT_S:.0f}s\n"
                    f"command: {' '.join(self.cmd)}\n{self._tail_section()}"
                )
            time.sleep(0.2)
        return self

    def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=SHUTDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=SHUTDOWN_GRACE_S)

    def log_tail(self) -> str:
        return log_tail(self.log_path)

    def _tail_section(self) -> str:
        return f"--- tail of {self.log_path} ---\n{self.log_tail()}"
