"""Logfleet's SDK for Python services: the seed's helpers, the canonical event schema, the
request context, and shipping to Logfleet (or Elasticsearch) that never blocks the caller.

For Django, use :mod:`logfleet.django` (the app, the middleware and the decorators); this
module holds what needs no framework::

    import logfleet

    logfleet.configure(app_name="billing", service_type="worker", url="http://127.0.0.1:9200")
    logfleet.log_database_operation("INVOICE_CREATE", "INVOICE", rows_affected=1)
    logfleet.flush()
"""

from __future__ import annotations

from typing import Any

from logfleet import core
from logfleet.config import ConfigError, Settings, load_settings
from logfleet.context import RequestContext, client_ip, current_context, request_context, set_user
from logfleet.core import Logfleet, MemoryWriter, Stats, Writer
from logfleet.helpers import (
    DatabaseOperation,
    log_authentication_event,
    log_database_operation,
    log_event,
    log_external_request,
    log_user_action,
    timed_database_operation,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DatabaseOperation",
    "Logfleet",
    "MemoryWriter",
    "RequestContext",
    "Settings",
    "Stats",
    "Writer",
    "client_ip",
    "configure",
    "current_context",
    "flush",
    "get",
    "load_settings",
    "log_authentication_event",
    "log_database_operation",
    "log_event",
    "log_external_request",
    "log_user_action",
    "request_context",
    "set_user",
    "shutdown",
    "timed_database_operation",
]


def configure(
    settings: dict[str, Any] | None = None,
    *,
    writer: Writer | None = None,
    **overrides: Any,
) -> Logfleet:
    """Configures the process's SDK and returns it, replacing (and flushing) any earlier one.

    ``settings`` is a ``LOGFLEET``-style dict (upper-case keys); ``overrides`` are the same
    settings in lower case. Without ``settings``, Django's ``LOGFLEET`` is used when Django is
    set up. ``LOGFLEET_*`` environment variables win over both. ``writer`` receives the JSON
    lines too (a :class:`MemoryWriter` in tests).

    >>> sdk = configure(app_name="user_service", service_type="proxy_service",
    ...                 url="http://127.0.0.1:9200")
    >>> sdk.settings.app_name
    'user_service'
    >>> sdk.shutdown(0.1)
    True
    """
    base = settings if settings is not None else core.django_settings()
    loaded = load_settings(base, core.handler_defaults, overrides=overrides)
    return core.install(Logfleet(loaded, writer=writer))


def get() -> Logfleet:
    """The process's SDK, configured from settings on first use."""
    return core.get()


def flush(timeout: float = 5.0) -> bool:
    """Waits until the events emitted so far are delivered (at most ``timeout`` seconds)."""
    instance = core.current()
    return True if instance is None else instance.flush(timeout)


def shutdown(timeout: float = 5.0) -> bool:
    """Delivers what is left, spools the rest and stops the sender (done at exit anyway)."""
    instance = core.current()
    return True if instance is None else instance.shutdown(timeout)
