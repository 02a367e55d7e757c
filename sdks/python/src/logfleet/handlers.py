"""The standard library's ``logging``, plugged in: a shipping handler and a JSON formatter.

With :class:`LogfleetHandler` in the ``LOGGING`` dict, plain
``logging.getLogger(__name__).info("…", extra={...})`` calls become canonical events and,
inside a request, carry its context (``request_id``, ``trace_id``, ``span_id``,
``endpoint_signature``, the user). :class:`JsonFormatter` writes the same canonical JSON on
the console. Records emitted on the sender thread are ignored, so nothing the SDK does can
feed its own queue.

A record's ``extra`` fields become event fields; ``extra={"log_category": "database"}`` sets
its category (default: ``api_request`` inside a request, the configured default outside); an
exception (``logger.exception``) adds ``error_type``, ``error_message`` and ``stack_trace``.
"""

from __future__ import annotations

import logging
import traceback
from itertools import islice
from typing import Any

from logfleet import core
from logfleet.config import SETTING_NAMES
from logfleet.context import current_context
from logfleet.encode import Record

# The attributes every LogRecord has; anything else came from `extra`. `makeRecord` adds
# `extra` after `__init__`, so a record's own fields are the keys after the first
# `_BASE_ATTRIBUTE_COUNT`, which saves walking the standard ones on every call.
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_BASE_ATTRIBUTE_COUNT = len(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)


def level_name(levelno: int) -> str:
    """The schema's level for a ``logging`` level number."""
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warning"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


_LEVEL_NAMES = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


def record_to_event_parts(record: logging.LogRecord) -> tuple[str, str | None, dict[str, Any]]:
    """``(level, log_category, fields)`` of a log record."""
    attributes = record.__dict__
    fields: dict[str, Any] = {}
    if len(attributes) > _BASE_ATTRIBUTE_COUNT:
        for key, value in islice(attributes.items(), _BASE_ATTRIBUTE_COUNT, None):
            if key not in _STANDARD_ATTRIBUTES and key[:1] != "_":
                fields[key] = value
    category = fields.pop("log_category", None)
    level = _LEVEL_NAMES.get(record.levelno) or level_name(record.levelno)
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        fields.setdefault("error_type", type(error).__name__)
        fields.setdefault("error_message", str(error) or type(error).__name__)
        fields.setdefault("stack_trace", "".join(traceback.format_exception(*record.exc_info)))
    elif record.stack_info:
        fields.setdefault("stack_trace", record.stack_info)
    return level, None if category is None else str(category), fields


class LogfleetHandler(logging.Handler):
    """Sends log records to Logfleet through the SDK's buffer; never blocks.

    ``app_name``, ``service_type`` and any other lower-case setting given here are defaults
    for the SDK's identity, so the seed's ``LOGGING`` (with its ``APP_NAME`` and
    ``service_type``) works as written; the ``LOGFLEET`` dict and ``LOGFLEET_*`` variables win.

    >>> import logging
    >>> logging.getLogger("example").addHandler(LogfleetHandler(app_name="user_service"))
    """

    def __init__(self, level: int | str = logging.NOTSET, **settings: Any) -> None:
        super().__init__(level)
        core.handler_defaults.update(settings)

    def handle(self, record: logging.LogRecord) -> bool:
        # `emit` only appends to the SDK's buffer, which is safe from any thread: the
        # handler's lock that `Handler.handle` takes around it would only serialise callers.
        result: object = self.filter(record)
        if result:
            # Since Python 3.12 a filter may return a replacement record.
            self.emit(result if isinstance(result, logging.LogRecord) else record)
        return bool(result)

    def emit(self, record: logging.LogRecord) -> None:
        if core.on_sender_thread():
            return
        try:
            sdk = core.get()
            level, category, fields = record_to_event_parts(record)
            sdk.emit(level, category, record.getMessage(), fields, target=record.name)
        except Exception:
            self.handleError(record)


class JsonFormatter(logging.Formatter):
    """Formats records as canonical JSON lines (the same bytes the SDK ships), for the
    console: ``{"@timestamp": …, "log_category": …, "level": …, "message": …, "app_name": …}``.

    Redaction applies here too. ``app_name``/``service_type`` arguments are identity
    defaults, as for :class:`LogfleetHandler`.
    """

    def __init__(self, *args: Any, **settings: Any) -> None:
        identity = {key: settings.pop(key) for key in list(settings) if key in SETTING_NAMES}
        super().__init__(*args, **settings)
        core.handler_defaults.update(identity)

    def format(self, record: logging.LogRecord) -> str:
        sdk = core.get()
        level, category, fields = record_to_event_parts(record)
        context = current_context()
        event = Record(
            int(record.created * 1e9),
            level,
            category,
            record.getMessage(),
            fields,
            context,
            context.user if context is not None else (None, None),
            record.name,
        )
        return sdk.encoder.encode(event).decode()
