"""Shipping against the real `logfleet` binary: delivery, outages, drops, forks and exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import logfleet
from logfleet import MemoryWriter
from tests.server import Server, binary, free_port

EXECUTABLE = binary()
pytestmark = pytest.mark.skipif(
    EXECUTABLE is None, reason="set LOGFLEET_BIN to the logfleet binary (cargo build)"
)
SDK_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server() -> Iterator[Server]:
    assert EXECUTABLE is not None
    running = Server(EXECUTABLE).start()
    yield running
    running.cleanup()


def marker() -> str:
    return uuid.uuid4().hex


def test_events_arrive_with_their_schema(server: Server) -> None:
    run = marker()
    sdk = logfleet.configure(url=server.url, batch_interval=0.05)
    try:
        for sequence in range(50):
            logfleet.log_database_operation(
                "USER_CREATE",
                "USER",
                marker=run,
                seq=sequence,
                duration_ms=2.5,
                rows_affected=1,
                password="hunter2",
            )
        logfleet.log_authentication_event(
            "LOGIN_FAILED", success=False, username="eve", reason="invalid_password", marker=run
        )
        assert sdk.flush(15)
        events = server.wait_for({"term": {"marker": run}}, 51)
    finally:
        sdk.shutdown(2)
    assert len(events) == 51
    database = [event for event in events if event["log_category"] == "database"]
    assert sorted(event["seq"] for event in database) == list(range(50))
    assert {event["password"] for event in database} == {"[REDACTED]"}
    assert database[0]["duration_ms"] == 2.5
    assert database[0]["slow_query"] is False
    audit = server.search(
        {"bool": {"must": [{"term": {"log_category": "audit"}}, {"term": {"marker": run}}]}}
    )
    assert [event["user_action"] for event in audit] == ["LOGIN_FAILED"]
    assert sdk.stats.dropped() == 0


def test_outage_spools_and_every_event_arrives_once(tmp_path: Path) -> None:
    assert EXECUTABLE is not None
    run = marker()
    server = Server(EXECUTABLE, port=free_port())
    sdk = logfleet.configure(
        url=server.url,
        spool_dir=str(tmp_path / "spool"),
        batch_interval=0.05,
        batch_max_events=40,
        max_attempts=2,
        initial_backoff=0.05,
        max_backoff=0.3,
        request_timeout=2,
    )
    try:
        for sequence in range(300):
            logfleet.log_event("during the outage", marker=run, seq=sequence)
        # The server is down: nothing can be delivered, batches go to disk.
        assert not sdk.flush(1.5)
        spooled = list((tmp_path / "spool").glob("*/*.ndjson"))
        assert spooled, "undelivered batches are on disk"
        for sequence in range(300, 400):
            logfleet.log_event("still down", marker=run, seq=sequence)
        server.start()
        assert sdk.flush(20), "everything delivered once the server is back"
        events = server.wait_for({"term": {"marker": run}}, 400)
        assert not list((tmp_path / "spool").glob("*/*.ndjson")), "the spool is emptied"
    finally:
        sdk.shutdown(2)
        server.cleanup()
    counts = Counter(event["seq"] for event in events)
    assert sorted(counts) == list(range(400))
    assert set(counts.values()) == {1}, "each event exactly once"
    assert sdk.stats.dropped() == 0


def test_a_spool_left_by_a_dead_process_is_delivered_by_the_next(tmp_path: Path) -> None:
    assert EXECUTABLE is not None
    run = marker()
    server = Server(EXECUTABLE, port=free_port())
    spool = tmp_path / "spool"
    script = textwrap.dedent(
        f"""
        import logfleet
        logfleet.configure(url={server.url!r}, spool_dir={str(spool)!r}, max_attempts=1,
                           initial_backoff=0.01, exit_timeout=0.5)
        for sequence in range(120):
            logfleet.log_event("before the crash", marker={run!r}, seq=sequence)
        """
    )
    try:
        # The first process exits while the server is down: its events stay in its spool.
        subprocess.run([sys.executable, "-c", script], check=True, cwd=SDK_ROOT, timeout=60)
        assert list(spool.glob("*/*.ndjson"))
        server.start()
        sdk = logfleet.configure(url=server.url, spool_dir=str(spool), batch_interval=0.05)
        try:
            logfleet.log_event("after restart", marker=run, seq=120)
            assert sdk.flush(20)
        finally:
            sdk.shutdown(2)
        events = server.wait_for({"term": {"marker": run}}, 121)
    finally:
        server.cleanup()
    counts = Counter(event["seq"] for event in events)
    assert sorted(counts) == list(range(121))
    assert set(counts.values()) == {1}


def test_full_buffer_drops_without_blocking_and_reports_drops(server: Server) -> None:
    # An endpoint that accepts connections and never answers: the sender is stuck in its
    # request, the buffer fills up, and callers must not notice.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    stuck_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    output = MemoryWriter()
    sdk = logfleet.configure(
        url=stuck_url,
        writer=output,
        queue_capacity=100,
        batch_max_events=10,
        request_timeout=1.0,
        max_attempts=1,
        drop_report_interval=0.2,
    )
    try:
        logfleet.log_event("first")  # starts the sender, which gets stuck
        time.sleep(0.2)
        slowest = 0.0
        started = time.perf_counter()
        for sequence in range(5000):
            before = time.perf_counter()
            logfleet.log_event("flood", seq=sequence)
            slowest = max(slowest, time.perf_counter() - before)
        elapsed = time.perf_counter() - started
        dropped_now = sdk.dropped_events()
        assert dropped_now >= 4800, f"the buffer holds 100, {dropped_now} dropped"
        # Not a benchmark: a caller that waited on the stuck sender would take the request
        # timeout (1 s) at least once.
        assert slowest < 0.5, f"a call blocked for {slowest:.3f} s"
        assert elapsed < 5.0
        deadline = time.monotonic() + 10
        reports: list[dict[str, Any]] = []
        while not reports and time.monotonic() < deadline:
            time.sleep(0.1)
            reports = [
                event
                for event in output.events()
                if event["message"] == "logfleet sdk dropped events"
            ]
        assert reports, "drops are reported as events"
        report = reports[0]
        assert report["log_category"] == "performance"
        assert report["level"] == "warning"
        assert report["sdk_dropped_queue_full"] >= 4800
        assert report["sdk_dropped_events"] >= 4800
    finally:
        sdk.shutdown(0.5)
        silent.close()

    # Against the real server, the report arrives like any event.
    run = marker()
    sdk = logfleet.configure(
        url=server.url, queue_capacity=5, drop_report_interval=0.1, app_name=f"drops-{run}"
    )
    try:
        for sequence in range(3000):
            logfleet.log_event("burst", seq=sequence)
        dropped = sdk.dropped_events()
        assert dropped > 0
        sdk.flush(10)
        reports = server.wait_for(
            {
                "bool": {
                    "must": [
                        {"term": {"app_name": f"drops-{run}"}},
                        {"match_phrase": {"message": "logfleet sdk dropped events"}},
                    ]
                }
            },
            1,
        )
        assert reports
        assert sum(event["sdk_dropped_events"] for event in reports) == dropped
    finally:
        sdk.shutdown(2)


def test_events_logged_just_before_exit_arrive(server: Server) -> None:
    run = marker()
    script = textwrap.dedent(
        f"""
        import logging, logfleet
        from logfleet.handlers import LogfleetHandler
        logfleet.configure(url={server.url!r}, batch_interval=60)
        logger = logging.getLogger("goodbye")
        logger.addHandler(LogfleetHandler())
        logger.setLevel(logging.INFO)
        for sequence in range(200):
            logger.info("last words", extra={{"marker": {run!r}, "seq": sequence}})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=SDK_ROOT, timeout=60)
    events = server.wait_for({"term": {"marker": run}}, 200)
    assert sorted(event["seq"] for event in events) == list(range(200))
    assert {event["target"] for event in events} == {"goodbye"}


def test_fork_restarts_the_sender_in_the_child(server: Server) -> None:
    run = marker()
    script = textwrap.dedent(
        f"""
        import os, logfleet
        sdk = logfleet.configure(url={server.url!r}, batch_interval=0.05)
        logfleet.log_event("parent before fork", marker={run!r}, who="parent")
        pid = os.fork()
        who = "child" if pid == 0 else "parent"
        for sequence in range(20):
            logfleet.log_event("after fork", marker={run!r}, who=who, seq=sequence)
        if pid == 0:
            os._exit(0 if sdk.flush(10) else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert sdk.flush(10)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=SDK_ROOT, timeout=60)
    events = server.wait_for({"term": {"marker": run}}, 41)
    counts = Counter((event["who"], event.get("seq")) for event in events)
    assert counts[("parent", None)] == 1, "the parent's queued event is not sent twice"
    assert all(counts[("child", sequence)] == 1 for sequence in range(20))
    assert all(counts[("parent", sequence)] == 1 for sequence in range(20))


def test_gunicorn_workers_each_deliver_their_events(server: Server, tmp_path: Path) -> None:
    run = marker()
    port = free_port()
    environment = dict(os.environ)
    environment.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        LOGFLEET_URL=server.url,
        LOGFLEET_BATCH_INTERVAL="0.1",
        LOGFLEET_SPOOL_DIR=str(tmp_path / "spool"),
        LOGFLEET_APP_NAME=f"gunicorn-{run}",
        LOGFLEET_TEST_MASTER_EVENT=run,
    )
    gunicorn_log = tmp_path / "gunicorn.log"
    log_file = gunicorn_log.open("wb")
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--preload",
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "10",
            "tests.wsgi:application",
        ],
        cwd=SDK_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    log_file.close()  # the child has its own descriptor
    pids: Counter[int] = Counter()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                assert gunicorn.poll() is None, gunicorn_log.read_text()
                time.sleep(0.1)
        lock = threading.Lock()

        def call(index: int) -> None:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/pid/?marker={run}",
                headers={"X-Request-ID": f"{run}-{index}"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                pid = int(response.read().decode().split(":")[1].strip(" }"))
            with lock:
                pids[pid] += 1

        threads = [threading.Thread(target=call, args=(index,)) for index in range(90)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        # A graceful stop: each worker delivers what it holds at exit.
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    assert sum(pids.values()) == 90
    assert len(pids) >= 2, f"requests reached several workers: {pids}"
    requests = server.wait_for(
        {
            "bool": {
                "must": [
                    {"term": {"app_name": f"gunicorn-{run}"}},
                    {"term": {"action_type": "WORKER_PID"}},
                ]
            }
        },
        90,
    )
    request_ids = Counter(event["request_id"] for event in requests)
    assert sorted(request_ids) == sorted(f"{run}-{index}" for index in range(90))
    assert set(request_ids.values()) == {1}
    handled = server.search(
        {
            "bool": {
                "must": [{"term": {"marker": run}}, {"match_phrase": {"message": "worker handled"}}]
            }
        }
    )
    assert Counter(event["worker_pid"] for event in handled) == pids
    master = server.search(
        {
            "bool": {
                "must": [{"term": {"marker": run}}, {"match_phrase": {"message": "master started"}}]
            }
        }
    )
    assert len(master) == 1, "the master's event is sent once, not again by each worker"
