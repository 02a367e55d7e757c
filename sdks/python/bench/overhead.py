"""The cost of one log event on the request's thread: Logfleet's helpers and its logging
handler, beside the standard library's ``logging`` with python-json-logger's JSON formatter
and beside structlog's JSON renderer, with the same event, in the same run.

    pip install "./sdks/python[bench]"
    python sdks/python/bench/overhead.py [--events 20000] [--runs 7]

Each contender logs the same database event (a message and five fields) ``--events`` times
per run; a run's cost is the calling thread's CPU time (``time.thread_time_ns``) divided by
the events, and the table shows the median of ``--runs`` runs, with the wall-clock median
beside it. The CPU time of the calling thread is the request's cost: Logfleet's encoding,
redaction and I/O happen on its sender thread, whose CPU time is shown separately (per event,
from the process's CPU time minus the calling thread's); the other two contenders format and
write on the calling thread. They write to ``/dev/null``; Logfleet writes nowhere (no URL, no
stdout), so its sender encodes and redacts every event and then discards it.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MESSAGE = "database USER_CREATE on USER"
FIELDS: dict[str, Any] = {
    "db_operation": "USER_CREATE",
    "db_entity": "USER",
    "username": "alice",
    "rows_affected": 1,
    "duration_ms": 12.5,
}


@dataclass
class Result:
    name: str
    thread_us: float
    wall_us: float
    other_threads_us: float


def measure(
    name: str, call: Callable[[], None], events: int, runs: int, settle: Callable[[], None]
) -> Result:
    thread_costs: list[float] = []
    wall_costs: list[float] = []
    other_costs: list[float] = []
    for _ in range(runs + 1):  # the first run warms caches and is not counted
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
        thread_costs.append(thread / events / 1000)
        wall_costs.append(wall / events / 1000)
        other_costs.append(max(0, process - thread) / events / 1000)
    return Result(
        name,
        statistics.median(thread_costs[1:]),
        statistics.median(wall_costs[1:]),
        statistics.median(other_costs[1:]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    events, runs = arguments.events, arguments.runs

    import structlog
    from pythonjsonlogger.json import JsonFormatter as PythonJsonFormatter

    import logfleet
    from logfleet.handlers import LogfleetHandler

    devnull = open(os.devnull, "w")  # noqa: SIM115 - open for the whole run

    # Logfleet: nowhere to send (no URL, no stdout), a buffer that holds a whole run.
    sdk = logfleet.configure(
        {"APP_NAME": "bench", "SERVICE_TYPE": "data_manager"},
        stdout=False,
        queue_capacity=events * 2,
        performance_interval=None,
    )

    def settle_logfleet() -> None:
        assert sdk.flush(60), "events were dropped: the buffer must hold a whole run"

    def nothing() -> None:
        return None

    def logfleet_helper() -> None:
        logfleet.log_database_operation(
            "USER_CREATE", "USER", username="alice", rows_affected=1, duration_ms=12.5
        )

    logfleet_logger = logging.getLogger("bench.logfleet")
    logfleet_logger.addHandler(LogfleetHandler())
    logfleet_logger.setLevel(logging.INFO)
    logfleet_logger.propagate = False
    extra = dict(FIELDS, log_category="database")

    def logfleet_logging() -> None:
        logfleet_logger.info(MESSAGE, extra=extra)

    # The standard library with python-json-logger's formatter, to /dev/null.
    json_logger = logging.getLogger("bench.python_json_logger")
    handler = logging.StreamHandler(devnull)
    handler.setFormatter(PythonJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    json_logger.addHandler(handler)
    json_logger.setLevel(logging.INFO)
    json_logger.propagate = False

    def python_json_logger() -> None:
        json_logger.info(MESSAGE, extra=FIELDS)

    # The floor of any `logging` handler: the standard library's own work for a call
    # (finding the caller, building the LogRecord, dispatching) with a handler doing nothing.
    floor_logger = logging.getLogger("bench.floor")
    floor_logger.addHandler(logging.NullHandler())
    floor_logger.setLevel(logging.INFO)
    floor_logger.propagate = False

    def logging_floor() -> None:
        floor_logger.info(MESSAGE, extra=FIELDS)

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

    def structlog_json() -> None:
        struct_logger.info(MESSAGE, **FIELDS)

    results = [
        measure("logfleet log_database_operation", logfleet_helper, events, runs, settle_logfleet),
        measure(
            "logfleet LogfleetHandler (logging)", logfleet_logging, events, runs, settle_logfleet
        ),
        measure("logging + python-json-logger", python_json_logger, events, runs, nothing),
        measure("structlog JSONRenderer", structlog_json, events, runs, nothing),
        measure("logging + NullHandler (the floor)", logging_floor, events, runs, nothing),
    ]
    sdk.shutdown(5)
    devnull.close()

    baseline = results[2].thread_us
    print(f"python {sys.version.split()[0]}, {events} events x {runs} runs, medians")
    print(f"{'contender':<38}{'caller CPU':>12}{'wall':>10}{'sender CPU':>12}{'vs pjl':>8}")
    for result in results:
        print(
            f"{result.name:<38}{result.thread_us:>9.2f} µs{result.wall_us:>7.2f} µs"
            f"{result.other_threads_us:>9.2f} µs{result.thread_us / baseline:>7.2f}x"
        )


if __name__ == "__main__":
    main()
