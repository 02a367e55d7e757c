"""The canonical event schema's vocabulary, as ``crates/model`` defines it.

Field names are the seed's, verbatim; their Elasticsearch types are in ``FIELD_TYPES`` so a
test can check every event the SDK writes against them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final, Literal

LogCategory = Literal["api_request", "database", "inter_service", "performance", "audit"]
Level = Literal["debug", "info", "warning", "error", "critical"]

LOG_CATEGORIES: Final = ("api_request", "database", "inter_service", "performance", "audit")
LEVELS: Final = ("debug", "info", "warning", "error", "critical")

# The identity every event carries, in schema order.
IDENTITY_FIELDS: Final = ("app_name", "service_type", "environment", "host", "service_version")
# The request context events inside a request carry, in schema order.
CONTEXT_FIELDS: Final = (
    "request_id",
    "trace_id",
    "span_id",
    "endpoint_signature",
    "user_id",
    "user_name",
)

# Every canonical field a service may send, with its Elasticsearch mapping type.
FIELD_TYPES: Final[dict[str, str]] = {
    "@timestamp": "date",
    "log_category": "keyword",
    "level": "keyword",
    "message": "text",
    "app_name": "keyword",
    "service_type": "keyword",
    "environment": "keyword",
    "host": "keyword",
    "service_version": "keyword",
    "request_id": "keyword",
    "trace_id": "keyword",
    "span_id": "keyword",
    "action_type": "keyword",
    "http_method": "keyword",
    "path": "keyword",
    "endpoint_signature": "keyword",
    "status_code": "long",
    "response_category": "keyword",
    "duration_ms": "double",
    "request_size": "long",
    "response_size": "long",
    "client_ip": "ip",
    "user_agent": "keyword",
    "user_id": "keyword",
    "user_name": "keyword",
    "error_type": "keyword",
    "error_message": "keyword",
    "db_operation": "keyword",
    "db_entity": "keyword",
    "db_action": "keyword",
    "rows_affected": "long",
    "slow_query": "boolean",
    "db_error": "keyword",
    "username": "keyword",
    "target_service": "keyword",
    "target_url": "keyword",
    "retry_count": "long",
    "cpu_percent": "double",
    "memory_rss_bytes": "long",
    "requests_per_minute": "double",
    "duration_ms_p50": "double",
    "duration_ms_p95": "double",
    "duration_ms_p99": "double",
    "open_connections": "long",
    "db_pool_in_use": "long",
    "user_action": "keyword",
    "success": "boolean",
    "reason": "keyword",
    "session_id": "keyword",
    "session_duration_ms": "long",
    "target_entity": "keyword",
}

DEFAULT_SLOW_QUERY_THRESHOLD_MS: Final = 1000.0

# Where Python's reason phrases differ from the `http` crate's (which the Rust SDK uses), the
# crate's, so `error_message` is the same whichever SDK wrote the event.
_REASON_OVERRIDES: Final = {
    413: "Payload Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    418: "I'm a teapot",
}


def response_category(status_code: int) -> str:
    """The ``response_category`` of an HTTP status code.

    >>> response_category(204), response_category(503)
    ('success', 'server_error')
    """
    if status_code < 300:
        return "success"
    if status_code < 400:
        return "redirect"
    if status_code < 500:
        return "client_error"
    return "server_error"


def reason_phrase(status_code: int) -> str:
    """The status code's canonical reason phrase, ``error`` when it has none."""
    override = _REASON_OVERRIDES.get(status_code)
    if override is not None:
        return override
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "error"


def snake_case(text: str) -> str:
    """A reason phrase as an ``error_type``: ``Not Found`` becomes ``not_found``."""
    return "".join(char.lower() if char.isascii() and char.isalnum() else "_" for char in text)


def level_severity(level: str) -> int:
    """The rank of a level, from 0 (debug) to 4 (critical)."""
    return LEVELS.index(level)
