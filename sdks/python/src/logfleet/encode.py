"""Turning a :class:`Record` into one line of canonical JSON, on the sender thread.

Field order follows the schema, as in the Rust SDK: ``@timestamp``, ``log_category``,
``level``, ``message``, the identity (``app_name``, ``service_type``, ``environment``,
``host``, ``service_version``), the request context (``request_id``, ``trace_id``,
``span_id``, ``endpoint_signature``, ``user_id``, ``user_name``), the event's own fields,
then ``target``. A field the event sets itself replaces the identity or context value of the
same name rather than duplicating the key. Every value passes through the :class:`Redactor`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from logfleet.context import RequestContext
from logfleet.redact import REDACTED, Redactor

_MAX_DEPTH = 32


class Record(NamedTuple):
    """One event as the caller's thread hands it over: plain references, no formatting.

    ``user`` is the request's user when the event was emitted, so an event written before
    the view learnt who the user is does not claim to know. ``fields`` is a dict, or a
    function the sender calls for it (work a helper leaves to the sender thread).
    """

    time_ns: int
    level: str
    category: str | None
    message: str
    fields: dict[str, Any] | Callable[[], dict[str, Any]]
    context: RequestContext | None
    user: tuple[str | None, str | None]
    target: str | None = None


def format_timestamp(time_ns: int) -> str:
    """``@timestamp``: UTC, RFC 3339, milliseconds (truncated).

    >>> format_timestamp(1_764_173_820_123_456_789)
    '2025-11-26T16:17:00.123Z'
    """
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    moment = time.gmtime(seconds)
    return (
        f"{moment.tm_year:04d}-{moment.tm_mon:02d}-{moment.tm_mday:02d}T"
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d}.{nanos // 1_000_000:03d}Z"
    )


class Encoder:
    """Writes records as JSON lines with this service's identity."""

    def __init__(
        self,
        identity: dict[str, str],
        redactor: Redactor,
        default_category: str = "api_request",
    ) -> None:
        self.identity = identity
        self.redactor = redactor
        self.default_category = default_category
        self._dumps = json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode
        # The last second formatted and its text up to the milliseconds, as one tuple so a
        # console formatter on another thread never pairs one second with another's text.
        self._last_second: tuple[int, str] = (-1, "")

    def _timestamp(self, time_ns: int) -> str:
        seconds, nanos = divmod(time_ns, 1_000_000_000)
        cached_second, prefix = self._last_second
        if seconds != cached_second:
            prefix = format_timestamp(seconds * 1_000_000_000)[:-4]
            self._last_second = (seconds, prefix)
        return f"{prefix}{nanos // 1_000_000:03d}Z"

    def event(self, record: Record) -> dict[str, Any]:
        """The record as an ordered event (a dict), redacted."""
        redact_text = self.redactor.redact_text
        category = record.category
        if category is None:
            category = "api_request" if record.context is not None else self.default_category
        else:
            category = redact_text(category)
        event: dict[str, Any] = {
            "@timestamp": self._timestamp(record.time_ns),
            "log_category": category,
            "level": record.level,
            "message": redact_text(record.message),
        }
        event.update(self.identity)
        context = record.context
        if context is not None:
            event["request_id"] = redact_text(context.request_id)
            event["trace_id"] = redact_text(context.trace_id)
            event["span_id"] = redact_text(context.span_id)
            if context.endpoint_signature is not None:
                event["endpoint_signature"] = redact_text(context.endpoint_signature)
            user_id, user_name = record.user
            if user_id is not None:
                event["user_id"] = redact_text(user_id)
            if user_name is not None:
                event["user_name"] = redact_text(user_name)
        is_sensitive = self.redactor.is_sensitive_key
        fields = record.fields
        if not isinstance(fields, dict):
            fields = fields()
        for key, value in fields.items():
            # The event's own value replaces the identity's or the context's, at its place.
            event.pop(key, None)
            if is_sensitive(key):
                event[key] = REDACTED
            elif type(value) is str:
                # The common case first, without the dispatch of `_value`.
                event[key] = redact_text(value)
            elif type(value) is bool or value is None:
                event[key] = value
            else:
                event[key] = self._value(value, 0)
        if record.target is not None:
            event["target"] = record.target
        return event

    def encode(self, record: Record) -> bytes:
        """The record as one line of JSON, without the newline."""
        return self._dumps(self.event(record)).encode()

    def _value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            return self.redactor.redact_text(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return REDACTED if self.redactor.is_card_number(value) else value
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if depth >= _MAX_DEPTH:
            return self.redactor.redact_text(str(value))
        if isinstance(value, dict):
            is_sensitive = self.redactor.is_sensitive_key
            return {
                str(key): REDACTED if is_sensitive(str(key)) else self._value(item, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self._value(item, depth + 1) for item in value]
        # Anything else (UUID, Decimal, datetime, model instances) as its text, like Rust's
        # `Display`.
        return self.redactor.redact_text(str(value))
