"""Fault injection for the demo's traffic, as the Rust services do it (`demo/src/faults.rs`):
with ``DEMO_FAULTS=1``, ``X-Demo-Fault`` fails the request (or, for ``database_…`` kinds, its
first query) and ``X-Demo-Slow-Query-Ms`` slows its first query down."""

from __future__ import annotations

import os
import time

from django.http import HttpRequest

FAULT_HEADER = "X-Demo-Fault"
SLOW_QUERY_HEADER = "X-Demo-Slow-Query-Ms"
MAX_SLOW_QUERY_SECONDS = 5.0

# The database failures a request may ask for, with the error a driver would report.
DATABASE_FAULTS = {
    "database_pool_timeout": "pool timed out while waiting for an open connection",
    "database_connection_refused": (
        "error communicating with database: Connection refused (os error 111)"
    ),
    "database_connection_lost": (
        "error communicating with database: Connection reset by peer (os error 104)"
    ),
}


def enabled() -> bool:
    return os.environ.get("DEMO_FAULTS", "") in ("1", "true", "yes")


def request_fault(request: HttpRequest) -> str | None:
    """A fault that fails the whole request (any kind that is not a database one)."""
    if not enabled():
        return None
    kind = request.headers.get(FAULT_HEADER)
    if kind is None or kind in DATABASE_FAULTS:
        return None
    return kind[:64]


class QueryFault:
    """What the request asks its first query to suffer; used once."""

    def __init__(self, request: HttpRequest) -> None:
        headers = request.headers if enabled() else {}
        self.error = DATABASE_FAULTS.get(headers.get(FAULT_HEADER, ""))
        slow = headers.get(SLOW_QUERY_HEADER, "")
        self.slow = min(int(slow) / 1000, MAX_SLOW_QUERY_SECONDS) if slow.isdigit() else None

    def apply(self) -> None:
        """Called inside the query: sleeps and/or raises, then is spent."""
        slow, error = self.slow, self.error
        self.slow = self.error = None
        if slow:
            time.sleep(slow)
        if error:
            raise InjectedDatabaseError(error)


class InjectedDatabaseError(Exception):
    """A database failure asked for by the traffic generator."""
