"""One request id end to end across two processes: the example proxy (user_service) and the
example data manager (access_postgresql), each a gunicorn server of its own with its own SDK,
writing its events to its own stdout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.server import free_port

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    url: str
    output: Path
    log: Path

    def stop(self) -> list[dict[str, Any]]:
        """Stops the server (its workers flush at exit) and returns the events it wrote."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        lines = self.output.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def _start(settings: str, tmp_path: Path, environment: dict[str, str]) -> Service:
    port = free_port()
    name = settings.partition(".")[0]
    output, log = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.log"
    with output.open("wb") as stdout, log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                f"{name}.wsgi:application",
            ],
            cwd=EXAMPLES,
            env={**environment, "DJANGO_SETTINGS_MODULE": settings},
            stdout=stdout,
            stderr=stderr,
        )
    service = Service(process, f"http://127.0.0.1:{port}", output, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{service.url}/api/health/", timeout=2):
                return service
        except (OSError, urllib.error.URLError):
            if process.poll() is not None or time.monotonic() > deadline:
                service.stop()
                raise AssertionError(f"{name} did not start: {log.read_text()}") from None
            time.sleep(0.1)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[tuple[Service, Service]]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("LOGFLEET_")
    }
    environment.update(
        PYTHONDONTWRITEBYTECODE="1",
        ACCESS_POSTGRESQL_DATABASE=str(tmp_path / "data.sqlite3"),
        # No server: each service writes its events to its stdout.
        LOGFLEET_STDOUT="1",
        LOGFLEET_PERFORMANCE_INTERVAL="3600",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=EXAMPLES,
        env={**environment, "DJANGO_SETTINGS_MODULE": "access_postgresql.settings"},
        check=True,
    )
    data_manager = _start("access_postgresql.settings", tmp_path, environment)
    environment["DATA_MANAGER_URL"] = data_manager.url
    try:
        proxy = _start("user_service.settings", tmp_path, environment)
    except BaseException:
        data_manager.stop()
        raise
    yield proxy, data_manager
    proxy.stop()
    data_manager.stop()


def _only(events: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [event for event in events if all(event.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} events match {match}: {events}"
    return found[0]


def test_one_request_id_across_two_processes(services: tuple[Service, Service]) -> None:
    proxy, data_manager = services
    body = json.dumps(
        {"username": "alice_e2e", "email": "alice@example.com", "password": "long enough"}
    ).encode()
    request = urllib.request.Request(
        f"{proxy.url}/api/signup/",
        data=body,
        headers={"Content-Type": "application/json", "X-Request-ID": "req-two-processes"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        assert response.headers["X-Request-ID"] == "req-two-processes"
    proxy_pid, data_manager_pid = proxy.process.pid, data_manager.process.pid
    assert proxy_pid != data_manager_pid
    proxy_events = [e for e in proxy.stop() if e.get("request_id") == "req-two-processes"]
    data_events = [e for e in data_manager.stop() if e.get("request_id") == "req-two-processes"]

    # The proxy: its request, and its call to the data manager.
    proxy_request = _only(proxy_events, log_category="api_request", path="/api/signup/")
    call = _only(proxy_events, log_category="inter_service")
    assert proxy_request["app_name"] == call["app_name"] == "user_service"
    assert proxy_request["target_service"] == "access_postgresql"
    assert proxy_request["upstream_status_code"] == 201
    assert (call["target_url"], call["status_code"]) == (f"{data_manager.url}/api/signup/", 201)
    assert call["parent_span_id"] == proxy_request["span_id"]

    # The data manager: its request, the query and the audit event, in the same request.
    data_request = _only(data_events, log_category="api_request")
    assert data_request["app_name"] == "access_postgresql"
    assert data_request["action_type"] == "USER_SIGNUP"
    assert data_request["status_code"] == 201
    assert any(event["log_category"] == "database" for event in data_events)
    assert _only(data_events, log_category="audit", user_action="USER_CREATED")
    # It continues the call's span: the trace runs through both processes.
    assert data_request["parent_span_id"] == call["span_id"]
    trace_ids = {event["trace_id"] for event in proxy_events + data_events}
    assert trace_ids == {proxy_request["trace_id"]}
