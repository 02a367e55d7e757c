"""ElastAlert2 alerts on a burst of errors stored in Logfleet.

The setup its documentation walks through: `elastalert-create-index` makes the writeback
indexes (`elastalert_status` and its `_status`, `_silence`, `_error`, `_past` siblings),
then `elastalert` runs a `frequency` rule (3 events with `level: error` within 5 minutes)
over a fixed time window with `--start`/`--end`. The rule's `command` alerter appends
each match to a file, and ElastAlert records the alert in its writeback index.
`elastalert-test-rule` checks the same rule without writing anything back.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_tool, venv_bin

pytest.importorskip("elastalert")

INDEX = "app-events"
WRITEBACK = "elastalert_status"
RULE_NAME = "error-burst"
# `elastalert --end` ends a real-time run: it exits once the next run would start after
# `--end`, so the events are recent. A rule's first run comes at a random 0-15 s after
# start-up, so `--end` leaves room for that and for one more run.
RUN_EVERY_S = 2
RUN_FOR_S = 30


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def window_start() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)


@pytest.fixture
def events(logfleet, window_start):
    """Five errors within two minutes among info events, and a lone error ten minutes earlier."""
    logfleet.ok("PUT", f"/{INDEX}", {"mappings": {"properties": {
        "@timestamp": {"type": "date"}, "level": {"type": "keyword"},
        "service": {"type": "keyword"}, "message": {"type": "text"},
    }}})
    docs = []
    for minute in range(15):
        docs.append({"@timestamp": iso(window_start + timedelta(minutes=minute, seconds=5)),
                     "level": "info", "service": "shop", "message": f"request {minute} served"})
    for n in range(5):
        docs.append({"@timestamp": iso(window_start + timedelta(minutes=12, seconds=30 * n)),
                     "level": "error", "service": "shop", "message": f"checkout failed #{n}"})
    docs.append({"@timestamp": iso(window_start + timedelta(minutes=2)),
                 "level": "error", "service": "shop", "message": "early lone failure"})
    logfleet.bulk_index(INDEX, docs)
    return docs


@pytest.fixture
def config(logfleet, tmp_path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    alerts = tmp_path / "alerts.jsonl"
    # The command alerter gets each match as JSON on standard input.
    (rules / "error_burst.yaml").write_text(
        f"name: {RULE_NAME}\n"
        "type: frequency\n"
        f"index: {INDEX}\n"
        "timestamp_field: '@timestamp'\n"
        "num_events: 3\n"
        "timeframe:\n"
        "  minutes: 5\n"
        "filter:\n"
        "- term:\n"
        "    level: error\n"
        "realert:\n"
        "  minutes: 0\n"
        "alert:\n"
        "- command\n"
        f"command: [{json.dumps(sys.executable)}, '-c', "
        f"'import sys; open({json.dumps(str(alerts))}, \"a\").write(sys.stdin.read().replace(\"\\n\", \" \") + \"\\n\")']\n"
        "pipe_match_json: true\n"
    )
    path = tmp_path / "config.yaml"
    path.write_text(
        f"rules_folder: {rules}\n"
        "run_every:\n"
        f"  seconds: {RUN_EVERY_S}\n"
        "buffer_time:\n"
        "  minutes: 15\n"
        "es_host: 127.0.0.1\n"
        f"es_port: {logfleet.port}\n"
        "use_ssl: false\n"
        f"writeback_index: {WRITEBACK}\n"
        "alert_time_limit:\n"
        "  days: 2\n"
    )
    return path


def create_index(logfleet, config: Path):
    return run_tool([venv_bin("elastalert-create-index"), "--config", config,
                     "--host", "127.0.0.1", "--port", logfleet.port, "--no-ssl", "--no-auth",
                     "--index", WRITEBACK, "--old-index", ""])


def test_create_index_makes_the_writeback_indexes(logfleet, config):
    create_index(logfleet, config)
    suffixes = ["", "_status", "_silence", "_error", "_past"]
    existing = logfleet.indices()
    for suffix in suffixes:
        assert WRITEBACK + suffix in existing
    mapping = logfleet.ok("GET", f"/{WRITEBACK}/_mapping")[WRITEBACK]["mappings"]["properties"]
    assert mapping["alert_time"]["type"] == "date"
    assert mapping["rule_name"]["type"] == "keyword"


def test_frequency_rule_alerts_on_an_error_burst(logfleet, config, events, window_start):
    create_index(logfleet, config)
    end = datetime.now(UTC) + timedelta(seconds=RUN_FOR_S)
    result = run_tool([
        venv_bin("elastalert"), "--config", config, "--verbose",
        "--rule", config.parent / "rules" / "error_burst.yaml",
        "--start", iso(window_start), "--end", iso(end),
    ], timeout=240)
    output = result.stdout + result.stderr
    alerts_file = config.parent / "alerts.jsonl"
    assert alerts_file.exists(), f"no alert was sent\n{output[-6000:]}"
    # One line per alert, each the JSON list of the alert's matches.
    matches = [match for line in alerts_file.read_text().splitlines() if line.strip()
               for match in json.loads(line)]
    assert matches, output[-6000:]
    assert all(match["level"] == "error" for match in matches)
    assert matches[0]["message"].startswith("checkout failed")
    assert "early lone failure" not in alerts_file.read_text()

    logfleet.refresh(WRITEBACK)
    written = logfleet.ok("POST", f"/{WRITEBACK}/_search", {
        "query": {"bool": {"filter": [{"term": {"rule_name": RULE_NAME}},
                                      {"term": {"alert_sent": True}}]}},
    })["hits"]["hits"]
    assert written, "the alert was not recorded in the writeback index"
    assert written[0]["_source"]["match_body"]["level"] == "error"
    errors = logfleet.ok("POST", f"/{WRITEBACK}_error/_search", {"query": {"match_all": {}}})
    assert errors["hits"]["total"]["value"] == 0, errors["hits"]["hits"]


def test_test_rule_counts_the_matches(logfleet, config, events, window_start):
    result = run_tool([
        venv_bin("elastalert-test-rule"), "--config", config,
        "--start", iso(window_start), "--end", iso(window_start + timedelta(minutes=20)),
        "--alert", config.parent / "rules" / "error_burst.yaml",
    ], timeout=240)
    output = result.stdout + result.stderr
    assert "Got 6 hits" in output, output[-6000:]
    assert "Alerts triggered" in output or "Would have written the following" in output, output[-6000:]
    assert (config.parent / "alerts.jsonl").exists(), output[-6000:]
