"""Compatibility tests with opensearch-py, which speaks plain `application/json`
(no `compatible-with` media types, no product check) and passes request
bodies with `body=`. Expected behaviour: Elasticsearch 8.x.

Each test uses its own `compat-*-<uuid>` index except the seed-event tests,
which share the module fixture `seeded` (events written once to `logs`).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter

import pytest
from opensearchpy import ConflictError, NotFoundError, OpenSearch, RequestError, helpers

import compat_data as data

SEED_COUNT = 1000
EVENTS = data.generate_events(SEED_COUNT, seed=4242)
BY_CATEGORY = Counter(e["log_category"] for e in EVENTS)
PARSING_ERRORS = {"document_parsing_exception", "mapper_parsing_exception"}


def unique_index(purpose: str) -> str:
    return f"compat-os-{purpose}-{uuid.uuid4().hex[:12]}"


def stream(category: str) -> str:
    return f"logs-{category}-default"


def assert_total(resp: dict, n: int) -> None:
    assert resp["timed_out"] is False
    assert resp["_shards"]["failed"] == 0
    assert resp["hits"]["total"] == {"value": n, "relation": "eq"}


def assert_index_not_found(err: NotFoundError, index: str) -> None:
    assert err.status_code == 404
    # opensearch-py only decodes error bodies served as `application/json`.
    assert err.error == "index_not_found_exception"
    assert isinstance(err.info, dict)
    assert err.info["error"]["type"] == "index_not_found_exception"
    assert err.info["error"]["index"] == index
    assert err.info["status"] == 404


@pytest.fixture(scope="module")
def client(logfleet_url):
    c = OpenSearch(hosts=[logfleet_url], timeout=60)
    yield c
    c.close()


@pytest.fixture(scope="module")
def seeded(client):
    # Data streams take only `create` ops in a bulk request.
    actions = [{"_op_type": "create", **event} for event in EVENTS]
    result = helpers.bulk(client, actions, index="logs", chunk_size=250, raise_on_error=False)
    refresh = client.indices.refresh(index="logs-*")
    return {"bulk": result, "refresh": refresh}


def test_info(client):
    info = client.info()
    assert isinstance(info["name"], str) and info["name"]
    assert isinstance(info["cluster_name"], str) and info["cluster_name"]
    assert re.fullmatch(r"8\.\d+\.\d+(-SNAPSHOT)?", info["version"]["number"])
    assert info["tagline"] == "You Know, for Search"


def test_index_get_update(client):
    idx = unique_index("doc")
    doc = {"message": "hello", "status_code": 200, "duration_ms": 3.5}
    resp = client.index(index=idx, id="d1", body=doc)
    assert resp["result"] == "created"
    assert resp["_index"] == idx and resp["_id"] == "d1" and resp["_version"] == 1

    got = client.get(index=idx, id="d1")
    assert got["found"] is True
    assert got["_version"] == 1
    assert got["_source"] == doc

    resp = client.index(index=idx, id="d1", body={"message": "again"})
    assert resp["result"] == "updated"
    assert resp["_version"] == 2
    assert client.get(index=idx, id="d1")["_source"] == {"message": "again"}

    resp = client.index(index=idx, body={"message": "auto id"}, refresh=True)
    assert resp["result"] == "created"
    assert isinstance(resp["_id"], str) and resp["_id"]
    assert client.get(index=idx, id=resp["_id"])["_source"] == {"message": "auto id"}
    assert client.count(index=idx)["count"] == 2

    with pytest.raises(NotFoundError) as ei:
        client.get(index=idx, id="absent")
    assert ei.value.status_code == 404
    assert ei.value.info["found"] is False


def test_create_conflict(client):
    idx = unique_index("conflict")
    assert client.create(index=idx, id="c1", body={"v": 1})["result"] == "created"
    with pytest.raises(ConflictError) as ei:
        client.create(index=idx, id="c1", body={"v": 2})
    assert ei.value.status_code == 409
    assert ei.value.error == "version_conflict_engine_exception"
    assert client.get(index=idx, id="c1")["_source"] == {"v": 1}


def test_create_index_with_mappings(client):
    idx = unique_index("mapping")
    props = {"level": {"type": "keyword"}, "status_code": {"type": "long"}, "@timestamp": {"type": "date"}}
    resp = client.indices.create(index=idx, body={"mappings": {"properties": props}})
    assert resp == {"acknowledged": True, "shards_acknowledged": True, "index": idx}
    assert client.indices.get_mapping(index=idx)[idx]["mappings"]["properties"] == props
    with pytest.raises(RequestError) as ei:
        client.indices.create(index=idx)
    assert ei.value.status_code == 400
    assert ei.value.error == "resource_already_exists_exception"


def test_bulk_seed_into_logs(seeded):
    assert seeded["bulk"] == (SEED_COUNT, [])
    assert seeded["refresh"]["_shards"]["failed"] == 0


def test_count_after_refresh(client, seeded):
    assert client.count(index="logs-*")["count"] == SEED_COUNT
    for category in data.CATEGORIES:
        assert client.count(index=stream(category))["count"] == BY_CATEGORY[category], category


def test_search_term(client, seeded):
    for category in data.CATEGORIES:
        resp = client.search(
            index="logs-*", body={"query": {"term": {"log_category": category}}, "size": 20}
        )
        assert_total(resp, BY_CATEGORY[category])
        pattern = data.backing_index_pattern(stream(category))
        for hit in resp["hits"]["hits"]:
            assert hit["_source"]["log_category"] == category
            assert re.fullmatch(pattern, hit["_index"]), hit["_index"]

    event = EVENTS[10]
    resp = client.search(index="logs-*", body={"query": {"term": {"event_id": event["event_id"]}}})
    assert_total(resp, 1)
    assert resp["hits"]["hits"][0]["_source"] == event


def test_search_range_and_bool(client, seeded):
    body = {"query": {"range": {"duration_ms": {"gte": 250.005, "lt": 750.005}}}, "size": 0}
    expected = sum(1 for e in EVENTS if 250.005 <= e["duration_ms"] < 750.005)
    assert 0 < expected < SEED_COUNT
    assert_total(client.search(index="logs-*", body=body), expected)

    start, end = "2025-03-01T00:00:00.000Z", "2025-03-01T08:30:00.000Z"
    lo, hi = data.parse_ts(start), data.parse_ts(end)
    expected = sum(1 for e in EVENTS if lo <= data.parse_ts(e["@timestamp"]) < hi)
    assert 0 < expected < SEED_COUNT
    body = {"query": {"range": {"@timestamp": {"gte": start, "lt": end}}}, "size": 0}
    assert_total(client.search(index="logs-*", body=body), expected)

    body = {
        "query": {
            "bool": {
                "must": [{"term": {"log_category": "api_request"}}],
                "filter": [{"range": {"status_code": {"gte": 400, "lt": 500}}}],
            }
        },
        "size": 5,
        "from": 2,
        "_source": ["status_code", "log_category"],
    }
    expected = sum(
        1 for e in EVENTS if e["log_category"] == "api_request" and 400 <= e["status_code"] < 500
    )
    assert expected > 7
    resp = client.search(index="logs-*", body=body)
    assert_total(resp, expected)
    assert len(resp["hits"]["hits"]) == 5
    for hit in resp["hits"]["hits"]:
        assert set(hit["_source"]) == {"status_code", "log_category"}
        assert 400 <= hit["_source"]["status_code"] < 500
    assert client.count(index="logs-*", body={"query": body["query"]})["count"] == expected


def test_bulk_per_item_failure(client):
    idx = unique_index("bulkfail")
    client.indices.create(index=idx, body={"mappings": {"properties": {"status_code": {"type": "long"}}}})
    actions = [
        {"_index": idx, "_id": "a", "status_code": 200},
        {"_index": idx, "_id": "bad", "status_code": "oops"},
        {"_index": idx, "_id": "b", "status_code": 500},
    ]
    success, errors = helpers.bulk(client, actions, raise_on_error=False, refresh=True)
    assert success == 2
    assert len(errors) == 1
    assert errors[0]["index"]["_id"] == "bad"
    assert errors[0]["index"]["status"] == 400
    assert errors[0]["index"]["error"]["type"] in PARSING_ERRORS
    assert client.count(index=idx)["count"] == 2


def test_delete_index(client):
    idx = unique_index("delete")
    client.index(index=idx, id="1", body={"v": 1}, refresh=True)
    assert client.indices.delete(index=idx) == {"acknowledged": True}
    with pytest.raises(NotFoundError) as ei:
        client.search(index=idx, body={"query": {"match_all": {}}})
    assert_index_not_found(ei.value, idx)


def test_missing_index(client):
    missing = unique_index("missing")
    with pytest.raises(NotFoundError) as ei:
        client.search(index=missing, body={"query": {"match_all": {}}})
    assert_index_not_found(ei.value, missing)
    with pytest.raises(NotFoundError) as ei:
        client.count(index=missing)
    assert_index_not_found(ei.value, missing)
