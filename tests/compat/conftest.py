"""Starts one Logfleet server per pytest session for the client compatibility tests.

The binary comes from $LOGFLEET_BIN; tests/logfleet_server.py starts it as
    $LOGFLEET_BIN serve --data-dir <tmp>/data --listen 127.0.0.1:<free port>
and considers it up once `GET /` answers 200. Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from logfleet_server import LogfleetServer, StartError, binary_from_env, free_port

# The running server, for the terminal summary on failures.
_server: LogfleetServer | None = None
# Where the running server takes OTLP/HTTP logs (`[inputs.otlp]`, set through the
# environment as LOGFLEET_INPUTS__OTLP__LISTEN).
_otlp_endpoint: str | None = None


@pytest.fixture(scope="session")
def logfleet_url(tmp_path_factory):
    """URL (http://127.0.0.1:PORT, no trailing slash) of a fresh Logfleet server."""
    global _server, _otlp_endpoint
    try:
        binary = binary_from_env()
    except ValueError as e:
        pytest.fail(str(e), pytrace=False)
    otlp_port = free_port()
    _otlp_endpoint = f"http://127.0.0.1:{otlp_port}/v1/logs"
    _server = LogfleetServer(
        binary,
        tmp_path_factory.mktemp("logfleet"),
        env={"LOGFLEET_INPUTS__OTLP__LISTEN": f"127.0.0.1:{otlp_port}"},
    )
    try:
        _server.start()
    except StartError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield _server.url
    finally:
        _server.stop()


@pytest.fixture(scope="session")
def otlp_endpoint(logfleet_url):
    """The OTLP/HTTP logs endpoint (http://127.0.0.1:PORT/v1/logs) of the session's server."""
    assert _otlp_endpoint is not None
    return _otlp_endpoint


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """On failures, show the end of the server log: it usually explains them."""
    if exitstatus == 0 or _server is None or not _server.log_path.exists():
        return
    terminalreporter.section(f"logfleet server log (tail of {_server.log_path})")
    terminalreporter.write_line(_server.log_tail())
