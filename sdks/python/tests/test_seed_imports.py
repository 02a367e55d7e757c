"""The seed's code with the seed's import lines (``from .utils import ...``,
``from .logging_utils import ...``) in an app of its own, ``tests/seedapp``, whose
``utils.py`` and ``logging_utils.py`` are the README's one-line modules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tests.conftest import Capture
from tests.seedapp import views as seed_views

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def upstream(live_server: Any) -> Iterator[str]:
    url = f"{live_server.url}/api/echo/"
    previous = seed_views.UPSTREAM["url"]
    seed_views.UPSTREAM["url"] = url
    yield url
    seed_views.UPSTREAM["url"] = previous


def test_the_shim_modules_export_every_helper() -> None:
    from tests.seedapp import logging_utils, utils

    for module in (utils, logging_utils):
        for name in (
            "log_api_request",
            "log_database_operation",
            "log_user_action",
            "log_proxy_request",
            "log_external_request",
            "log_authentication_event",
        ):
            assert callable(getattr(module, name)), f"{module.__name__}.{name}"


def test_the_data_manager_example(capture: Capture) -> None:
    response = Client().post(
        "/seed/api/signup/",
        json.dumps({"username": "alice"}),
        content_type="application/json",
        HTTP_X_REQUEST_ID="req-seed-1",
    )
    assert response.status_code == 201
    api = capture.only(log_category="api_request", target=None)
    assert (api["action_type"], api["status_code"]) == ("USER_SIGNUP", 201)
    database = capture.only(log_category="database")
    assert (database["db_operation"], database["db_entity"], database["username"]) == (
        "USER_CREATE",
        "USER",
        "alice",
    )
    audit = capture.only(log_category="audit")
    assert (audit["user_action"], audit["user_id"], audit["user_name"]) == (
        "USER_CREATED",
        "7",
        "alice",
    )
    for event in (api, database, audit):
        assert event["request_id"] == "req-seed-1"


def test_the_proxy_example(capture: Capture, upstream: str) -> None:
    response = Client().post(
        "/seed/proxy/signup/", {"username": "alice"}, HTTP_X_REQUEST_ID="req-seed-2"
    )
    assert response.status_code == 200
    assert response.json()["request_id"] == "req-seed-2"
    call = capture.only(log_category="inter_service")
    assert (call["target_service"], call["target_url"], call["status_code"]) == (
        "access_postgresql",
        upstream,
        200,
    )
    proxy = capture.only(path="/seed/proxy/signup/", target=None)
    assert proxy["target_service"] == "access_postgresql"
    assert proxy["upstream_status_code"] == 200


def test_the_authentication_examples(capture: Capture) -> None:
    client = Client(REMOTE_ADDR="198.51.100.9")
    failed = client.post("/seed/api/login/", {"username": "alice", "password": "wrong"})
    assert failed.status_code == 401
    succeeded = client.post("/seed/api/login/", {"username": "alice", "password": "correct horse"})
    assert succeeded.status_code == 200
    failure = capture.only(log_category="audit", user_action="LOGIN_FAILED")
    assert (failure["success"], failure["username"], failure["reason"]) == (
        False,
        "alice",
        "invalid_password",
    )
    success = capture.only(log_category="audit", user_action="LOGIN_SUCCESS")
    assert (success["success"], success["user_id"], success["client_ip"]) == (
        True,
        "7",
        "198.51.100.9",
    )
