"""Every helper and every field it writes, read back from the SDK's output."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import logfleet
from logfleet import MemoryWriter, request_context, set_user, timed_database_operation
from logfleet.django import (
    log_authentication_event,
    log_database_operation,
    log_event,
    log_user_action,
)
from logfleet.helpers import infer_db_action, user_fields
from tests.conftest import Capture

IDENTITY = {
    "app_name": "user_service",
    "service_type": "proxy_service",
    "environment": "test",
    "host": "test-host",
    "service_version": "9.9.9",
}


class FakeUser:
    pk = 42
    is_authenticated = True

    def get_username(self) -> str:
        return "alice"


def test_database_operation_with_every_field(capture: Capture) -> None:
    log_database_operation(
        "USER_CREATE", "USER", username="alice", duration_ms=12.5, rows_affected=1
    )
    event = capture.only(db_operation="USER_CREATE")
    assert {key: event[key] for key in IDENTITY} == IDENTITY
    assert event["log_category"] == "database"
    assert event["level"] == "info"
    assert event["message"] == "database USER_CREATE on USER"
    assert event["db_entity"] == "USER"
    assert event["db_action"] == "create"
    assert event["duration_ms"] == 12.5
    assert isinstance(event["duration_ms"], float)
    assert event["rows_affected"] == 1
    assert event["slow_query"] is False
    assert event["username"] == "alice"
    assert "request_id" not in event, "outside a request there is no request context"


def test_database_operation_as_the_seed_writes_it(capture: Capture) -> None:
    log_database_operation("USER_CREATE", "USER", username="bob")
    event = capture.only(username="bob")
    assert event["db_action"] == "create"
    # Not timed: no duration and so no verdict on slowness.
    assert "duration_ms" not in event
    assert "slow_query" not in event


def test_slow_and_failed_database_operations(capture: Capture) -> None:
    log_database_operation("REPORT_READ", "REPORT", duration_ms=1500.0)
    log_database_operation("USER_DELETE", "USER", db_error="deadlock detected")
    slow = capture.only(db_operation="REPORT_READ")
    assert slow["slow_query"] is True
    assert slow["level"] == "warning"
    assert slow["message"] == "slow database REPORT_READ on REPORT"
    failed = capture.only(db_operation="USER_DELETE")
    assert failed["level"] == "error"
    assert failed["db_error"] == "deadlock detected"
    assert failed["db_action"] == "delete"
    assert failed["message"] == "database USER_DELETE on USER failed"


def test_slow_query_threshold_is_configurable() -> None:
    output = MemoryWriter()
    sdk = logfleet.configure(writer=output, slow_query_threshold_ms=10)
    try:
        log_database_operation("USER_READ", "USER", duration_ms=11.0)
        assert sdk.flush(5)
        assert output.events()[0]["slow_query"] is True
    finally:
        sdk.shutdown(1)


def test_timed_database_operation_measures_and_flags(capture: Capture) -> None:
    with timed_database_operation("USER_READ", "USER", username="alice") as query:
        time.sleep(0.02)
        query.rows_affected = 3
    with (
        pytest.raises(ValueError, match="no such table"),
        timed_database_operation("USER_UPDATE", "USER"),
    ):
        raise ValueError("no such table: users")
    read = capture.only(db_operation="USER_READ")
    assert read["duration_ms"] >= 20.0
    assert read["rows_affected"] == 3
    assert read["slow_query"] is False
    assert read["db_action"] == "read"
    failed = capture.only(db_operation="USER_UPDATE")
    assert failed["db_error"] == "no such table: users"
    assert failed["level"] == "error"


def test_timed_operation_keeps_the_context_it_started_in(capture: Capture) -> None:
    with request_context(request_id="req-timed"), timed_database_operation("X_READ", "X"):
        pass
    assert capture.only(db_operation="X_READ")["request_id"] == "req-timed"


def test_user_action_with_a_django_user(capture: Capture) -> None:
    log_user_action("USER_CREATED", FakeUser(), target_entity="USER", plan="free")
    event = capture.only(user_action="USER_CREATED")
    assert event["log_category"] == "audit"
    assert event["level"] == "info"
    assert event["message"] == "user action USER_CREATED"
    assert event["success"] is True
    assert event["user_id"] == "42"
    assert event["user_name"] == "alice"
    assert event["target_entity"] == "USER"
    assert event["plan"] == "free"


def test_authentication_events_as_the_seed_writes_them(capture: Capture) -> None:
    log_authentication_event("LOGIN_SUCCESS", user=FakeUser(), ip_address="203.0.113.7")
    log_authentication_event(
        "LOGIN_FAILED", success=False, username="mallory", reason="invalid_password"
    )
    log_authentication_event(
        "LOGOUT", user=FakeUser(), session_id="7f3a", session_duration_ms=600000
    )
    success = capture.only(user_action="LOGIN_SUCCESS")
    assert success["success"] is True
    assert success["client_ip"] == "203.0.113.7"
    assert success["user_id"] == "42"
    assert success["message"] == "authentication LOGIN_SUCCESS"
    failed = capture.only(user_action="LOGIN_FAILED")
    assert failed["success"] is False
    assert failed["level"] == "warning"
    assert failed["username"] == "mallory"
    assert "user_name" not in failed
    assert failed["reason"] == "invalid_password"
    assert "user_id" not in failed
    logout = capture.only(user_action="LOGOUT")
    assert logout["session_id"] == "7f3a"
    assert logout["session_duration_ms"] == 600000


def test_audit_events_default_to_the_request_user_and_address(capture: Capture) -> None:
    with request_context(request_id="req-audit", client_ip="198.51.100.4"):
        assert set_user(7, "carol")
        log_user_action("PASSWORD_CHANGED")
    event = capture.only(user_action="PASSWORD_CHANGED")
    assert event["user_id"] == "7"
    assert event["user_name"] == "carol"
    assert event["client_ip"] == "198.51.100.4"
    assert event["request_id"] == "req-audit"
    assert not set_user(1, "outside"), "no request, nothing to set"


def test_plain_events_and_categories(capture: Capture) -> None:
    log_event("cache warmed", entries=1200)
    log_event("explicit", log_category="performance", level="warning")
    with request_context():
        log_event("inside")
    assert capture.only(message="cache warmed")["log_category"] == "api_request"
    assert capture.only(message="cache warmed")["entries"] == 1200
    explicit = capture.only(message="explicit")
    assert (explicit["log_category"], explicit["level"]) == ("performance", "warning")
    assert capture.only(message="inside")["log_category"] == "api_request"


def test_level_filter_drops_less_severe_events() -> None:
    output = MemoryWriter()
    sdk = logfleet.configure(writer=output, level="warning")
    try:
        log_event("quiet")
        log_user_action("LOGIN_FAILED", success=False)
        assert sdk.flush(5)
        assert [event["message"] for event in output.events()] == ["user action LOGIN_FAILED"]
    finally:
        sdk.shutdown(1)


def test_event_fields_replace_identity_and_context_without_duplicates(capture: Capture) -> None:
    with request_context(request_id="req-1"):
        log_event("override", app_name="other_service", span_id="client-span")
    capture.events()
    line = next(line for line in capture.output.lines() if "override" in line)
    assert line.count('"app_name"') == 1
    assert line.count('"span_id"') == 1
    event = capture.only(message="override")
    assert event["app_name"] == "other_service"
    assert event["span_id"] == "client-span"
    assert event["request_id"] == "req-1"


def test_values_of_any_type_are_written_as_json(capture: Capture) -> None:
    import decimal
    import uuid

    identifier = uuid.UUID("12345678-1234-5678-1234-567812345678")
    log_event(
        "types",
        ratio=float("nan"),
        amount=decimal.Decimal("9.99"),
        uid=identifier,
        tags=("a", "b"),
        nested={"depth": {"ok": True}},
    )
    event = capture.only(message="types")
    assert event["ratio"] is None
    assert event["amount"] == "9.99"
    assert event["uid"] == str(identifier)
    assert event["tags"] == ["a", "b"]
    assert event["nested"] == {"depth": {"ok": True}}


def test_timestamps_are_utc_milliseconds(capture: Capture) -> None:
    log_event("stamp")
    stamp = capture.only(message="stamp")["@timestamp"]
    assert len(stamp) == 24 and stamp.endswith("Z") and stamp[19] == "."


async def test_context_follows_tasks_and_stays_apart(capture: Capture) -> None:
    async def work(name: str) -> None:
        with request_context(request_id=name):
            await asyncio.sleep(0.01)
            log_event(f"in {name}")

    await asyncio.gather(work("req-a"), work("req-b"))
    assert capture.only(message="in req-a")["request_id"] == "req-a"
    assert capture.only(message="in req-b")["request_id"] == "req-b"


@pytest.mark.parametrize(
    ("operation", "action"),
    [
        ("USER_CREATE", "create"),
        ("SESSION_READ", "read"),
        ("PROFILE_UPDATE", "update"),
        ("USER_DELETE", "delete"),
        ("HEALTH", None),
    ],
)
def test_db_action_is_inferred_from_the_operation(operation: str, action: str | None) -> None:
    assert infer_db_action(operation) == action


def test_user_fields_of_each_kind() -> None:
    assert user_fields(FakeUser()) == ("42", "alice")
    assert user_fields({"id": 1, "username": "x"}) == ("1", "x")
    assert user_fields(5) == ("5", None)
    assert user_fields("bob") == (None, "bob")
    assert user_fields(None) == (None, None)

    class Anonymous:
        is_authenticated = False
        pk: Any = None

    assert user_fields(Anonymous()) == (None, None)
