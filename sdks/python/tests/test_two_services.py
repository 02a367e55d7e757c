"""One request id end to end: a proxy view calls another service over real HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import AsyncClient, Client

from logfleet import request_context
from logfleet.django import log_external_request
from tests import views
from tests.conftest import Capture

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def upstream(live_server: Any) -> Iterator[str]:
    url = f"{live_server.url}/api/echo/"
    previous = views.UPSTREAM["url"]
    views.UPSTREAM["url"] = url
    yield url
    views.UPSTREAM["url"] = previous


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_proxy_and_upstream_share_the_request_id_and_trace(capture: Capture, upstream: str) -> None:
    response = Client().post(
        "/proxy/signup/", {"username": "alice"}, HTTP_X_REQUEST_ID="req-end-to-end"
    )
    assert response.status_code == 200
    # The seed's view returns the `requests` response; it is relayed as Django's.
    received = response.json()
    assert received["request_id"] == "req-end-to-end"

    proxy = capture.only(path="/proxy/signup/", target=None)
    call = capture.only(log_category="inter_service")
    downstream = capture.only(path="/api/echo/", target=None)
    downstream_line = capture.only(message="downstream handled")

    assert proxy["target_service"] == "access_postgresql"
    assert proxy["upstream_status_code"] == 200
    assert proxy["upstream_duration_ms"] > 0
    assert call["target_service"] == "access_postgresql"
    assert call["target_url"] == upstream
    assert call["http_method"] == "POST"
    assert call["status_code"] == 200
    assert call["response_category"] == "success"
    assert call["retry_count"] == 0
    assert call["duration_ms"] > 0
    assert call["parent_span_id"] == proxy["span_id"]
    assert call["span_id"] != proxy["span_id"]

    for event in (proxy, call, downstream, downstream_line):
        assert event["request_id"] == "req-end-to-end"
        assert event["trace_id"] == proxy["trace_id"]
    # The callee continues the caller's trace from the call's span.
    assert received["traceparent"] == f"00-{proxy['trace_id']}-{call['span_id']}-01"
    assert downstream["parent_span_id"] == call["span_id"]
    assert downstream_line["span_id"] == downstream["span_id"]


def test_drf_proxy_view(capture: Capture, upstream: str) -> None:
    response = Client().post(
        "/proxy/api/signup/", {"username": "bob"}, content_type="application/json"
    )
    assert response.status_code == 200
    proxy = capture.only(path="/proxy/api/signup/", target=None)
    assert proxy["action_type"] == "USER_SIGNUP_PROXY"
    assert proxy["target_service"] == "access_postgresql"
    downstream = capture.only(path="/api/echo/", target=None)
    assert downstream["request_id"] == proxy["request_id"]


async def test_async_proxy_view(capture: Capture, upstream: str) -> None:
    response = await AsyncClient().get("/proxy/async/", headers={"X-Request-ID": "req-async-p"})
    assert response.status_code == 200
    call = capture.only(log_category="inter_service")
    assert call["request_id"] == "req-async-p"
    assert capture.only(path="/api/echo/", target=None)["request_id"] == "req-async-p"


def test_unreachable_upstream_becomes_a_bad_gateway(capture: Capture) -> None:
    views.UPSTREAM["url"] = f"http://127.0.0.1:{_closed_port()}/api/signup/"
    response = Client().post("/proxy/signup/", {"username": "carol"})
    assert response.status_code == 502
    assert response.json() == {
        "error": "UpstreamUnavailable",
        "message": "access_postgresql is unavailable",
    }
    call = capture.only(log_category="inter_service")
    assert call["error_type"] == "connection_refused"
    assert call["level"] == "error"
    assert "status_code" not in call
    assert call["message"].endswith("failed: connection_refused")
    proxy = capture.only(path="/proxy/signup/", target=None)
    assert proxy["status_code"] == 502
    assert proxy["upstream_error_type"] == "connection_refused"
    assert proxy["error_type"] == "UpstreamUnavailable"
    assert proxy["error_message"].startswith("access_postgresql is unavailable: ")


def test_external_request_outside_a_request_and_with_errors(
    capture: Capture, upstream: str
) -> None:
    response = log_external_request(
        upstream.replace("/api/echo/", "/nowhere/") + "?token=abc",
        "get",
        target_service="catalog",
        headers={"X-Request-ID": "caller-chosen"},
    )
    assert response.status_code == 404
    call = capture.only(log_category="inter_service")
    assert call["target_service"] == "catalog"
    assert "?" not in call["target_url"], "no query string in the logs"
    assert call["request_id"] == "caller-chosen" or len(call["request_id"]) == 36
    assert call["error_type"] == "http_404"
    assert call["error_message"] == "Not Found"
    assert call["level"] == "warning"
    assert "parent_span_id" not in call


def test_timeouts_are_classified(capture: Capture) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with request_context(request_id="req-timeout"), pytest.raises(requests.Timeout):
            log_external_request(f"http://127.0.0.1:{port}/slow", "GET", timeout=0.2)
    call = capture.only(log_category="inter_service")
    assert call["error_type"] == "timeout"
    assert call["request_id"] == "req-timeout"
