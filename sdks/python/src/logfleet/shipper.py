"""Shipping to a ``_bulk`` endpoint: batching, gzip, retries with backoff, the spool.

Everything here runs on the sender thread. Encoded events are appended to an open
:class:`Batch`, sealed by count, size or age, and delivered one request at a time, in order:
spooled batches first (they are older), then sealed batches waiting in memory. Each delivery
is ``POST {url}/_bulk`` with a ``create`` action per event (data streams accept only
``create``) and a gzip body, through ``http.client``, which logs nothing, so the sender can
never feed its own queue.

Outcomes, as in the Rust SDK: network errors, ``408``, ``429`` and ``5xx`` retry the whole
batch after an exponential backoff with jitter; in a ``2xx`` answer, items with ``429`` or
``5xx`` are retried alone, other ``4xx`` items are dropped and counted, and a ``4xx`` for the
whole request drops the batch. After ``max_attempts`` a batch goes to the spool (or, without
one, is dropped and counted); while the spool holds anything, new batches join it behind, so
order is kept and memory stays bounded during an outage. Delivery is at least once; a
``409`` on ``create`` (the document is already there) counts as delivered.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from logfleet.config import Settings
from logfleet.spool import Spool, SpoolFullError


@dataclass
class Batch:
    """A group of encoded events delivered in one request."""

    sequence: int
    docs: list[bytes] = field(default_factory=list)
    size: int = 0
    attempts: int = 0
    opened: float | None = None

    def push(self, doc: bytes) -> None:
        if self.opened is None:
            self.opened = time.monotonic()
        self.docs.append(doc)
        self.size += len(doc) + 1

    def ndjson(self) -> bytes:
        return b"".join(doc + b"\n" for doc in self.docs)

    @classmethod
    def from_ndjson(cls, sequence: int, text: bytes) -> Batch:
        batch = cls(sequence)
        for line in text.split(b"\n"):
            if line.strip():
                batch.push(line)
        return batch

    def retain(self, indices: list[int]) -> Batch:
        kept = Batch(self.sequence, attempts=self.attempts, opened=self.opened)
        for index in indices:
            if index < len(self.docs):
                kept.push(self.docs[index])
        return kept


@dataclass(frozen=True)
class Answered:
    """The server answered for each document."""

    accepted: int
    rejected: int
    retry: list[int]


class Retry:
    """Send the whole batch again later."""


class Refused:
    """The server refused the whole request for good."""


Outcome = Answered | Retry | Refused
RETRY = Retry()
REFUSED = Refused()


def is_retryable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def classify_items(body: bytes, doc_count: int) -> Answered:
    """The per-item statuses of a successful ``_bulk`` answer."""
    all_accepted = Answered(doc_count, 0, [])
    try:
        answer = json.loads(body)
    except ValueError:
        # A 2xx that is not a bulk answer still means the server took the body.
        return all_accepted
    if not isinstance(answer, dict) or not answer.get("errors"):
        return all_accepted
    items = answer.get("items")
    if not isinstance(items, list) or len(items) != doc_count:
        return all_accepted
    accepted = rejected = 0
    retry: list[int] = []
    for index, item in enumerate(items):
        status = 200
        if isinstance(item, dict) and item:
            result = next(iter(item.values()))
            if isinstance(result, dict) and isinstance(result.get("status"), int):
                status = result["status"]
        if 200 <= status < 300 or status == 409:
            accepted += 1
        elif is_retryable_status(status):
            retry.append(index)
        else:
            rejected += 1
    return Answered(accepted, rejected, retry)


def backoff(initial: float, maximum: float, attempt: int) -> float:
    """The delay before attempt ``attempt + 1``: ``initial * 2 ** (attempt - 1)``, capped, then
    randomised between half and all of it so clients that failed together do not retry
    together."""
    base = min(initial * (1 << min(max(attempt - 1, 0), 20)), maximum)
    return base / 2 + random.uniform(0, base / 2)


class BulkClient:
    """One keep-alive connection to the ``_bulk`` endpoint."""

    def __init__(self, bulk_url: str, use_gzip: bool) -> None:
        parts = urlsplit(bulk_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._path = parts.path or "/_bulk"
        self._gzip = use_gzip
        self._headers = {"Content-Type": "application/x-ndjson"}
        if use_gzip:
            self._headers["Content-Encoding"] = "gzip"
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            token = base64.b64encode(credentials.encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._connection is None:
            factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = factory(self._host, self._port, timeout=timeout)
        else:
            self._connection.timeout = timeout
            if self._connection.sock is not None:
                self._connection.sock.settimeout(timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def send(self, body: bytes, doc_count: int, timeout: float) -> Outcome:
        """Sends one ``_bulk`` request and classifies the answer."""
        payload = gzip.compress(body, compresslevel=1) if self._gzip else body
        try:
            connection = self._connect(timeout)
            connection.request("POST", self._path, body=payload, headers=self._headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            # Refused, reset, timed out, or an answer cut short: at least once says again.
            self.close()
            return RETRY
        if response.will_close:
            self.close()
        status = response.status
        if is_retryable_status(status):
            return RETRY
        if not 200 <= status < 300:
            return REFUSED
        return classify_items(answer, doc_count)


class Shipper:
    """The delivery state machine; ``count_drop(kind, n)`` counts events given up on."""

    def __init__(
        self, settings: Settings, bulk_url: str, count_drop: Callable[[str, int], None]
    ) -> None:
        self.settings = settings
        self._count_drop = count_drop
        self._client = BulkClient(bulk_url, settings.gzip)
        action = json.dumps({"create": {"_index": settings.index}}, separators=(",", ":"))
        self._action_line = action.encode() + b"\n"
        self.spool: Spool | None = None
        if settings.spool_dir is not None:
            self.spool = Spool(Path(settings.spool_dir), settings.spool_max_bytes)
        first = self.spool.next_sequence() if self.spool is not None else 1
        self.open = Batch(first)
        self._next_sequence = first + 1
        self.pending: deque[Batch] = deque()
        self._spool_head: Batch | None = None
        self._failures = 0
        self.not_before = 0.0

    # Filling batches.

    def push(self, doc: bytes) -> None:
        self.open.push(doc)
        if (
            len(self.open.docs) >= self.settings.batch_max_events
            or self.open.size >= self.settings.batch_max_bytes
        ):
            self.seal()

    def seal_if_due(self, now: float) -> None:
        opened = self.open.opened
        if opened is not None and now - opened >= self.settings.batch_interval:
            self.seal()

    def seal(self) -> int:
        """Seals the open batch (if it holds anything); returns the last sealed sequence."""
        if not self.open.docs:
            return self.open.sequence - 1
        batch = self.open
        self.open = Batch(self._next_sequence)
        self._next_sequence += 1
        if self.spool is not None and not self.spool.is_empty():
            # The spool holds older batches: this one waits behind them, on disk.
            self._to_spool(batch)
        else:
            self.pending.append(batch)
            while len(self.pending) > self.settings.max_pending_batches:
                self._give_up_on(self.pending.popleft())
        return batch.sequence

    def _to_spool(self, batch: Batch) -> None:
        assert self.spool is not None
        try:
            self.spool.push(batch.sequence, batch.ndjson())
        except SpoolFullError:
            self._count_drop("spool_full", len(batch.docs))
        except OSError:
            self._count_drop("undeliverable", len(batch.docs))

    def _give_up_on(self, batch: Batch) -> None:
        """A batch that cannot stay in memory: to the spool, or dropped and counted."""
        if self.spool is not None:
            self._to_spool(batch)
        else:
            self._count_drop("undeliverable", len(batch.docs))

    # Delivering.

    def has_work(self) -> bool:
        return bool(self.pending) or (self.spool is not None and not self.spool.is_empty())

    def has_undelivered_through(self, sequence: int) -> bool:
        if any(batch.sequence <= sequence for batch in self.pending):
            return True
        if self.spool is not None:
            oldest = self.spool.oldest_sequence()
            if oldest is not None and oldest <= sequence:
                return True
        return bool(self.open.docs) and self.open.sequence <= sequence

    def deliver_one(self, now: float, timeout: float) -> bool:
        """Delivers the oldest batch if one is due; whether an attempt was made."""
        if now < self.not_before or not self.has_work():
            return False
        from_spool = self.spool is not None and not self.spool.is_empty()
        if from_spool:
            batch = self._read_spool_head()
            if batch is None:
                return False
        else:
            batch = self.pending[0]
        outcome = self._client.send(self._body(batch), len(batch.docs), timeout)
        self._complete(batch, from_spool, outcome, time.monotonic())
        return True

    def _read_spool_head(self) -> Batch | None:
        assert self.spool is not None
        if self._spool_head is None:
            oldest = self.spool.read_oldest()
            if oldest is None:
                return None
            self._spool_head = Batch.from_ndjson(*oldest)
            if not self._spool_head.docs:
                self.spool.remove_oldest()
                self._spool_head = None
                return None
        return self._spool_head

    def _body(self, batch: Batch) -> bytes:
        action = self._action_line
        return b"".join(action + doc + b"\n" for doc in batch.docs)

    def _complete(self, batch: Batch, from_spool: bool, outcome: Outcome, now: float) -> None:
        if isinstance(outcome, Answered):
            if outcome.rejected:
                self._count_drop("rejected", outcome.rejected)
            if outcome.retry:
                remaining = batch.retain(outcome.retry)
                remaining.attempts += 1
                self._replace(from_spool, remaining)
                self._failed(now)
                if not from_spool and remaining.attempts >= self.settings.max_attempts:
                    self._spill()
                return
            self._remove(from_spool)
            self._failures = 0
            self.not_before = now
            return
        if isinstance(outcome, Refused):
            self._count_drop("rejected", len(batch.docs))
            self._remove(from_spool)
            return
        batch.attempts += 1
        self._failed(now)
        if not from_spool and batch.attempts >= self.settings.max_attempts:
            self._spill()

    def _spill(self) -> None:
        """The oldest batch in memory ran out of attempts: it and every batch behind it go
        to the spool (in order, so the spool's replay keeps the events' order), or are
        dropped and counted without one."""
        while self.pending:
            self._give_up_on(self.pending.popleft())

    def _failed(self, now: float) -> None:
        self._failures += 1
        self.not_before = now + backoff(
            self.settings.initial_backoff, self.settings.max_backoff, self._failures
        )

    def _remove(self, from_spool: bool) -> None:
        if from_spool:
            assert self.spool is not None
            self.spool.remove_oldest()
            self._spool_head = None
        else:
            self.pending.popleft()

    def _replace(self, from_spool: bool, batch: Batch) -> None:
        if from_spool:
            assert self.spool is not None
            self.spool.replace_oldest(batch.ndjson())
            self._spool_head = batch
        else:
            self.pending[0] = batch

    def shutdown(self) -> None:
        """At exit: what is left goes to the spool (or is counted as undeliverable)."""
        self.seal()
        while self.pending:
            self._give_up_on(self.pending.popleft())
        self._client.close()
        if self.spool is not None:
            self.spool.close()
