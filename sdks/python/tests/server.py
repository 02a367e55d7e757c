"""The real `logfleet` binary, started for a test: ``$LOGFLEET_BIN serve`` on a free port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

STARTUP_TIMEOUT = 30.0


def binary() -> str | None:
    """``$LOGFLEET_BIN``, else the shared build's debug binary, if it exists."""
    candidate = os.environ.get("LOGFLEET_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/logfleet-target")),
        "debug",
        "logfleet",
    )
    return candidate if os.access(candidate, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process; :meth:`stop` and :meth:`start` again keep its data and port."""

    def __init__(self, executable: str, port: int | None = None) -> None:
        self.executable = executable
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = Path(tempfile.mkdtemp(prefix="logfleet-pysdk-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        log = open(self.workdir / "server.log", "ab")  # noqa: SIM115 - the child keeps it
        # Only what the server needs: the SDK's LOGFLEET_* variables are not the server's.
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("LOGFLEET_")
        }
        self.process = subprocess.Popen(
            [
                self.executable,
                "serve",
                "--data-dir",
                str(self.workdir / "data"),
                "--listen",
                f"127.0.0.1:{self.port}",
                "--refresh-interval",
                "100ms",
                "--log-level",
                "warn",
            ],
            stdout=log,
            stderr=log,
            env=environment,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"logfleet exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.05)
        raise RuntimeError(f"logfleet did not start: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self) -> str:
        try:
            return (self.workdir / "server.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def search(self, query: dict[str, Any], size: int = 10_000) -> list[dict[str, Any]]:
        """The ``_source`` of every event matching ``query``, after a refresh."""
        self._post("/logs-*/_refresh", {})
        answer = self._post("/logs-*/_search", {"query": query, "size": size})
        return [hit["_source"] for hit in answer["hits"]["hits"]]

    def wait_for(
        self, query: dict[str, Any], count: int, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """Events matching ``query`` once there are at least ``count`` (or the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.search(query)
            if len(events) >= count or time.monotonic() > deadline:
                return events
            time.sleep(0.1)
