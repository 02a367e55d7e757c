"""Redaction: the Rust rules (crates/model/src/redact.rs), case for case, and end to end."""

from __future__ import annotations

import pytest

from logfleet import log_event, request_context
from logfleet.redact import REDACTED, Redactor, _replace_spans
from tests.conftest import Capture

redactor = Redactor()


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "user_password",
        "PASSWORD",
        "Authorization",
        "x-api-key",
        "X-Api-Key",
        "api_key",
        "apiKey",
        "Set-Cookie",
        "client_secret",
        "refresh_token",
        "csrfToken",
        "db_passwd",
        "card_number",
    ],
)
def test_sensitive_keys(key: str) -> None:
    assert redactor.is_sensitive_key(key)


@pytest.mark.parametrize(
    "key", ["username", "user_id", "session_id", "user_agent", "message", "duration_ms", "path"]
)
def test_ordinary_keys(key: str) -> None:
    assert not redactor.is_sensitive_key(key)


def test_extra_keys_and_disabling() -> None:
    custom = Redactor(True, ["SSN", "national-id"])
    assert custom.is_sensitive_key("user_ssn")
    assert custom.is_sensitive_key("NATIONAL_ID")
    assert custom.is_sensitive_key("password")
    disabled = Redactor(False)
    assert not disabled.is_sensitive_key("password")
    assert disabled.redact_text("card 4111 1111 1111 1111") == "card 4111 1111 1111 1111"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paid with 4111111111111111 today", "paid with [REDACTED] today"),
        ("card 4111 1111 1111 1111", "card [REDACTED]"),
        ("card 4111-1111-1111-1111.", "card [REDACTED]."),
        ("amex 378282246310005", "amex [REDACTED]"),
        ("5555555555554444", "[REDACTED]"),
    ],
)
def test_card_numbers_in_text(text: str, expected: str) -> None:
    assert redactor.redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 4111111111111112",
        "at 1764173820120 ms",
        "id 411111111111",
        "id 41111111111111111111",
        "trace a4111111111111111",
        "2026-11-26 16:17:00.123",
        "10.0.0.1 and 192.168.1.1",
        "user signed up in 41 ms: everything fine",
    ],
)
def test_text_that_is_not_sensitive_is_kept(text: str) -> None:
    assert redactor.redact_text(text) is text


def test_bearer_tokens_and_jwts() -> None:
    assert (
        redactor.redact_text("sent Authorization Bearer abcDEF123456 upstream")
        == "sent Authorization [REDACTED] upstream"
    )
    assert redactor.redact_text("bearer a1b2c3d4e5") == "[REDACTED]"
    assert redactor.redact_text("we use bearer authentication") == "we use bearer authentication"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    assert redactor.redact_text(f"token was {jwt}, rejected") == "token was [REDACTED], rejected"
    assert redactor.redact_text("eyJ is not a token") == "eyJ is not a token"


def test_sensitive_pairs_lose_their_value() -> None:
    assert (
        redactor.redact_text("GET /login?user=bob&password=hunter2&next=/")
        == "GET /login?user=bob&password=[REDACTED]&next=/"
    )
    assert (
        redactor.redact_text('config api_key: "abc123" loaded')
        == 'config api_key: "[REDACTED]" loaded'
    )
    assert redactor.redact_text("user=bob status: ok") == "user=bob status: ok"


def test_long_values_like_short_ones() -> None:
    padding = "x " * 128
    text = (
        f"{padding} Bearer abcDEF123456 card 4111 1111 1111 1111 password=hunter2 "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln BEARER ZYXW98765432"
    )
    assert redactor.redact_text(text) == (
        f"{padding} [REDACTED] card [REDACTED] password=[REDACTED] [REDACTED] [REDACTED]"
    )


def test_integer_card_numbers() -> None:
    assert redactor.is_card_number(4_111_111_111_111_111)
    assert not redactor.is_card_number(4_111_111_111_111_112)
    assert not redactor.is_card_number(1_764_173_820_120)
    assert not redactor.is_card_number(42)


def test_overlapping_matches_are_merged() -> None:
    assert _replace_spans("abcdefgh", [(1, 4), (2, 6), (7, 8)]) == "a[REDACTED]g[REDACTED]"


def test_non_ascii_text_keeps_its_offsets() -> None:
    assert redactor.redact_text("İİ token=abc Bearer abcDEF123456") == (
        "İİ token=[REDACTED] [REDACTED]"
    )


def test_every_field_of_an_event_is_redacted(capture: Capture) -> None:
    with request_context(request_id="req-redact"):
        log_event(
            "login with password=hunter2 and card 4111 1111 1111 1111",
            headers={"Authorization": "Basic dXNlcjpwYXNz", "Accept": "json"},
            user_password="hunter2",
            card=4111111111111111,
            notes=["Bearer abcDEF123456", {"api_key": "k"}],
        )
    event = capture.only(request_id="req-redact")
    assert event["message"] == f"login with password={REDACTED} and card {REDACTED}"
    assert event["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert event["user_password"] == REDACTED
    assert event["card"] == REDACTED
    assert event["notes"] == [REDACTED, {"api_key": REDACTED}]
    assert "hunter2" not in str(capture.output.lines())
