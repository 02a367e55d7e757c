"""The cost of each of Logfleet's helpers on the request's thread, beside the standard
library's ``logging`` with python-json-logger's JSON formatter and beside structlog's JSON
renderer writing the same events, in the same run.

    pip install "./sdks/python[bench]"
    python sdks/python/bench/overhead.py [--events 20000] [--runs 7]

Each helper is called ``--events`` times per run, as a service calls it: the request path
(``LogfleetMiddleware`` and ``@log_api_request`` around a view), ``log_database_operation``,
``log_user_action``, ``log_authentication_event`` (inside a request), ``log_external_request``
(its HTTP call answered by a stub session, inside a request), ``@log_proxy_request`` around
the seed's proxy view (which calls ``log_external_request``), and the ``LogfleetHandler`` for
plain ``logging`` calls. Where a helper wraps work of the service's own (the view, the stub
HTTP call, relaying the response), that work is measured alone in the same run and
subtracted, so the figure is the SDK's part.

The same events — the ones the helper writes, captured once at start — are then written by
``logging`` + python-json-logger and by structlog (to ``/dev/null``), field for field.

A run's cost is the calling thread's CPU time (``time.thread_time_ns``) divided by the calls;
the table shows the median of ``--runs`` runs (after a warm-up round), with the wall-clock
median beside it. The contenders' runs are interleaved, one of each in turn, so that a change
in the machine's load weighs on all of them alike. The calling thread's CPU time is the
request's cost: Logfleet's encoding, redaction and I/O happen on its sender thread (shown
separately, from the process's CPU time minus the calling thread's); the other two
contenders format and write on the calling thread.
Logfleet writes nowhere (no URL, no stdout), so its sender encodes and redacts every event
and then discards it. The target per helper: at most 0.5x python-json-logger, and below
structlog.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# Not part of an event as python-json-logger and structlog are given it: their formatters
# add a timestamp and the level, and take the message as the message.
_ADDED_BY_FORMATTERS = ("@timestamp", "level", "message")


@dataclass
class Cost:
    thread_us: float
    wall_us: float
    other_threads_us: float


@dataclass
class Helper:
    """One of the SDK's helpers, called as a service calls it."""

    name: str
    call: Callable[[], None]
    # The service's own work inside the call, measured alone and subtracted.
    baseline: Callable[[], None] | None = None


def one_run(
    call: Callable[[], None], events: int, settle: Callable[[], None]
) -> tuple[float, float, float]:
    """One run's (caller CPU, wall, other threads' CPU) per call, in µs."""
    settle()
    gc.collect()
    process_before = time.process_time_ns()
    thread_before = time.thread_time_ns()
    wall_before = time.perf_counter_ns()
    for _ in range(events):
        call()
    wall = time.perf_counter_ns() - wall_before
    thread = time.thread_time_ns() - thread_before
    settle()  # the sender's share of the work is done by now
    process = time.process_time_ns() - process_before
    return thread / events / 1000, wall / events / 1000, max(0, process - thread) / events / 1000


def measure(
    contenders: list[tuple[Callable[[], None], Callable[[], None]]], events: int, runs: int
) -> list[Cost]:
    """The median cost of each ``(call, settle)``, their runs interleaved (one run of each in
    turn) so that a change in the machine's load falls on all of them alike."""
    samples: list[list[tuple[float, float, float]]] = [[] for _ in contenders]
    for run in range(runs + 1):  # the first round warms caches and is not counted
        for index, (call, settle) in enumerate(contenders):
            sample = one_run(call, events, settle)
            if run > 0:
                samples[index].append(sample)
    return [
        Cost(
            statistics.median(sample[0] for sample in runs_of),
            statistics.median(sample[1] for sample in runs_of),
            statistics.median(sample[2] for sample in runs_of),
        )
        for runs_of in samples
    ]


def minus(cost: Cost, baseline: Cost) -> Cost:
    return Cost(
        max(0.0, cost.thread_us - baseline.thread_us),
        max(0.0, cost.wall_us - baseline.wall_us),
        cost.other_threads_us,
    )


def setup_django() -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        INSTALLED_APPS=["logfleet.django"],
        LOGFLEET={"APP_NAME": "bench", "SERVICE_TYPE": "proxy_service"},
    )
    django.setup()


class StubSession:
    """Answers every request with the same response, as ``requests.Session.request`` does."""

    def __init__(self, status: int, body: bytes) -> None:
        import requests

        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers["Content-Type"] = "application/json"
        response.url = "http://access_postgresql:4000/api/signup/"
        self.response = response

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.response


def helpers() -> list[Helper]:
    """Every helper with the work it wraps; the SDK must be configured first."""
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory
    from django.urls import ResolverMatch

    import logfleet
    from logfleet.django import (
        LogfleetMiddleware,
        log_api_request,
        log_authentication_event,
        log_database_operation,
        log_external_request,
        log_proxy_request,
        log_user_action,
        request_context,
    )
    from logfleet.django.decorators import relay
    from logfleet.handlers import LogfleetHandler

    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    @contextmanager
    def in_request() -> Iterator[None]:
        with request_context(
            request_id="req-bench-1",
            traceparent=traceparent,
            endpoint_signature="POST /api/signup/",
            client_ip="203.0.113.7",
        ):
            logfleet.set_user(42, "alice")
            yield

    def inside_request(call: Callable[[], None]) -> Callable[[], None]:
        def wrapped() -> None:
            with in_request():
                call()

        return wrapped

    # The request path: the middleware and the decorator around a view; the view and the
    # URL resolution Django does anyway are the baseline.
    def signup_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(b'{"id": 42}', status=201, content_type="application/json")

    decorated_view = log_api_request(action_type="USER_SIGNUP")(signup_view)

    def resolving(
        view: Callable[[HttpRequest], HttpResponse], hooks: list[LogfleetMiddleware]
    ) -> Callable[..., HttpResponse]:
        # What Django's handler does between the middleware and the view: resolve the URL,
        # call the middleware's process_view, call the view.
        def get_response(request: HttpRequest) -> HttpResponse:
            request.resolver_match = ResolverMatch(view, (), {}, route="api/signup/")
            for hook in hooks:
                hook.process_view(request, view, (), {})
            return view(request)

        return get_response

    hooks: list[LogfleetMiddleware] = []
    middleware = LogfleetMiddleware(resolving(decorated_view, hooks))
    hooks.append(middleware)
    bare = resolving(signup_view, [])
    request = RequestFactory().post(
        "/api/signup/",
        data=b'{"username": "alice"}',
        content_type="application/json",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        HTTP_X_REQUEST_ID="req-bench-2",
        HTTP_TRACEPARENT=traceparent,
        REMOTE_ADDR="203.0.113.7",
    )

    def through_middleware() -> None:
        middleware(request)

    def view_alone() -> None:
        bare(request)

    # The inter-service call, its HTTP answered by a stub.
    session = StubSession(201, b'{"id": 42}')
    url = "http://access_postgresql:4000/api/signup/"
    body = {"username": "alice"}

    def external() -> None:
        log_external_request(url, "POST", json=body, session=session)

    def stub_call() -> None:
        session.request("POST", url, json=body, headers={})

    # The seed's proxy view, standalone (the decorator writes its api_request event).
    @log_proxy_request("access_postgresql")
    def proxy_view(request: HttpRequest) -> Any:
        return log_external_request(url, "POST", json=body, session=session)

    def plain_proxy_view(request: HttpRequest) -> Any:
        return relay(session.request("POST", url, json=body, headers={}))

    proxy_request = RequestFactory().post(
        "/api/signup/", data=b"{}", content_type="application/json", REMOTE_ADDR="203.0.113.7"
    )

    def proxy() -> None:
        proxy_view(proxy_request)

    def proxy_alone() -> None:
        plain_proxy_view(proxy_request)

    handler_logger = logging.getLogger("bench.logfleet")
    handler_logger.handlers[:] = [LogfleetHandler()]
    handler_logger.setLevel(logging.INFO)
    handler_logger.propagate = False
    extra = {"db_operation": "USER_CREATE", "db_entity": "USER", "username": "alice"}

    return [
        Helper("log_api_request (middleware, per request)", through_middleware, view_alone),
        Helper(
            "log_database_operation",
            lambda: log_database_operation(
                "USER_CREATE", "USER", username="alice", rows_affected=1, duration_ms=12.5
            ),
        ),
        Helper(
            "log_user_action (in a request)",
            inside_request(lambda: log_user_action("USER_CREATED", None, target_entity="USER")),
            inside_request(lambda: None),
        ),
        Helper(
            "log_authentication_event (in a request)",
            inside_request(
                lambda: log_authentication_event(
                    "LOGIN_FAILED", success=False, username="alice", reason="invalid_password"
                )
            ),
            inside_request(lambda: None),
        ),
        Helper(
            "log_external_request (stub HTTP, in a request)",
            inside_request(external),
            inside_request(stub_call),
        ),
        Helper("log_proxy_request (proxy view, stub HTTP)", proxy, proxy_alone),
        Helper(
            "LogfleetHandler (logging.info)",
            lambda: handler_logger.info("user created", extra=extra),
        ),
    ]


def capture_events(helper: Helper) -> list[dict[str, Any]]:
    """The events one call of the helper writes."""
    import logfleet
    from logfleet import MemoryWriter

    output = MemoryWriter()
    sdk = logfleet.configure(writer=output, stdout=False, performance_interval=None)
    helper.call()
    assert sdk.flush(10)
    sdk.shutdown(1)
    events = output.events()
    assert events, f"{helper.name} wrote nothing"
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="", help="the helpers whose name contains this")
    arguments = parser.parse_args()
    events, runs = arguments.events, arguments.runs

    import structlog
    from pythonjsonlogger.json import JsonFormatter as PythonJsonFormatter

    import logfleet

    setup_django()
    devnull = open(os.devnull, "w")  # noqa: SIM115 - open for the whole run

    # The events each helper writes, for the other contenders to write too.
    chosen = [helper for helper in helpers() if arguments.only in helper.name]
    written = {helper.name: capture_events(helper) for helper in chosen}

    # Logfleet: nowhere to send (no URL, no stdout), a buffer that holds a whole run.
    sdk = logfleet.configure(stdout=False, queue_capacity=events * 4, performance_interval=None)
    contenders = [helper for helper in helpers() if helper.name in written]  # this SDK's

    def settle_logfleet() -> None:
        assert sdk.flush(60), "events were dropped: the buffer must hold a whole run"

    def nothing() -> None:
        return None

    # The standard library with python-json-logger's formatter, to /dev/null.
    json_logger = logging.getLogger("bench.python_json_logger")
    handler = logging.StreamHandler(devnull)
    handler.setFormatter(PythonJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    json_logger.addHandler(handler)
    json_logger.setLevel(logging.INFO)
    json_logger.propagate = False

    # structlog's JSON renderer with a timestamp and the level, to /dev/null.
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=devnull),
        cache_logger_on_first_use=True,
    )
    struct_logger = structlog.get_logger("bench")

    def same_events(
        events_written: list[dict[str, Any]],
    ) -> tuple[Callable[[], None], Callable[[], None]]:
        prepared = [
            (
                event["message"],
                {key: value for key, value in event.items() if key not in _ADDED_BY_FORMATTERS},
            )
            for event in events_written
        ]

        def with_python_json_logger() -> None:
            for message, fields in prepared:
                json_logger.info(message, extra=fields)

        def with_structlog() -> None:
            for message, fields in prepared:
                struct_logger.info(message, **fields)

        return with_python_json_logger, with_structlog

    print(f"python {sys.version.split()[0]}, {events} calls x {runs} runs, medians per call")
    print(
        f"{'helper':<48}{'contender':<22}{'caller CPU':>12}{'wall':>11}{'sender CPU':>12}"
        f"{'vs pjl':>8}  verdict"
    )
    for helper in contenders:
        with_pjl, with_structlog = same_events(written[helper.name])
        baseline = helper.baseline or nothing
        cost, service_work, pjl, structlog_cost = measure(
            [
                (helper.call, settle_logfleet),
                (baseline, nothing),
                (with_pjl, nothing),
                (with_structlog, nothing),
            ],
            events,
            runs,
        )
        if helper.baseline is not None:
            cost = minus(cost, service_work)
        ratio = cost.thread_us / pjl.thread_us
        met = ratio <= 0.5 and cost.thread_us < structlog_cost.thread_us
        count = len(written[helper.name])
        rows = [
            ("logfleet", cost, f"{ratio:.2f}x", "met" if met else "MISSED"),
            (f"python-json-logger ({count})", pjl, "1", ""),
            (
                f"structlog ({count})",
                structlog_cost,
                f"{structlog_cost.thread_us / pjl.thread_us:.2f}x",
                "",
            ),
        ]
        for index, (contender, row, versus, verdict) in enumerate(rows):
            label = helper.name if index == 0 else ""
            sender = f"{row.other_threads_us:>9.2f} µs" if index == 0 else f"{'-':>12}"
            print(
                f"{label:<48}{contender:<22}{row.thread_us:>9.2f} µs{row.wall_us:>8.2f} µs"
                f"{sender}{versus:>8}  {verdict}"
            )
    sdk.shutdown(5)
    devnull.close()


if __name__ == "__main__":
    main()
