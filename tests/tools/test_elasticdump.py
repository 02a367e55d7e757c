"""elasticdump (npm) copies an index through files: settings, mapping, then data.

This is the usual backup/migration recipe:
    elasticdump --input=http://host/src --output=src.settings.json --type=settings
    elasticdump --input=http://host/src --output=src.mapping.json  --type=mapping
    elasticdump --input=http://host/src --output=src.data.json     --type=data
and back in the same order into a new index. The copy must have the same documents
(ids and sources), the same mapping and the source's own index settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_tool

TOOLS_DIR = Path(os.environ.get("LOGFLEET_TOOLS_DIR", Path.home() / ".cache" / "logfleet-tools"))
ELASTICDUMP = TOOLS_DIR / "node_modules" / ".bin" / "elasticdump"

SOURCE = "dump-source"
COPY = "dump-copy"
DOC_COUNT = 120  # more than one elasticdump page (--limit 50) so that scrolling is exercised
MAPPINGS = {
    "properties": {
        "@timestamp": {"type": "date"},
        "message": {"type": "text"},
        "level": {"type": "keyword"},
        "service": {"type": "keyword"},
        "status_code": {"type": "long"},
        "duration_ms": {"type": "double"},
        "client_ip": {"type": "ip"},
        "tags": {"type": "keyword"},
        "http": {"properties": {"method": {"type": "keyword"}, "path": {"type": "keyword"}}},
    }
}
SETTINGS = {"index": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "5s"}}


def make_docs() -> dict[str, dict]:
    levels = ["info", "warn", "error", "debug"]
    docs = {}
    for i in range(DOC_COUNT):
        docs[f"event-{i:04d}"] = {
            "@timestamp": f"2026-11-26T10:{i // 60:02d}:{i % 60:02d}.000Z",
            "message": f"request {i} handled with ünïcödé and \"quotes\"",
            "level": levels[i % len(levels)],
            "service": f"svc-{i % 3}",
            "status_code": 200 + (i % 5) * 100,
            "duration_ms": i * 1.25,
            "client_ip": f"10.0.{i // 250}.{i % 250}",
            "tags": ["a", f"t{i % 7}"],
            "http": {"method": "GET" if i % 2 else "POST", "path": f"/api/items/{i}"},
        }
    return docs


def elasticdump(*args: str) -> str:
    result = run_tool([ELASTICDUMP, *args, "--limit=50"])
    return result.stdout + result.stderr


def index_settings(logfleet, index: str) -> dict:
    return logfleet.ok("GET", f"/{index}/_settings")[index]["settings"]["index"]


@pytest.fixture
def dump_dir(tmp_path) -> Path:
    if not ELASTICDUMP.exists():
        pytest.skip(f"elasticdump is not installed at {ELASTICDUMP} (scripts/tool-tests installs it)")
    path = tmp_path / "dump"
    path.mkdir()
    return path


def test_dump_and_restore_settings_mapping_and_data(logfleet, dump_dir):
    docs = make_docs()
    logfleet.ok("PUT", f"/{SOURCE}", {"settings": SETTINGS, "mappings": MAPPINGS})
    ids = sorted(docs)
    logfleet.bulk_index(SOURCE, [docs[i] for i in ids], ids)

    files = {kind: dump_dir / f"{SOURCE}.{kind}.json" for kind in ("settings", "mapping", "data")}
    for kind in ("settings", "mapping", "data"):
        elasticdump(f"--input={logfleet.url}/{SOURCE}", f"--output={files[kind]}", f"--type={kind}")

    # The files hold what elasticdump read: one JSON line per document for data.
    dumped = [json.loads(line) for line in files["data"].read_text().splitlines() if line.strip()]
    assert len(dumped) == DOC_COUNT
    assert {d["_id"]: d["_source"] for d in dumped} == docs
    mapping_file = json.loads(files["mapping"].read_text())
    assert mapping_file[SOURCE]["mappings"]["properties"]["status_code"] == {"type": "long"}

    for kind in ("settings", "mapping", "data"):
        elasticdump(f"--input={files[kind]}", f"--output={logfleet.url}/{COPY}", f"--type={kind}")
    logfleet.refresh(COPY)

    assert logfleet.ok("GET", f"/{COPY}/_count")["count"] == DOC_COUNT
    copied = {hit["_id"]: hit["_source"] for hit in logfleet.search_all(COPY)}
    assert copied == docs

    source_mapping = logfleet.ok("GET", f"/{SOURCE}/_mapping")[SOURCE]["mappings"]
    copy_mapping = logfleet.ok("GET", f"/{COPY}/_mapping")[COPY]["mappings"]
    assert copy_mapping == source_mapping
    assert copy_mapping["properties"]["client_ip"] == {"type": "ip"}

    source_settings = index_settings(logfleet, SOURCE)
    copy_settings = index_settings(logfleet, COPY)
    for key in ("number_of_shards", "number_of_replicas", "refresh_interval"):
        assert copy_settings[key] == source_settings[key], key
    assert copy_settings["refresh_interval"] == "5s"
    # Per-index identity is not copied: the copy is a new index.
    assert copy_settings["provided_name"] == COPY
    assert copy_settings["uuid"] != source_settings["uuid"]

    # A query on the copy's typed fields behaves as on the source.
    query = {"query": {"bool": {"filter": [
        {"term": {"level": "error"}},
        {"range": {"status_code": {"gte": 400}}},
    ]}}}
    for index in (SOURCE, COPY):
        assert logfleet.ok("POST", f"/{index}/_count", query)["count"] == sum(
            1 for d in docs.values() if d["level"] == "error" and d["status_code"] >= 400
        )
