"""The middleware and the view decorators: sync and async, plain Django and DRF."""

from __future__ import annotations

import base64
import logging

import pytest
from django.contrib.auth.models import User
from django.test import AsyncClient, Client, RequestFactory

from logfleet.django.middleware import route_template
from tests import views
from tests.conftest import Capture

pytestmark = pytest.mark.django_db

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_drf_view_event_has_every_api_request_field(capture: Capture) -> None:
    response = Client().post(
        "/api/signup/",
        {"username": "alice", "password": "a long password"},
        content_type="application/json",
        HTTP_USER_AGENT="pytest-agent/1.0",
        HTTP_X_REQUEST_ID="req-signup-1",
        HTTP_TRACEPARENT=TRACEPARENT,
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-signup-1"
    event = capture.only(log_category="api_request", path="/api/signup/", target=None)
    assert event["level"] == "info"
    assert event["message"] == "POST /api/signup/ 201"
    assert event["action_type"] == "USER_SIGNUP"
    assert event["http_method"] == "POST"
    assert event["endpoint_signature"] == "POST /api/signup/"
    assert event["status_code"] == 201
    assert event["response_category"] == "success"
    assert isinstance(event["duration_ms"], float) and event["duration_ms"] > 0
    assert event["request_size"] == len(b'{"username": "alice", "password": "a long password"}')
    assert event["response_size"] == len(response.content)
    assert event["client_ip"] == "127.0.0.1"
    assert event["user_agent"] == "pytest-agent/1.0"
    assert event["request_id"] == "req-signup-1"
    assert event["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert event["parent_span_id"] == "b7ad6b7169203331"
    assert len(event["span_id"]) == 16 and event["span_id"] != "b7ad6b7169203331"
    assert "error_type" not in event

    # Every event of the request shares its context; the password never appears.
    database = capture.only(log_category="database")
    audit = capture.only(log_category="audit")
    log_line = capture.only(message="signed up alice")
    for inner in (database, audit, log_line):
        assert inner["request_id"] == "req-signup-1"
        assert inner["trace_id"] == event["trace_id"]
        assert inner["span_id"] == event["span_id"]
        assert inner["endpoint_signature"] == "POST /api/signup/"
    assert database["username"] == "alice"
    assert audit["user_action"] == "USER_CREATED"
    assert audit["user_name"] == "alice"
    assert log_line["plan"] == "free"
    assert log_line["target"] == "tests.views"
    assert "a long password" not in capture.output.lines().__str__()


def test_drf_validation_error_is_described(capture: Capture) -> None:
    response = Client().post(
        "/api/signup/", {"username": "bob", "password": "short"}, content_type="application/json"
    )
    assert response.status_code == 400
    event = capture.only(log_category="api_request", target=None)
    assert event["level"] == "warning"
    assert event["response_category"] == "client_error"
    assert event["error_type"] == "ValidationError"
    assert "password" in event["error_message"]
    assert "ErrorDetail" not in event["error_message"]


def test_drf_user_is_read_after_authentication(capture: Capture) -> None:
    User.objects.create_user("dave", password="dave's password")
    credentials = base64.b64encode(b"dave:dave's password").decode()
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.json() == {"username": "dave"}
    event = capture.only(log_category="api_request", http_method="GET")
    assert event["user_name"] == "dave"
    assert event["user_id"] == str(User.objects.get(username="dave").pk)
    # The log line inside the view came after DRF authenticated.
    assert capture.only(message="profile read")["user_name"] == "dave"
    assert credentials not in str(capture.output.lines())


def test_session_user_of_plain_django_views(capture: Capture) -> None:
    user = User.objects.create_user("erin", password="erin's password")
    client = Client()
    client.force_login(user)
    client.get("/api/users/5/")
    event = capture.only(log_category="api_request", target=None)
    assert (event["user_id"], event["user_name"]) == (str(user.pk), "erin")


def test_plain_function_view_with_a_route_template(capture: Capture) -> None:
    response = Client().get("/api/users/7/")
    assert response.status_code == 200
    event = capture.only(log_category="api_request", target=None)
    assert event["endpoint_signature"] == "GET /api/users/{pk}/"
    assert event["path"] == "/api/users/7/"
    assert event["message"] == "GET /api/users/{pk}/ 200"
    assert event["action_type"] == "USER_READ"
    assert len(event["request_id"]) == 36, "a new request id when none came"
    assert response["X-Request-ID"] == event["request_id"]
    assert capture.only(log_category="database")["user_pk"] == 7


def test_class_based_view_and_regex_routes(capture: Capture) -> None:
    assert Client().post("/api/profiles/12/").status_code == 204
    event = capture.only(log_category="api_request", target=None)
    assert event["endpoint_signature"] == "POST /api/profiles/{pk}/"
    assert event["action_type"] == "PROFILE_UPDATE"


async def test_async_view_under_the_async_middleware(capture: Capture) -> None:
    response = await AsyncClient().get("/api/async/users/3/", headers={"X-Request-ID": "req-async"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-async"
    event = capture.only(log_category="api_request", target=None)
    assert event["action_type"] == "USER_READ_ASYNC"
    assert event["endpoint_signature"] == "GET /api/async/users/{pk}/"
    assert event["request_id"] == "req-async"
    assert capture.only(log_category="database")["request_id"] == "req-async"
    warning = capture.only(message="async view 3")
    assert (warning["level"], warning["request_id"]) == ("warning", "req-async")


async def test_sync_views_under_asgi_keep_the_context(capture: Capture) -> None:
    await AsyncClient().get("/api/users/9/", headers={"X-Request-ID": "req-asgi-sync"})
    assert capture.only(log_category="database")["request_id"] == "req-asgi-sync"
    assert capture.only(log_category="api_request", target=None)["status_code"] == 200


def test_server_errors_carry_the_exception(capture: Capture) -> None:
    logging.getLogger("django.request").disabled = True
    try:
        response = Client(raise_request_exception=False).get("/api/explode/")
    finally:
        logging.getLogger("django.request").disabled = False
    assert response.status_code == 500
    event = capture.only(log_category="api_request", target=None)
    assert event["level"] == "error"
    assert event["response_category"] == "server_error"
    assert event["error_type"] == "RuntimeError"
    assert event["error_message"] == "database connection pool exhausted"
    assert event["action_type"] == "EXPLODE"


def test_not_found_is_a_client_error_with_the_reason(capture: Capture) -> None:
    assert Client().get("/nowhere/").status_code == 404
    event = capture.only(log_category="api_request", target=None)
    assert event["error_type"] == "not_found"
    assert event["error_message"] == "Not Found"
    assert event["message"] == "GET /nowhere/ 404"
    assert "endpoint_signature" not in event


def test_authentication_events_from_a_view(capture: Capture) -> None:
    User.objects.create_user("frank", password="correct horse")
    Client().post("/api/login/", {"username": "frank", "password": "wrong"})
    Client().post("/api/login/", {"username": "frank", "password": "correct horse"})
    failed = capture.only(user_action="LOGIN_FAILED")
    assert failed["reason"] == "invalid_password"
    assert failed["client_ip"] == "127.0.0.1", "the request's address by default"
    assert capture.only(user_action="LOGIN_SUCCESS")["user_name"] == "frank"
    assert "correct horse" not in str(capture.output.lines())


def test_forwarded_for_only_from_trusted_proxies(capture: Capture) -> None:
    Client(REMOTE_ADDR="10.0.0.2").get(
        "/api/users/1/", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7, 10.0.0.9"
    )
    Client(REMOTE_ADDR="203.0.113.9").get("/api/users/2/", HTTP_X_FORWARDED_FOR="1.2.3.4")
    Client(REMOTE_ADDR="::ffff:10.0.0.3").get("/api/users/3/", HTTP_X_FORWARDED_FOR="garbage")
    assert capture.only(path="/api/users/1/")["client_ip"] == "198.51.100.7"
    assert capture.only(path="/api/users/2/")["client_ip"] == "203.0.113.9"
    assert capture.only(path="/api/users/3/")["client_ip"] == "10.0.0.3"


def test_health_checks_are_skipped(capture: Capture) -> None:
    Client().get("/healthz")
    Client().get("/internal/metrics")
    Client().get("/api/users/4/")
    assert [event.get("path") for event in capture.events()] == [None, "/api/users/4/"]


def test_invalid_incoming_ids_are_replaced(capture: Capture) -> None:
    Client().get("/api/users/1/", HTTP_X_REQUEST_ID="has spaces", HTTP_TRACEPARENT="garbage")
    event = capture.only(log_category="api_request", target=None)
    assert event["request_id"] != "has spaces"
    assert "parent_span_id" not in event
    assert len(event["trace_id"]) == 32


def test_decorator_without_the_middleware_logs_the_request(capture: Capture) -> None:
    request = RequestFactory().get("/api/users/8/", HTTP_X_REQUEST_ID="req-standalone")
    response = views.user_detail(request, pk=8)
    assert response["X-Request-ID"] == "req-standalone"
    event = capture.only(log_category="api_request", target=None)
    assert event["action_type"] == "USER_READ"
    assert event["status_code"] == 200
    assert capture.only(log_category="database")["request_id"] == "req-standalone"


def test_decorator_without_the_middleware_records_a_raised_error(capture: Capture) -> None:
    with pytest.raises(RuntimeError):
        views.explode(RequestFactory().get("/api/explode/"))
    event = capture.only(log_category="api_request", target=None)
    assert (event["status_code"], event["error_type"]) == (500, "RuntimeError")


@pytest.mark.parametrize(
    ("route", "template"),
    [
        ("api/users/<int:pk>/", "/api/users/{pk}/"),
        ("api/<slug>/x", "/api/{slug}/x"),
        (r"^api/(?P<year>[0-9]{4})/(?P<slug>[\w-]+)/$", "/api/{year}/{slug}/"),
        ("", "/"),
    ],
)
def test_route_templates(route: str, template: str) -> None:
    assert route_template(route) == template
