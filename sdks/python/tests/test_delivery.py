"""Delivery rules against a scripted `_bulk` endpoint: retries, per-item outcomes, gzip,
backoff, the spool's limits, exit deadlines, performance samples, no recursion."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

import logfleet
import logfleet.handlers
from logfleet import MemoryWriter
from logfleet.shipper import Answered, backoff, classify_items
from logfleet.spool import Spool, SpoolFullError

SDK_ROOT = Path(__file__).resolve().parent.parent


class ScriptedBulk:
    """A `_bulk` endpoint answering from a script: each answer is a status, a list of
    per-item statuses inside a 200, or a status and the exact body to answer with."""

    def __init__(self, script: list[int | list[int] | tuple[int, bytes]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = gzip.decompress(raw) if self.headers["Content-Encoding"] == "gzip" else raw
                lines = [json.loads(line) for line in body.decode().splitlines() if line]
                with outer.lock:
                    answer = outer.script.pop(0) if outer.script else 200
                    outer.requests.append(
                        {
                            "received": time.monotonic(),
                            "size": len(body),
                            "path": self.path,
                            "headers": dict(self.headers),
                            "lines": lines,
                            "answer": answer,
                        }
                    )
                documents = lines[1::2]
                if isinstance(answer, tuple):
                    self._reply_raw(*answer)
                elif isinstance(answer, list):
                    items = [{"create": {"status": status}} for status in answer]
                    payload = {"errors": any(s >= 300 for s in answer), "items": items}
                    self._reply(200, payload)
                elif answer == 200:
                    items = [{"create": {"status": 201}} for _ in documents]
                    self._reply(200, {"errors": False, "items": items})
                else:
                    self._reply(answer, {"error": {"type": "scripted"}, "status": answer})

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                self._reply_raw(status, json.dumps(payload).encode())

            def _reply_raw(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def documents(self, request: int) -> list[dict[str, Any]]:
        return list(self.requests[request]["lines"][1::2])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bulk(request: pytest.FixtureRequest) -> Iterator[ScriptedBulk]:
    marker = request.node.get_closest_marker("script")
    endpoint = ScriptedBulk(marker.args[0] if marker else [])
    yield endpoint
    endpoint.close()


def configure(url: str, **settings: Any) -> logfleet.Logfleet:
    defaults: dict[str, Any] = {
        "batch_interval": 0.05,
        "initial_backoff": 0.01,
        "max_backoff": 0.05,
    }
    defaults.update(settings)
    return logfleet.configure(url=url, **defaults)


@pytest.mark.script([503, 429, 200])
def test_whole_request_failures_are_retried_gzipped_ndjson(bulk: ScriptedBulk) -> None:
    sdk = configure(bulk.url + "/prefix")
    try:
        for sequence in range(3):
            logfleet.log_event("retried", seq=sequence)
        assert sdk.flush(10)
    finally:
        sdk.shutdown(1)
    assert [request["answer"] for request in bulk.requests] == [503, 429, 200]
    first = bulk.requests[0]
    assert first["path"] == "/prefix/_bulk"
    assert first["headers"]["Content-Type"] == "application/x-ndjson"
    assert first["headers"]["Content-Encoding"] == "gzip"
    assert first["lines"][0] == {"create": {"_index": "logs"}}
    # The same batch each time, in order.
    for index in range(3):
        assert [document["seq"] for document in bulk.documents(index)] == [0, 1, 2]
    assert sdk.stats.dropped() == 0


# Elasticsearch's flood-stage answer, as Logfleet's server writes it when its disk is full:
# for a whole request, and for an item of a bulk request.
FLOOD_STAGE_REASON = (
    "index [logs] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage "
    "watermark, index has read-only-allow-delete block];"
)
FLOOD_STAGE_BODY = json.dumps(
    {
        "error": {
            "root_cause": [{"type": "cluster_block_exception", "reason": FLOOD_STAGE_REASON}],
            "type": "cluster_block_exception",
            "reason": FLOOD_STAGE_REASON,
        },
        "status": 429,
    }
).encode()
FLOOD_STAGE_ITEMS = json.dumps(
    {
        "errors": True,
        "items": [
            {"create": {"_index": "logs", "status": 201}},
            {
                "create": {
                    "_index": "logs",
                    "status": 429,
                    "error": {"type": "cluster_block_exception", "reason": FLOOD_STAGE_REASON},
                }
            },
        ],
    }
).encode()


@pytest.mark.script([(429, FLOOD_STAGE_BODY), (200, FLOOD_STAGE_ITEMS), 200])
def test_flood_stage_answers_are_retried_not_dropped(bulk: ScriptedBulk) -> None:
    sdk = configure(bulk.url)
    try:
        for sequence in range(2):
            logfleet.log_event("disk full", seq=sequence)
        assert sdk.flush(10), "a full disk on the server is a reason to wait, not to drop"
    finally:
        sdk.shutdown(1)
    assert [request["answer"][0] for request in bulk.requests[:2]] == [429, 200]
    # The whole batch again after the request's 429, then only the item refused with 429.
    assert [document["seq"] for document in bulk.documents(0)] == [0, 1]
    assert [document["seq"] for document in bulk.documents(1)] == [0, 1]
    assert [document["seq"] for document in bulk.documents(2)] == [1]
    assert sdk.stats.dropped() == 0


def _wait_for_requests(bulk: ScriptedBulk, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(bulk.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(bulk.requests) >= count, bulk.requests


def test_a_batch_is_sent_when_it_holds_batch_max_events(bulk: ScriptedBulk) -> None:
    # An interval that never comes during the test: only the count can seal a batch.
    sdk = configure(bulk.url, batch_max_events=3, batch_interval=60.0)
    try:
        for sequence in range(7):
            logfleet.log_event("counted", seq=sequence)
        _wait_for_requests(bulk, 2)
        time.sleep(0.2)
        assert len(bulk.requests) == 2, "the seventh event waits for its batch to fill"
        assert sdk.flush(5)
    finally:
        sdk.shutdown(1)
    sizes = [len(bulk.documents(index)) for index in range(len(bulk.requests))]
    assert sizes == [3, 3, 1]
    sequences = [document["seq"] for index in range(3) for document in bulk.documents(index)]
    assert sequences == list(range(7))


def test_a_batch_is_sent_when_it_reaches_batch_max_bytes(bulk: ScriptedBulk) -> None:
    limit = 2000
    sdk = configure(bulk.url, batch_max_bytes=limit, batch_max_events=1000, batch_interval=60.0)
    try:
        for sequence in range(20):
            logfleet.log_event("sized", seq=sequence, padding="x" * 200)
        _wait_for_requests(bulk, 2)
        assert sdk.flush(5)
    finally:
        sdk.shutdown(1)
    assert len(bulk.requests) >= 3
    sequences = []
    for index, request in enumerate(bulk.requests):
        documents = [
            json.dumps(document, separators=(",", ":")) for document in request["lines"][1::2]
        ]
        sizes = [len(text.encode()) + 1 for text in documents]
        if index < len(bulk.requests) - 1:
            # Sealed by the limit: the last event took it to the limit, the others did not.
            assert sum(sizes) >= limit * 0.95, sizes
            assert sum(sizes[:-1]) < limit * 1.05, sizes
        sequences += [document["seq"] for document in bulk.documents(index)]
    assert sequences == list(range(20))


def test_a_batch_is_sent_batch_interval_after_its_first_event(bulk: ScriptedBulk) -> None:
    interval = 0.4
    sdk = configure(bulk.url, batch_interval=interval, batch_max_events=1000)
    try:
        started = time.monotonic()
        logfleet.log_event("timed", seq=0)
        time.sleep(interval / 4)
        logfleet.log_event("timed", seq=1)
        _wait_for_requests(bulk, 1)
        waited = bulk.requests[0]["received"] - started
    finally:
        sdk.shutdown(1)
    # Neither sent at once nor held long past the interval; both events in one batch.
    assert interval * 0.9 <= waited < interval + 1.0, waited
    assert [document["seq"] for document in bulk.documents(0)] == [0, 1]


@pytest.mark.script([[201, 429, 400, 503, 409]])
def test_per_item_outcomes(bulk: ScriptedBulk) -> None:
    sdk = configure(bulk.url)
    try:
        for sequence in range(5):
            logfleet.log_event("items", seq=sequence)
        assert not sdk.flush(10), "one item was refused for good"
    finally:
        sdk.shutdown(1)
    assert len(bulk.requests) == 2
    # Only the 429 and the 503 go again; 409 (already there) counts as delivered.
    assert [document["seq"] for document in bulk.documents(1)] == [1, 3]
    assert sdk.stats.rejected == 1


@pytest.mark.script([400])
def test_a_refused_request_is_dropped_and_counted(bulk: ScriptedBulk) -> None:
    output = MemoryWriter()
    sdk = configure(bulk.url, writer=output, drop_report_interval=0.05)
    try:
        logfleet.log_event("refused")
        assert not sdk.flush(5)
        assert sdk.stats.rejected == 1
    finally:
        sdk.shutdown(1)
    reports = [event for event in output.events() if event["message"].startswith("logfleet sdk")]
    assert reports[0]["sdk_dropped_rejected"] == 1


@pytest.mark.script([503, 503, 503])
def test_without_a_spool_batches_are_given_up_after_max_attempts(bulk: ScriptedBulk) -> None:
    sdk = configure(bulk.url, max_attempts=3)
    try:
        logfleet.log_event("given up")
        assert not sdk.flush(5)
        assert sdk.stats.undeliverable == 1
    finally:
        sdk.shutdown(1)
    assert len(bulk.requests) == 3


def test_credentials_in_the_url_become_basic_auth(bulk: ScriptedBulk) -> None:
    host = bulk.url.removeprefix("http://")
    sdk = configure(f"http://elastic:s%40cret@{host}")
    try:
        logfleet.log_event("authenticated")
        assert sdk.flush(5)
    finally:
        sdk.shutdown(1)
    assert bulk.requests[0]["headers"]["Authorization"] == "Basic ZWxhc3RpYzpzQGNyZXQ="


def test_backoff_grows_is_capped_and_jittered() -> None:
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (10, 5.0), (40, 5.0)]:
        delays = [backoff(0.1, 5.0, attempt) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1, "jittered"


def test_bulk_answers_are_classified() -> None:
    assert classify_items(b"not json", 3) == Answered(3, 0, [])
    assert classify_items(b'{"errors": false, "items": []}', 2) == Answered(2, 0, [])
    answer = {
        "errors": True,
        "items": [
            {"create": {"status": 201}},
            {"create": {"status": 500}},
            {"index": {"status": 404}},
            {"create": {"status": 408}},
        ],
    }
    assert classify_items(json.dumps(answer).encode(), 4) == Answered(1, 1, [1, 3])


def test_the_spool_is_bounded_and_adopts_dead_processes(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=100)
    spool.push(1, b'{"a":1}\n')
    with pytest.raises(SpoolFullError):
        spool.push(2, b"x" * 200)
    assert spool.read_oldest() == (1, b'{"a":1}\n')
    spool.close()
    # A later process (here: a directory no live process locks) takes the batches over.
    orphan = tmp_path / "999999999"
    orphan.mkdir()
    (orphan / f"{7:020d}.ndjson").write_bytes(b'{"b":2}\n')
    adopter = Spool(tmp_path, max_bytes=1000)
    assert [sequence for sequence, _ in adopter.entries] == [1, 2]
    assert adopter.read_oldest() == (1, b'{"a":1}\n')
    adopter.remove_oldest()
    assert adopter.read_oldest() == (2, b'{"b":2}\n')
    assert not orphan.exists()
    adopter.close()


def test_exit_waits_no_longer_than_its_deadline() -> None:
    script = textwrap.dedent(
        """
        import socket, logfleet
        silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen(8)
        port = silent.getsockname()[1]
        logfleet.configure(url=f"http://127.0.0.1:{port}", exit_timeout=1.0)
        logfleet.log_event("never answered")
        """
    )
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", script], check=True, cwd=SDK_ROOT, timeout=30)
    assert time.monotonic() - started < 8.0


@pytest.mark.django_db
def test_performance_samples() -> None:
    output = MemoryWriter()
    sdk = logfleet.configure(writer=output, performance_interval=0.3)
    try:
        client = Client()
        for index in range(5):
            client.get(f"/api/users/{index}/")
        deadline = time.monotonic() + 10
        samples: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not any(
            "duration_ms_p50" in sample for sample in samples
        ):
            time.sleep(0.1)
            samples = [e for e in output.events() if e["message"] == "performance sample"]
    finally:
        sdk.shutdown(1)
    sample = next(sample for sample in samples if "duration_ms_p50" in sample)
    assert sample["log_category"] == "performance"
    assert sample["memory_rss_bytes"] > 1_000_000
    assert sample["open_connections"] == 0
    assert sample["requests_per_minute"] > 0
    assert 0 < sample["duration_ms_p50"] <= sample["duration_ms_p95"] <= sample["duration_ms_p99"]
    assert any("cpu_percent" in sample for sample in samples)


def test_logging_from_the_sender_thread_is_ignored() -> None:
    root = logging.getLogger()
    handler = logfleet.handlers.LogfleetHandler()

    class LoggingWriter(MemoryWriter):
        """Logs on every write, as a careless library inside the sender might."""

        def write(self, text: str) -> int:
            logging.getLogger("inside.sender").warning("wrote %d bytes", len(text))
            return super().write(text)

    output = LoggingWriter()
    sdk = logfleet.configure(writer=output)
    root.addHandler(handler)
    try:
        for index in range(10):
            logfleet.log_event("outside", seq=index)
        assert sdk.flush(5)
        time.sleep(0.2)
        assert sdk.flush(5)
    finally:
        root.removeHandler(handler)
        sdk.shutdown(1)
    messages = [event["message"] for event in output.events()]
    assert messages.count("outside") == 10
    assert not [message for message in messages if message.startswith("wrote")]
