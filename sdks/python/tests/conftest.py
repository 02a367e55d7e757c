"""Fixtures: an SDK writing to memory, and the real `logfleet` binary for shipping tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import logfleet
from logfleet import Logfleet, MemoryWriter

# Every event carries these.
COMMON_FIELDS = (
    "@timestamp",
    "log_category",
    "level",
    "message",
    "app_name",
    "service_type",
    "environment",
    "host",
    "service_version",
)


@dataclass
class Capture:
    sdk: Logfleet
    output: MemoryWriter

    def events(self) -> list[dict[str, Any]]:
        """Every event so far, after a flush that must succeed."""
        assert self.sdk.flush(10.0), "flush failed"
        events = self.output.events()
        for event in events:
            for name in COMMON_FIELDS:
                assert name in event, f"{name} missing in {event}"
        return events

    def only(self, **match: Any) -> dict[str, Any]:
        """The one event whose fields have these values."""
        found = [
            event
            for event in self.events()
            if all(event.get(key.replace("__", "@")) == value for key, value in match.items())
        ]
        assert len(found) == 1, f"{len(found)} events match {match}: {self.events()}"
        return found[0]


@pytest.fixture
def capture() -> Iterator[Capture]:
    output = MemoryWriter()
    sdk = logfleet.configure(writer=output)
    yield Capture(sdk, output)
    sdk.shutdown(2.0)


@pytest.fixture(autouse=True)
def _no_sdk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own LOGFLEET_* variables must not change what the tests expect.
    for name in list(os.environ):
        if name.startswith("LOGFLEET_") and name != "LOGFLEET_BIN":
            monkeypatch.delenv(name)
