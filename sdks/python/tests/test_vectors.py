"""The shared SDK test vectors (tests/vectors/sdk): helper call in, exact event out.

The Rust SDK's `crates/sdk/tests/vectors.rs` reads the same files, so both SDKs write the
same field names, values, JSON types and field order. Only `@timestamp` and the fields a
vector lists in `random` (ids, durations and process figures measured at run time) are
checked for shape (and JSON type) instead of value.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import ResolverMatch

import logfleet
from logfleet import MemoryWriter, request_context, set_user
from logfleet.django import LogfleetMiddleware, log_api_request

VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors" / "sdk"
FILES = sorted((VECTORS / "events").glob("*.json"))
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _non_negative_float(value: Any) -> bool:
    return type(value) is float and value >= 0.0


def _positive_integer(value: Any) -> bool:
    return type(value) is int and value > 0


# What a field listed in a vector's `random` must look like, JSON type included.
RANDOM_SHAPES: dict[str, Callable[[Any], bool]] = {
    "span_id": lambda value: isinstance(value, str) and bool(_HEX16.match(value)),
    "parent_span_id": lambda value: isinstance(value, str) and bool(_HEX16.match(value)),
    "trace_id": lambda value: isinstance(value, str) and bool(_HEX32.match(value)),
    "request_id": lambda value: isinstance(value, str) and bool(_UUID.match(value)),
    "duration_ms": _non_negative_float,
    "cpu_percent": _non_negative_float,
    "requests_per_minute": _non_negative_float,
    "duration_ms_p50": _non_negative_float,
    "duration_ms_p95": _non_negative_float,
    "duration_ms_p99": _non_negative_float,
    "memory_rss_bytes": _positive_integer,
}

# The helpers whose events come from the SDK's own thread, found among the run's events by
# their message.
PERIODIC = {
    "performance_sample": "performance sample",
    "drop_report": "logfleet sdk dropped events",
}


def run(vector: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The events a vector's call writes, and the test upstream's address if it had one."""
    identity = json.loads((VECTORS / "identity.json").read_text())
    output = MemoryWriter()
    settings = {key.upper(): value for key, value in identity.items()}
    spec = vector["call"]
    helper = spec["helper"]
    if helper == "performance_sample":
        settings["PERFORMANCE_INTERVAL"] = 0.2
    else:
        settings["PERFORMANCE_INTERVAL"] = None
    if helper == "drop_report":
        settings.update(URL=f"http://{_closed_address()}", MAX_ATTEMPTS=2, INITIAL_BACKOFF=0.01)
        settings.update(DROP_REPORT_INTERVAL=0.1, BATCH_INTERVAL=0.01)
    sdk = logfleet.configure(settings, writer=output)
    try:
        context = vector.get("context")
        with _upstream(spec) as upstream:
            if context is None:
                call(spec, upstream)
            else:
                with request_context(
                    request_id=context["request_id"],
                    traceparent=context["traceparent"],
                    endpoint_signature=context["endpoint_signature"],
                    client_ip=context["client_ip"],
                ):
                    set_user(context["user"]["id"], context["user"]["name"])
                    call(spec, upstream)
        if helper in PERIODIC:
            return [_wait_for(output, PERIODIC[helper])], upstream
        assert sdk.flush(5)
        return output.events(), upstream
    finally:
        sdk.shutdown(1)


def _wait_for(output: MemoryWriter, message: str) -> dict[str, Any]:
    """The first event with this message, once the SDK's thread has written it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [event for event in output.events() if event["message"] == message]
        # A performance sample of the window that holds the requests.
        found = [
            event
            for event in found
            if event["message"] != "performance sample" or "duration_ms_p50" in event
        ]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no event {message!r} in {output.events()}")


def _closed_address() -> str:
    """An address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        host, port = probe.getsockname()
    return f"{host}:{port}"


class _Upstream(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"{}"
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _upstream(spec: dict[str, Any]) -> Iterator[str | None]:
    """For an inter-service call, a server answering with the vector's status."""
    if spec["helper"] != "inter_service":
        yield None
        return
    handler = type("Upstream", (_Upstream,), {"status": spec["status"]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def _api_request(spec: dict[str, Any]) -> None:
    """A request through the middleware to a view decorated with ``@log_api_request``,
    resolved to the vector's route (``{id}`` as Django's ``<id>``)."""
    user = spec.get("user")

    def handler(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if user is not None:
            set_user(user["id"], user["name"])
        return HttpResponse(spec.get("response_body", ""), status=spec["status"])

    action_type = spec.get("action_type")
    view = log_api_request(action_type=action_type)(handler)
    route = re.sub(r"\{([^}]+)\}", r"<\1>", spec["route"]).removeprefix("/")
    meta = {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in spec.get("headers", {}).items()
    }
    meta["REMOTE_ADDR"] = spec["peer"]
    body = spec.get("body")
    if body is not None:
        meta["CONTENT_TYPE"] = "application/json"
    request = RequestFactory().generic(
        spec["method"], spec["path"], data=(body or "").encode(), **meta
    )
    if body is None:
        request.META.pop("CONTENT_LENGTH", None)

    def get_response(request: HttpRequest) -> HttpResponse:
        # What Django's handler does before calling the view.
        request.resolver_match = ResolverMatch(view, (), {}, route=route)
        response: HttpResponse = view(request)
        return response

    LogfleetMiddleware(get_response)(request)


def call(spec: dict[str, Any], upstream: str | None = None) -> None:
    """The helper call a vector describes, written as a service would write it."""
    fields = dict(spec.get("fields", {}))
    user = spec.get("user")
    django_user = None if user is None else {"id": user["id"], "username": user["name"]}
    helper = spec["helper"]
    if helper == "log_database_operation":
        for key in ("db_action", "duration_ms", "rows_affected", "db_error"):
            if key in spec:
                fields[key] = spec[key]
        logfleet.log_database_operation(spec["operation"], spec["entity"], **fields)
    elif helper == "log_user_action":
        for key in ("target_entity", "session_id", "success"):
            if key in spec:
                fields[key] = spec[key]
        logfleet.log_user_action(spec["action"], django_user, **fields)
    elif helper == "log_authentication_event":
        for key in ("session_id", "session_duration_ms"):
            if key in spec:
                fields[key] = spec[key]
        logfleet.log_authentication_event(
            spec["event"],
            success=spec["success"],
            user=django_user,
            username=spec.get("username"),
            ip_address=spec.get("ip_address"),
            reason=spec.get("reason"),
            **fields,
        )
    elif helper == "api_request":
        _api_request(spec)
    elif helper == "inter_service":
        assert upstream is not None
        response = logfleet.log_external_request(
            spec["url"].replace("{upstream}", upstream),
            spec["method"],
            target_service=spec["target_service"],
            timeout=5,
        )
        assert response.status_code == spec["status"]
    elif helper == "performance_sample":
        for number in range(spec["requests"]):
            _api_request(
                {
                    "method": "GET",
                    "route": "/api/ping/",
                    "path": "/api/ping/",
                    "peer": "127.0.0.1",
                    "status": 200,
                    "response_body": str(number),
                }
            )
    elif helper == "drop_report":
        for number in range(spec["undeliverable"]):
            logfleet.log_event("undeliverable", sequence=number)
    elif helper == "log_event":
        logfleet.log_event(
            spec["message"], level=spec["level"], log_category=spec["log_category"], **fields
        )
    else:
        raise AssertionError(f"unknown helper {helper}")


def assert_same(actual: Any, expected: Any, path: str = "$") -> None:
    """Equal values of equal JSON types (an integer is not a float, nor a boolean)."""
    assert type(actual) is type(expected), f"{path}: {actual!r} is not {expected!r}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        for key, value in expected.items():
            assert_same(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for index, (item, expected_item) in enumerate(zip(actual, expected, strict=True)):
            assert_same(item, expected_item, f"{path}[{index}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def test_there_are_vectors() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_vector(path: Path) -> None:
    vector = json.loads(path.read_text())
    events, upstream = run(vector)
    assert len(events) == 1, events
    event = events[0]
    assert TIMESTAMP.match(event.pop("@timestamp"))
    expected = vector["expected"]
    if upstream is not None:
        expected = json.loads(json.dumps(expected).replace("{upstream}", upstream))
    for name in vector.get("random", []):
        assert name in event, f"{name} missing in {event}"
        assert RANDOM_SHAPES[name](event[name]), f"{name}: {event[name]!r}"
        if name in expected:
            # Its place and JSON type are the vector's; the value is the run's.
            assert RANDOM_SHAPES[name](expected[name]), f"{name} in the vector"
            event[name] = expected[name]
        else:
            event.pop(name)
    # Key order too: both SDKs write the schema's order.
    assert_same(event, expected)
