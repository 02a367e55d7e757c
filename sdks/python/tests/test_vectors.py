"""The shared SDK test vectors (tests/vectors/sdk): helper call in, exact event out.

The Rust SDK's `crates/sdk/tests/vectors.rs` reads the same files, so both SDKs write the
same field names, values and JSON types. Only `@timestamp` and the fields a vector lists in
`random` (ids drawn at run time) are checked for shape instead of value.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import logfleet
from logfleet import MemoryWriter, request_context, set_user

VECTORS = Path(__file__).resolve().parents[3] / "tests" / "vectors" / "sdk"
FILES = sorted((VECTORS / "events").glob("*.json"))
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RANDOM_SHAPES = {"span_id": re.compile(r"^[0-9a-f]{16}$")}


def run(vector: dict[str, Any]) -> list[dict[str, Any]]:
    identity = json.loads((VECTORS / "identity.json").read_text())
    output = MemoryWriter()
    settings = {key.upper(): value for key, value in identity.items()}
    sdk = logfleet.configure(settings, writer=output, performance_interval=None)
    try:
        context = vector.get("context")
        if context is None:
            call(vector["call"])
        else:
            with request_context(
                request_id=context["request_id"],
                traceparent=context["traceparent"],
                endpoint_signature=context["endpoint_signature"],
                client_ip=context["client_ip"],
            ):
                set_user(context["user"]["id"], context["user"]["name"])
                call(vector["call"])
        assert sdk.flush(5)
        return output.events()
    finally:
        sdk.shutdown(1)


def call(spec: dict[str, Any]) -> None:
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
    events = run(vector)
    assert len(events) == 1, events
    event = events[0]
    assert TIMESTAMP.match(event.pop("@timestamp"))
    for name in vector.get("random", []):
        assert RANDOM_SHAPES[name].match(event.pop(name)), name
    # Key order too: both SDKs write the schema's order.
    assert_same(event, vector["expected"])
