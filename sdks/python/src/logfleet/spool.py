"""The on-disk spool: batches that could not be delivered wait here, in order.

The layout is the Rust SDK's — one NDJSON file per batch, named by its sequence number
(``00000000000000000042.ndjson``), written to a temporary name, fsync'd, renamed, and the
directory fsync'd, so a crash leaves the whole batch or nothing — with one addition for
forking servers: each process spools into its own subdirectory (``<spool_dir>/<pid>/``)
holding an exclusive ``flock`` on a ``.lock`` file there. A process opening the spool adopts
the subdirectories whose lock it can take (their process is gone, after a crash or a restart)
by moving their batches into its own, oldest first. Gunicorn's workers therefore never write
each other's files, and nothing a dead worker spooled is lost.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections import deque
from pathlib import Path

_EXTENSION = ".ndjson"
_TEMPORARY = ".tmp"
_LOCK = ".lock"


class SpoolFullError(Exception):
    """The spool is at its size limit."""


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sequence_of(path: Path) -> int | None:
    if not path.name.endswith(_EXTENSION):
        return None
    stem = path.name[: -len(_EXTENSION)]
    return int(stem) if stem.isdigit() else None


class Spool:
    """This process's spool directory and what it holds."""

    def __init__(self, base: Path, max_bytes: int) -> None:
        self.base = base
        self.directory = base / str(os.getpid())
        self.max_bytes = max_bytes
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_descriptor = os.open(
            self.directory / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
        )
        fcntl.flock(self._lock_descriptor, fcntl.LOCK_EX)
        # (sequence, bytes), oldest first.
        self.entries: deque[tuple[int, int]] = deque()
        self.total_bytes = 0
        self._load()
        self._adopt_orphans()

    def _path(self, sequence: int) -> Path:
        return self.directory / f"{sequence:020d}{_EXTENSION}"

    def _load(self) -> None:
        found: list[tuple[int, int]] = []
        for path in self.directory.iterdir():
            if path.name.endswith(_TEMPORARY):
                path.unlink(missing_ok=True)
                continue
            sequence = _sequence_of(path)
            if sequence is not None:
                found.append((sequence, path.stat().st_size))
        found.sort()
        self.entries = deque(found)
        self.total_bytes = sum(size for _, size in found)

    def _adopt_orphans(self) -> None:
        for other in sorted(self.base.iterdir()):
            if other == self.directory or not other.is_dir() or not other.name.isdigit():
                continue
            try:
                descriptor = os.open(other / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                continue
            try:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # its process is alive and spooling
                batches = sorted(
                    (sequence, path)
                    for path in other.iterdir()
                    if (sequence := _sequence_of(path)) is not None
                )
                for _, path in batches:
                    sequence = self.next_sequence()
                    target = self._path(sequence)
                    os.replace(path, target)
                    size = target.stat().st_size
                    self.entries.append((sequence, size))
                    self.total_bytes += size
                if batches:
                    _fsync_directory(self.directory)
                for leftover in other.iterdir():
                    leftover.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    other.rmdir()
            finally:
                os.close(descriptor)

    def close(self) -> None:
        """Releases the directory's lock (it stays for a later process to adopt).

        Also what a forked child does with the spool it inherited: closing its copy of the
        descriptor leaves the parent's lock in place."""
        with contextlib.suppress(OSError):
            os.close(self._lock_descriptor)

    def is_empty(self) -> bool:
        return not self.entries

    def next_sequence(self) -> int:
        return self.entries[-1][0] + 1 if self.entries else 1

    def oldest_sequence(self) -> int | None:
        return self.entries[0][0] if self.entries else None

    def push(self, sequence: int, docs: bytes) -> None:
        """Appends a batch durably; :class:`SpoolFullError` past the size limit, ``OSError``
        when writing fails."""
        if self.total_bytes + len(docs) > self.max_bytes:
            raise SpoolFullError
        self._write(sequence, docs)
        self.entries.append((sequence, len(docs)))
        # A batch re-spooled after a failed replay may come back out of order.
        if len(self.entries) > 1 and self.entries[-2][0] > sequence:
            self.entries = deque(sorted(self.entries))
        self.total_bytes += len(docs)

    def read_oldest(self) -> tuple[int, bytes] | None:
        """The oldest batch's sequence and documents."""
        if not self.entries:
            return None
        sequence = self.entries[0][0]
        try:
            return sequence, self._path(sequence).read_bytes()
        except FileNotFoundError:
            self._forget_oldest()
            return self.read_oldest()

    def remove_oldest(self) -> None:
        """Deletes the oldest batch, delivered."""
        if not self.entries:
            return
        sequence = self.entries[0][0]
        self._path(sequence).unlink(missing_ok=True)
        self._forget_oldest()

    def replace_oldest(self, docs: bytes) -> None:
        """Rewrites the oldest batch with the documents still to deliver."""
        if not self.entries:
            return
        sequence, size = self.entries[0]
        self._write(sequence, docs)
        self.entries[0] = (sequence, len(docs))
        self.total_bytes += len(docs) - size

    def _forget_oldest(self) -> None:
        _, size = self.entries.popleft()
        self.total_bytes -= size

    def _write(self, sequence: int, docs: bytes) -> None:
        final = self._path(sequence)
        temporary = final.with_name(final.name + _TEMPORARY)
        with open(temporary, "wb") as file:
            file.write(docs)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, final)
        _fsync_directory(self.directory)
