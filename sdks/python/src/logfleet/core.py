"""The SDK instance: the bounded buffer, the sender thread, flushes, fork and exit.

**The caller's thread never blocks and never does I/O.** An event is one small tuple (a
:class:`~logfleet.encode.Record` of references: time, level, message, the fields dict, the
request context) appended to a bounded ``deque``; when the buffer is full the event is
dropped and counted. JSON, redaction, timestamps, gzip, HTTP, fsync all happen on one daemon
thread, started by the first event (so importing and configuring cost nothing and a process
that never logs never starts it).

**Fork.** ``os.register_at_fork`` resets the buffer, the counters and the thread in the child
(events queued in the parent are the parent's to send), so gunicorn workers (``--preload``
or not) each start their own sender with their first event and spool into their own
directory. uWSGI runs the hooks only with ``py-call-osafterfork`` (or ``lazy-apps``).

**Exit.** An ``atexit`` handler delivers what is left within ``exit_timeout`` seconds and
spools the rest; events logged just before exit arrive.

**Dropped events are reported** in a ``performance`` event ``logfleet sdk dropped events``
with ``sdk_dropped_events`` and a count per cause, as the Rust SDK does.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from logfleet.config import Settings
from logfleet.context import RequestContext, _reseed, current_context, parse_trusted_proxies
from logfleet.encode import Encoder, Record
from logfleet.redact import Redactor
from logfleet.shipper import Shipper

# How often the sender wakes on its own to drain the buffer.
DRAIN_INTERVAL = 0.05
# Written outputs are flushed when their buffer reaches this size.
_OUTPUT_BUFFER_LIMIT = 256 * 1024
# Request durations kept per performance window (beyond it, only counted).
_MAX_WINDOW_SAMPLES = 65536

SEVERITY = {"debug": 0, "info": 1, "warning": 2, "error": 3, "critical": 4}

# A `Record` made without its generated `__new__` (a Python frame and a second tuple): every
# event makes one.
_new_record = cast(Callable[[type[Record], tuple[Any, ...]], Record], tuple.__new__)

# The idents of the threads doing a sender's work, whose own logging must be ignored. A set
# of idents rather than a `threading.local`: the logging handler asks on every record, and a
# membership test is several times cheaper than a thread-local lookup.
_sender_idents: set[int] = set()


def on_sender_thread() -> bool:
    """Whether the current thread is a sender thread, whose own logging must be ignored."""
    return threading.get_ident() in _sender_idents


class Writer(Protocol):
    """Where JSON lines go besides the server: anything with ``write(str)``."""

    def write(self, text: str, /) -> Any: ...


class MemoryWriter:
    """Keeps written JSON lines in memory, for tests.

    >>> import logfleet
    >>> output = MemoryWriter()
    >>> sdk = logfleet.configure(app_name="auth", writer=output, performance_interval=None)
    >>> logfleet.log_user_action("USER_CREATED", None, user_id=42)
    >>> sdk.flush(5.0)
    True
    >>> output.events()[0]["user_action"]
    'USER_CREATED'
    >>> sdk.shutdown(1.0)
    True
    """

    def __init__(self) -> None:
        self._chunks: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._chunks.append(text)
        return len(text)

    def lines(self) -> list[str]:
        with self._lock:
            text = "".join(self._chunks)
        return [line for line in text.split("\n") if line]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()


@dataclass
class Stats:
    """What happened to the events so far (in this process)."""

    emitted: int = 0
    written: int = 0
    queue_full: int = 0
    rejected: int = 0
    undeliverable: int = 0
    spool_full: int = 0

    def dropped(self) -> int:
        return self.queue_full + self.rejected + self.undeliverable + self.spool_full


class _Flush:
    __slots__ = ("deadline", "delivered", "done", "drops_before", "through")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = threading.Event()
        self.delivered = False
        self.through: int | None = None
        self.drops_before = 0


class Logfleet:
    """One configured SDK: identity, outputs, buffer and sender. Usually the process's
    global instance, made by :func:`logfleet.configure` or Django's app config."""

    def __init__(self, settings: Settings, writer: Writer | None = None) -> None:
        self.settings = settings
        self.writer = writer
        self.min_severity = SEVERITY[settings.level]
        self.redactor = Redactor(settings.redaction, settings.redact_keys)
        self.encoder = Encoder(
            {
                "app_name": settings.app_name,
                "service_type": settings.service_type,
                "environment": settings.environment,
                "host": settings.host,
                "service_version": settings.service_version,
            },
            self.redactor,
            settings.default_category,
        )
        self._bulk_url = settings.bulk_url()
        # Parsed once: the middleware and the view decorators resolve client addresses with it.
        self.trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)
        # stdout is on unless the events go somewhere else (a URL or a writer), as in Rust.
        self._stdout = (
            settings.stdout
            if settings.stdout is not None
            else (self._bulk_url is None and writer is None)
        )
        self._capacity = settings.queue_capacity
        self._wake_threshold = max(1, settings.queue_capacity // 2)
        self._closed = False
        self._reset_process_state()
        instance = weakref.ref(self)

        def after_fork_in_child() -> None:
            alive = instance()
            if alive is not None:
                alive._reset_after_fork()

        os.register_at_fork(after_in_child=after_fork_in_child)
        atexit.register(self._at_exit)

    def _reset_process_state(self) -> None:
        """Everything that belongs to one process, made fresh (at start and after fork)."""
        self._queue: deque[Record] = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop_requested = False
        self._flushes: list[_Flush] = []
        self.stats = Stats()
        self._shipper: Shipper | None = None
        self._output: list[str] = []
        self._drops_reported = 0
        self._drops_answered = 0
        # Request metrics for the performance samples.
        self._in_flight = 0
        self._durations: list[float] = []
        self._window_count = 0
        now = time.monotonic()
        self._next_drop_report = now + self.settings.drop_report_interval
        interval = self.settings.performance_interval
        self._next_performance = now + interval if interval else None
        self._last_performance = now
        # The CPU time used so far, so the first sample has a window to compare with.
        times = os.times()
        self._last_cpu: tuple[float, float] | None = (now, times.user + times.system)

    def _reset_after_fork(self) -> None:
        # The parent's events are the parent's to deliver; its spool lock stays the parent's.
        shipper = self._shipper
        if shipper is not None and shipper.spool is not None:
            shipper.spool.close()
        _reseed()
        self._reset_process_state()

    # The caller's side.

    def enabled(self, level: str) -> bool:
        return SEVERITY.get(level, 1) >= self.min_severity

    def emit(
        self,
        level: str,
        category: str | None,
        message: str,
        fields: dict[str, Any] | Callable[[], dict[str, Any]],
        context: RequestContext | None = None,
        target: str | None = None,
    ) -> None:
        """Queues one event; never blocks. ``context`` defaults to the current request's;
        ``fields`` may be a function the sender thread calls for them."""
        if SEVERITY.get(level, 1) < self.min_severity or self._closed:
            return
        if context is None:
            context = current_context()
        user = context.user if context is not None else (None, None)
        # `enqueue`, inlined: this runs for every event.
        queue = self._queue
        if len(queue) >= self._capacity:
            self._count_drop("queue_full", 1)
            return
        queue.append(
            _new_record(
                Record, (time.time_ns(), level, category, message, fields, context, user, target)
            )
        )
        if self._thread is None:
            self._start()
        elif len(queue) >= self._wake_threshold:
            self._wake.set()

    def enqueue(self, record: Record) -> None:
        queue = self._queue
        if len(queue) >= self._capacity:
            self._count_drop("queue_full", 1)
            return
        queue.append(record)
        if self._thread is None:
            self._start()
        elif len(queue) >= self._wake_threshold:
            self._wake.set()

    def _count_drop(self, kind: str, count: int) -> None:
        with self._lock:
            setattr(self.stats, kind, getattr(self.stats, kind) + count)

    def request_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def request_finished(self, duration_ms: float) -> None:
        with self._lock:
            self._in_flight -= 1
            self._window_count += 1
            if len(self._durations) < _MAX_WINDOW_SAMPLES:
                self._durations.append(duration_ms)

    def dropped_events(self) -> int:
        with self._lock:
            return self.stats.dropped()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._run, name="logfleet-sender", daemon=True)
            try:
                thread.start()
            except RuntimeError:
                # The interpreter is shutting down: the exit handler sends what is queued.
                return
            self._thread = thread

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until every event emitted before the call is delivered (or written), at most
        ``timeout`` seconds; whether everything arrived without drops."""
        request = _Flush(time.monotonic() + timeout)
        with self._lock:
            self._flushes.append(request)
        if self._thread is None:
            self._start()
        thread = self._thread
        if thread is None or not thread.is_alive():
            # No sender (shutting down): do the work here.
            self._run_inline(request.deadline)
        else:
            self._wake.set()
            request.done.wait(max(0.0, timeout) + 1.0)
        return request.delivered

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Delivers what is left within ``timeout`` seconds, spools the rest, stops the sender;
        whether everything was delivered. Later events are ignored."""
        delivered = self.flush(timeout)
        atexit.unregister(self._at_exit)
        with self._lock:
            self._closed = True
            self._stop_requested = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(1.0, timeout))
        elif thread is None:
            self._finish()
        return delivered

    def _at_exit(self) -> None:
        # A process that never logged (a forked child, say) has nothing to deliver.
        nothing_to_do = self._thread is None and not self._queue and self._shipper is None
        if not self._closed and not nothing_to_do:
            self.shutdown(self.settings.exit_timeout)

    # The sender's side.

    def _run(self) -> None:
        _sender_idents.add(threading.get_ident())
        try:
            self._loop()
        finally:
            self._finish()
            _sender_idents.discard(threading.get_ident())

    def _run_inline(self, deadline: float) -> None:
        """The sender's work on the calling thread, until the flushes are answered."""
        ident = threading.get_ident()
        previous = ident in _sender_idents
        _sender_idents.add(ident)
        try:
            while self._flushes:
                self._step(time.monotonic())
                if self._flushes:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._settle_flushes(time.monotonic(), force=True)
                        break
                    time.sleep(min(DRAIN_INTERVAL, remaining))
        finally:
            if not previous:
                _sender_idents.discard(ident)

    def _loop(self) -> None:
        while True:
            now = time.monotonic()
            self._wake.wait(self._next_wakeup(now))
            self._wake.clear()
            try:
                self._step(time.monotonic())
            except Exception as error:  # the sender must outlive any bug; say it once
                sys.stderr.write(f"logfleet: sender error: {error!r}\n")
            if self._stop_requested and not self._flushes:
                return

    def _next_wakeup(self, now: float) -> float:
        if self._queue or self._stop_requested:
            return 0.0
        wake_at = now + DRAIN_INTERVAL
        shipper = self._shipper
        if shipper is not None:
            if shipper.has_work():
                wake_at = min(wake_at, shipper.not_before)
            if shipper.open.opened is not None:
                wake_at = min(wake_at, shipper.open.opened + self.settings.batch_interval)
        if self._next_performance is not None:
            wake_at = min(wake_at, self._next_performance)
        wake_at = min(wake_at, self._next_drop_report)
        return max(0.0, wake_at - now)

    def _ensure_shipper(self) -> Shipper | None:
        # Made on the sender thread, so its spool belongs to the process that sends.
        if self._shipper is None and self._bulk_url is not None:
            self._shipper = Shipper(self.settings, self._bulk_url, self._count_drop)
        return self._shipper

    def _step(self, now: float) -> None:
        shipper = self._ensure_shipper()
        with self._lock:
            new_flushes = [flush for flush in self._flushes if flush.through is None]
        self._drain()
        for flush in new_flushes:
            # Everything emitted before the flush is in a batch by now.
            flush.through = shipper.seal() if shipper is not None else 0
            flush.drops_before = self._drops_answered
        if shipper is not None:
            shipper.seal_if_due(now)
            # Deliver what is due, but come back to drain between requests.
            if shipper.deliver_one(now, self._delivery_timeout(now)):
                self._wake.set()
        self._periodic(now)
        self._settle_flushes(time.monotonic())

    def _delivery_timeout(self, now: float) -> float:
        timeout = self.settings.request_timeout
        with self._lock:
            deadlines = [flush.deadline for flush in self._flushes]
        if deadlines:
            timeout = min(timeout, max(0.2, min(deadlines) - now))
        return timeout

    def _drain(self) -> None:
        queue = self._queue
        shipper = self._shipper
        encode = self.encoder.encode
        writes = self._stdout or self.writer is not None
        # Bounded, so a flood cannot starve deliveries and flushes.
        for _ in range(len(queue)):
            try:
                record = queue.popleft()
            except IndexError:
                break
            self._process(record, encode, shipper, writes)
        self._write_outputs()

    def _process(
        self,
        record: Record,
        encode: Callable[[Record], bytes],
        shipper: Shipper | None,
        writes: bool,
    ) -> None:
        try:
            line = encode(record)
        except (TypeError, ValueError):
            # Unencodable (a circular structure): counted, never raised at the caller.
            self._count_drop("rejected", 1)
            return
        self.stats.emitted += 1
        if writes:
            self._output.append(line.decode())
            if len(self._output) >= 1024:
                self._write_outputs()
        if shipper is not None:
            shipper.push(line)

    def _write_outputs(self) -> None:
        if not self._output:
            return
        text = "\n".join(self._output) + "\n"
        count = len(self._output)
        self._output = []
        # Write errors (a closed stdout) cannot be reported anywhere useful and must not stop
        # shipping: the lines are lost for that output only.
        if self._stdout:
            with contextlib.suppress(Exception):
                sys.stdout.write(text)
                sys.stdout.flush()
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.write(text)
        self.stats.written += count

    def _settle_flushes(self, now: float, force: bool = False) -> None:
        with self._lock:
            flushes = list(self._flushes)
        shipper = self._shipper
        for flush in flushes:
            if flush.through is None and not force:
                continue
            through = flush.through if flush.through is not None else 0
            undelivered = shipper is not None and shipper.has_undelivered_through(through)
            if undelivered and now < flush.deadline and not force:
                continue
            dropped = self.dropped_events()
            flush.delivered = not undelivered and dropped == flush.drops_before
            self._drops_answered = dropped
            with self._lock:
                self._flushes.remove(flush)
            flush.done.set()

    def _finish(self) -> None:
        """After the loop: take the last events, spool what was not delivered, answer."""
        with self._lock:
            self._closed = True
        self._drain()
        self._report_drops()
        if self._shipper is not None:
            self._shipper.shutdown()
        self._write_outputs()
        self._settle_flushes(time.monotonic(), force=True)

    # Periodic events.

    def _periodic(self, now: float) -> None:
        interval = self.settings.performance_interval
        if interval and self._next_performance is not None and now >= self._next_performance:
            self._emit_performance(now)
            self._next_performance = now + interval
        if now >= self._next_drop_report:
            self._report_drops()
            self._next_drop_report = now + self.settings.drop_report_interval

    def _emit_direct(self, level: str, message: str, fields: dict[str, Any]) -> None:
        record = Record(time.time_ns(), level, "performance", message, fields, None, (None, None))
        self._process(
            record, self.encoder.encode, self._shipper, self._stdout or self.writer is not None
        )
        self._write_outputs()

    def _emit_performance(self, now: float) -> None:
        window = now - self._last_performance
        self._last_performance = now
        with self._lock:
            durations, self._durations = self._durations, []
            count, self._window_count = self._window_count, 0
            in_flight = max(0, self._in_flight)
        fields: dict[str, Any] = {}
        cpu = self._cpu_percent(now)
        if cpu is not None:
            fields["cpu_percent"] = round(cpu, 2)
        rss = _memory_rss_bytes()
        if rss is not None:
            fields["memory_rss_bytes"] = rss
        fields["open_connections"] = in_flight
        per_minute = count / window * 60.0 if window > 0 else 0.0
        fields["requests_per_minute"] = round(per_minute, 2)
        if durations:
            durations.sort()
            for name, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
                fields[f"duration_ms_{name}"] = round(_nearest_rank(durations, fraction), 2)
        self._emit_direct("info", "performance sample", fields)

    def _cpu_percent(self, now: float) -> float | None:
        times = os.times()
        used = times.user + times.system
        previous, self._last_cpu = self._last_cpu, (now, used)
        if previous is None:
            return None
        elapsed = now - previous[0]
        return (used - previous[1]) / elapsed * 100.0 if elapsed > 0 else None

    def _report_drops(self) -> None:
        with self._lock:
            stats = Stats(**vars(self.stats))
        total = stats.dropped()
        new_drops = total - self._drops_reported
        if new_drops <= 0:
            return
        self._drops_reported = total
        self._emit_direct(
            "warning",
            "logfleet sdk dropped events",
            {
                "sdk_dropped_events": new_drops,
                "sdk_dropped_events_total": total,
                "sdk_dropped_queue_full": stats.queue_full,
                "sdk_dropped_rejected": stats.rejected,
                "sdk_dropped_undeliverable": stats.undeliverable,
                "sdk_dropped_spool_full": stats.spool_full,
            },
        )


def _nearest_rank(sorted_values: list[float], fraction: float) -> float:
    count = len(sorted_values)
    rank = min(max(int(-(-fraction * count // 1)), 1), count)
    return sorted_values[rank - 1]


def _memory_rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


# The process's instance.

_instance: Logfleet | None = None
_instance_lock = threading.Lock()


def _new_instance_lock() -> None:
    # A fork while another thread held the lock would leave the child's copy locked forever.
    global _instance_lock
    _instance_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_instance_lock)


def get() -> Logfleet:
    """The process's SDK, configured on first use (from Django's settings when Django is set
    up, else from ``LOGFLEET_*`` variables)."""
    instance = _instance
    if instance is not None:
        return instance
    with _instance_lock:
        if _instance is None:
            _install(Logfleet(_default_settings()))
        assert _instance is not None
        return _instance


# Identity given as arguments of the `LOGGING` handler, the seed's place for APP_NAME and
# service_type; the `LOGFLEET` dict and the environment win over them.
handler_defaults: dict[str, Any] = {}


def django_settings() -> dict[str, Any] | None:
    """Django's ``LOGFLEET`` dict when Django is configured, with the seed's top-level
    ``APP_NAME`` setting as the default ``APP_NAME``."""
    if "django" not in sys.modules:
        return None
    from django.conf import settings

    if not settings.configured:
        return None
    configured = dict(getattr(settings, "LOGFLEET", {}) or {})
    app_name = getattr(settings, "APP_NAME", None)
    if app_name and "APP_NAME" not in configured:
        configured["APP_NAME"] = app_name
    return configured


def _default_settings() -> Settings:
    from logfleet.config import load_settings

    return load_settings(django_settings(), handler_defaults)


def _install(instance: Logfleet) -> None:
    global _instance
    _instance = instance


def install(instance: Logfleet) -> Logfleet:
    """Makes ``instance`` the process's SDK, shutting the previous one down."""
    global _instance
    with _instance_lock:
        previous, _instance = _instance, instance
    if previous is not None and previous is not instance:
        previous.shutdown(previous.settings.exit_timeout)
    return instance


def current() -> Logfleet | None:
    """The process's SDK if one exists, without creating it."""
    return _instance
