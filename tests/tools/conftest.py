"""Fixtures for the third-party tool tests: a fresh Logfleet per test, behind a recorder.

Each test gets its own server (tests/logfleet_server.py: $LOGFLEET_BIN on a free port with
a new data directory) and a RecordingProxy in front of it. Tools are pointed at the proxy,
the test's own checks go straight to the server, so that when a test fails its report
lists exactly the requests the tool sent that Logfleet answered with an error, followed by
the whole exchange of the tool with Logfleet and the tail of the server log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from http_recorder import RecordingProxy
from logfleet_server import LogfleetServer, StartError, binary_from_env

TOOL_TIMEOUT_S = 180
OUTPUT_TAIL_CHARS = 6000


class Logfleet:
    """The server under test: `url` for tools (through the recorder), `direct_url` for checks."""

    def __init__(self, server: LogfleetServer, proxy: RecordingProxy, workdir: Path):
        self.server = server
        self.proxy = proxy
        self.workdir = workdir
        self.url = proxy.url
        self.port = proxy.port
        self.direct_url = server.url

    def request(self, method: str, path: str, body=None, ndjson: bool = False):
        """(status, parsed JSON answer or None) of a request sent straight to the server."""
        data = None
        headers = {}
        if body is not None:
            if ndjson:
                data = "".join(json.dumps(line) + "\n" for line in body).encode()
                headers["Content-Type"] = "application/x-ndjson"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.direct_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw.strip() else None)

    def ok(self, method: str, path: str, body=None, ndjson: bool = False):
        status, answer = self.request(method, path, body, ndjson)
        assert 200 <= status < 300, f"{method} {path} -> {status}: {answer}"
        return answer

    def refresh(self, index: str = "_all") -> None:
        self.ok("POST", f"/{index}/_refresh")

    def bulk_index(self, index: str, docs: list[dict], ids: list[str] | None = None) -> None:
        lines = []
        for i, doc in enumerate(docs):
            action = {"_index": index}
            if ids is not None:
                action["_id"] = ids[i]
            lines += [{"index": action}, doc]
        answer = self.ok("POST", "/_bulk?refresh=true", lines, ndjson=True)
        assert answer["errors"] is False, answer

    def indices(self) -> set[str]:
        """Names of the existing indices (hidden ones and data streams' backing ones left out)."""
        answer = self.ok("GET", "/_cat/indices?format=json&h=index")
        return {row["index"] for row in answer}

    def search_all(self, index: str, size: int = 1000) -> list[dict]:
        answer = self.ok("POST", f"/{index}/_search", {"size": size, "query": {"match_all": {}}})
        return answer["hits"]["hits"]


def run_tool(cmd: list[str], *, timeout: float = TOOL_TIMEOUT_S, env: dict | None = None,
             cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Runs a tool to completion; with `check`, a non-zero exit fails the test with its output."""
    result = subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{Path(str(cmd[0])).name} exited with {result.returncode}\n"
            f"command: {' '.join(str(c) for c in cmd)}\n"
            f"--- stdout ---\n{result.stdout[-OUTPUT_TAIL_CHARS:]}\n"
            f"--- stderr ---\n{result.stderr[-OUTPUT_TAIL_CHARS:]}",
            pytrace=False,
        )
    return result


def venv_bin(name: str) -> Path:
    """A console script installed beside the running interpreter (the suite's venv)."""
    return Path(sys.executable).parent / name


@pytest.fixture
def logfleet(tmp_path, request):
    try:
        binary = binary_from_env()
    except ValueError as e:
        pytest.fail(str(e), pytrace=False)
    workdir = tmp_path / "logfleet"
    workdir.mkdir()
    server = LogfleetServer(binary, workdir)
    try:
        server.start()
    except StartError as e:
        pytest.fail(str(e), pytrace=False)
    proxy = RecordingProxy(server.port).start()
    instance = Logfleet(server, proxy, workdir)
    request.node._logfleet = instance
    try:
        yield instance
    finally:
        proxy.stop()
        server.stop()
        # LOGFLEET_TOOLS_TRANSCRIPTS=<dir> keeps every test's exchange, passing ones too.
        keep = os.environ.get("LOGFLEET_TOOLS_TRANSCRIPTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
            (Path(keep) / f"{name}.txt").write_text(proxy.transcript(limit=20000), encoding="utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failed test, attach what the tool and Logfleet said to each other."""
    outcome = yield
    report = outcome.get_result()
    instance: Logfleet | None = getattr(item, "_logfleet", None)
    if instance is None or report.when != "call" or not report.failed:
        return
    errors = instance.proxy.errors()
    transcript_path = instance.workdir / "transcript.txt"
    transcript_path.write_text(instance.proxy.transcript(limit=20000), encoding="utf-8")
    summary = "\n\n".join(e.describe() for e in errors) or "<none: every request got a 2xx/3xx answer>"
    report.sections.append(("requests Logfleet answered with >= 400", summary))
    report.sections.append((
        f"every request of the tool (full bodies in {transcript_path})",
        instance.proxy.transcript(limit=300)[-OUTPUT_TAIL_CHARS * 2:],
    ))
    report.sections.append(("logfleet server log (tail)", instance.server.log_tail()))
