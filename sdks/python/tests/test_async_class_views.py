"""Django's async class-based views with ``@log_api_request`` on their handlers, under the
async (ASGI) and sync (WSGI) stacks, with and without the middleware.

DRF's ``APIView`` has no async handlers (DRF 3.18 calls them without awaiting), so there is
no DRF case here; DRF's sync views are covered in ``test_middleware.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.test import AsyncClient, Client, override_settings

from tests.conftest import Capture

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_request_errors() -> Iterator[None]:
    # Django logs a 500's traceback; the test reads the event instead.
    logger = logging.getLogger("django.request")
    logger.disabled = True
    yield
    logger.disabled = False


def _assert_profile_read(capture: Capture, request_id: str) -> None:
    event = capture.only(log_category="api_request", target=None)
    assert event["action_type"] == "PROFILE_READ_ASYNC"
    assert event["http_method"] == "GET"
    assert event["path"] == "/api/async/profiles/5/"
    assert event["endpoint_signature"] == "GET /api/async/profiles/{pk}/"
    assert event["status_code"] == 200
    assert event["response_category"] == "success"
    assert event["request_id"] == request_id
    # The view's own events, across its awaits, carry the request.
    database = capture.only(log_category="database")
    assert (database["request_id"], database["endpoint_signature"]) == (
        request_id,
        "GET /api/async/profiles/{pk}/",
    )
    assert capture.only(message="async profile 5")["request_id"] == request_id


async def test_async_class_view_under_the_async_middleware(capture: Capture) -> None:
    response = await AsyncClient().get(
        "/api/async/profiles/5/", headers={"X-Request-ID": "req-async-cbv"}
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-async-cbv"
    _assert_profile_read(capture, "req-async-cbv")


def test_async_class_view_under_wsgi(capture: Capture) -> None:
    # Django runs the async handler in an event loop of its own; the context goes with it.
    response = Client().get("/api/async/profiles/5/", HTTP_X_REQUEST_ID="req-wsgi-cbv")
    assert response.status_code == 200
    _assert_profile_read(capture, "req-wsgi-cbv")


async def test_async_class_view_failure_is_recorded(
    capture: Capture, quiet_request_errors: None
) -> None:
    response = await AsyncClient(raise_request_exception=False).delete("/api/async/profiles/3/")
    assert response.status_code == 500
    event = capture.only(log_category="api_request", target=None)
    assert event["action_type"] == "PROFILE_DELETE_ASYNC"
    assert event["level"] == "error"
    assert event["status_code"] == 500
    assert event["error_type"] == "PermissionError"
    assert event["error_message"] == "profile 3 is locked"


@override_settings(MIDDLEWARE=[])
async def test_async_class_view_without_the_middleware_logs_itself(capture: Capture) -> None:
    response = await AsyncClient().get(
        "/api/async/profiles/5/", headers={"X-Request-ID": "req-standalone-cbv"}
    )
    assert response.status_code == 200
    event = capture.only(log_category="api_request", target=None)
    assert event["action_type"] == "PROFILE_READ_ASYNC"
    assert event["request_id"] == "req-standalone-cbv"
    assert event["status_code"] == 200
    assert capture.only(log_category="database")["request_id"] == "req-standalone-cbv"
