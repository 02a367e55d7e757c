"""Compatibility tests with the official Python client, elasticsearch-py 8.x and 9.x.

The expected behaviour is the one of Elasticsearch 8.x. Only keyword
arguments that exist in both client majors are used (no `body=`): 9.x sends
`compatible-with=9` media types, 8.x `compatible-with=8`.

Tests are independent: each one uses its own `compat-*-<uuid>` index, except
the tests on the 2,000 seed events, which share the module fixture `seeded`
(the events are written once to `logs` and routed to `logs-<category>-default`).
"""

from __future__ import annotations

import random
import re
import uuid
from collections import Counter

import elasticsearch
import pytest
from elasticsearch import BadRequestError, ConflictError, Elasticsearch, NotFoundError, helpers
from elasticsearch.helpers import BulkIndexError

import compat_data as data

CLIENT_MAJOR = int(elasticsearch.__versionstr__.split(".")[0])

SEED_COUNT = 2000
EVENTS = data.generate_events(SEED_COUNT, seed=20251126)
BY_CATEGORY = Counter(e["log_category"] for e in EVENTS)
PARSING_ERRORS = {"document_parsing_exception", "mapper_parsing_exception"}


def unique_index(purpose: str) -> str:
    return f"compat-{purpose}-{uuid.uuid4().hex[:12]}"


def stream(category: str) -> str:
    return f"logs-{category}-default"


def assert_search_ok(resp) -> None:
    assert resp.meta.status == 200
    assert resp["timed_out"] is False
    assert isinstance(resp["took"], int)
    assert resp["_shards"]["failed"] == 0


def assert_total(resp, n: int) -> None:
    assert_search_ok(resp)
    assert resp["hits"]["total"] == {"value": n, "relation": "eq"}


def assert_index_not_found(err: NotFoundError, index: str) -> None:
    assert err.meta.status == 404
    assert err.body["status"] == 404
    error = err.body["error"]
    assert error["type"] == "index_not_found_exception"
    assert err.error == "index_not_found_exception"  # what the client extracts
    assert isinstance(error["reason"], str) and index in error["reason"]
    assert error["index"] == index
    assert error["root_cause"][0]["type"] == "index_not_found_exception"
    assert err.meta.headers.get("x-elastic-product") == "Elasticsearch"


@pytest.fixture(scope="module")
def es(logfleet_url):
    client = Elasticsearch(logfleet_url, request_timeout=60)
    yield client
    client.close()


@pytest.fixture(scope="module")
def seeded(es):
    """Bulk-writes the seed events to `logs` once, refreshes `logs-*` and returns
    the bulk result. Data streams take only `create` ops in a bulk request (an
    `index` op is refused even without `_id`), so the seed uses `create` like
    Beats, Elastic Agent and Logstash do."""
    actions = [{"_op_type": "create", **event} for event in EVENTS]
    result = helpers.bulk(es, actions, index="logs", chunk_size=500, raise_on_error=False)
    refresh = es.indices.refresh(index="logs-*")
    return {"bulk": result, "refresh": refresh}


# --------------------------------------------------------------------------- root / cluster


def test_info(es):
    resp = es.info()
    assert resp.meta.status == 200
    assert resp.meta.headers.get("x-elastic-product") == "Elasticsearch"
    assert isinstance(resp["name"], str) and resp["name"]
    assert isinstance(resp["cluster_name"], str) and resp["cluster_name"]
    assert isinstance(resp["cluster_uuid"], str) and resp["cluster_uuid"]
    assert re.fullmatch(r"8\.\d+\.\d+(-SNAPSHOT)?", resp["version"]["number"])
    assert resp["tagline"] == "You Know, for Search"


def test_product_header_on_every_response(es):
    idx = unique_index("hdr")
    responses = [
        es.info(),
        es.index(index=idx, id="1", document={"a": 1}, refresh=True),
        es.get(index=idx, id="1"),
        es.search(index=idx),
        es.count(index=idx),
        es.cluster.health(),
    ]
    for resp in responses:
        assert resp.meta.headers.get("x-elastic-product") == "Elasticsearch", resp.meta
    with pytest.raises(NotFoundError) as ei:
        es.get(index=idx, id="missing")
    assert ei.value.meta.headers.get("x-elastic-product") == "Elasticsearch"


def test_cluster_health(es):
    resp = es.cluster.health()
    assert resp.meta.status == 200
    assert resp["status"] in ("green", "yellow")
    assert resp["timed_out"] is False
    assert resp["cluster_name"] == es.info()["cluster_name"]
    assert isinstance(resp["number_of_nodes"], int) and resp["number_of_nodes"] >= 1
    assert isinstance(resp["number_of_data_nodes"], int) and resp["number_of_data_nodes"] >= 1
    assert isinstance(resp["active_primary_shards"], int)
    assert isinstance(resp["active_shards"], int)


# --------------------------------------------------------------------------- index management


MAPPING_PROPERTIES = {
    "@timestamp": {"type": "date"},
    "level": {"type": "keyword"},
    "message": {"type": "text"},
    "status_code": {"type": "long"},
    "duration_ms": {"type": "double"},
    "success": {"type": "boolean"},
}


def test_create_index_with_mappings_then_get_mapping(es):
    idx = unique_index("mapping")
    resp = es.indices.create(index=idx, mappings={"properties": MAPPING_PROPERTIES})
    assert resp.meta.status == 200
    assert resp.body == {"acknowledged": True, "shards_acknowledged": True, "index": idx}

    mapping = es.indices.get_mapping(index=idx)
    assert list(mapping.body) == [idx]
    assert mapping[idx]["mappings"]["properties"] == MAPPING_PROPERTIES

    # The mapping is enforced: a keyword/long/double/date document is searchable by type.
    doc = {
        "@timestamp": "2025-03-01T10:00:00.000Z",
        "level": "error",
        "message": "disk full",
        "status_code": 507,
        "duration_ms": 12.5,
        "success": False,
    }
    es.index(index=idx, id="1", document=doc, refresh=True)
    resp = es.search(index=idx, query={"range": {"status_code": {"gte": 500}}})
    assert_total(resp, 1)
    assert resp["hits"]["hits"][0]["_source"] == doc

    with pytest.raises(BadRequestError) as ei:
        es.index(index=idx, id="2", document={"status_code": "not-a-number"})
    assert ei.value.meta.status == 400
    assert ei.value.body["error"]["type"] in PARSING_ERRORS


def test_create_existing_index_is_rejected(es):
    idx = unique_index("dup")
    es.indices.create(index=idx)
    with pytest.raises(BadRequestError) as ei:
        es.indices.create(index=idx)
    assert ei.value.meta.status == 400
    assert ei.value.body["error"]["type"] == "resource_already_exists_exception"


def test_delete_index_then_search_raises_not_found(es):
    idx = unique_index("delete")
    es.index(index=idx, id="1", document={"v": 1}, refresh=True)
    assert_total(es.search(index=idx), 1)

    resp = es.indices.delete(index=idx)
    assert resp.meta.status == 200
    assert resp.body == {"acknowledged": True}

    with pytest.raises(NotFoundError) as ei:
        es.search(index=idx, query={"match_all": {}})
    assert_index_not_found(ei.value, idx)
    with pytest.raises(NotFoundError) as ei:
        es.get(index=idx, id="1")
    assert_index_not_found(ei.value, idx)
    with pytest.raises(NotFoundError) as ei:
        es.indices.delete(index=idx)
    assert_index_not_found(ei.value, idx)

    # The name can be reused and starts empty.
    resp = es.index(index=idx, id="1", document={"v": 2}, refresh=True)
    assert resp["result"] == "created"
    assert resp["_version"] == 1
    assert_total(es.search(index=idx), 1)


def test_missing_index_raises_index_not_found(es):
    missing = unique_index("missing")
    with pytest.raises(NotFoundError) as ei:
        es.search(index=missing, query={"term": {"level": "error"}})
    assert_index_not_found(ei.value, missing)
    with pytest.raises(NotFoundError) as ei:
        es.count(index=missing)
    assert_index_not_found(ei.value, missing)
    with pytest.raises(NotFoundError) as ei:
        es.get(index=missing, id="1")
    assert_index_not_found(ei.value, missing)
    with pytest.raises(NotFoundError) as ei:
        es.indices.get_mapping(index=missing)
    assert_index_not_found(ei.value, missing)
    with pytest.raises(NotFoundError) as ei:
        es.indices.refresh(index=missing)
    assert_index_not_found(ei.value, missing)

    # A concrete missing name in a list fails the whole request...
    existing = unique_index("exists")
    es.index(index=existing, id="1", document={"v": 1}, refresh=True)
    with pytest.raises(NotFoundError) as ei:
        es.search(index=f"{existing},{missing}")
    assert_index_not_found(ei.value, missing)

    # ...while a wildcard that matches nothing is an empty result, not an error.
    resp = es.search(index=f"{missing}-*", query={"match_all": {}})
    assert_total(resp, 0)
    assert resp["hits"]["hits"] == []
    assert es.count(index=f"{missing}-*")["count"] == 0


# --------------------------------------------------------------------------- single documents


def test_index_with_id_then_get(es):
    idx = unique_index("doc")
    doc = {"message": "hello", "status_code": 200, "duration_ms": 1.25, "tags": ["a", "b"]}
    resp = es.index(index=idx, id="doc-1", document=doc)
    assert resp.meta.status == 201
    assert resp["result"] == "created"
    assert resp["_index"] == idx
    assert resp["_id"] == "doc-1"
    assert resp["_version"] == 1
    assert isinstance(resp["_seq_no"], int)
    assert isinstance(resp["_primary_term"], int)
    assert resp["_shards"]["failed"] == 0 and resp["_shards"]["successful"] >= 1

    got = es.get(index=idx, id="doc-1")  # realtime: no refresh needed
    assert got.meta.status == 200
    assert got["found"] is True
    assert got["_index"] == idx
    assert got["_id"] == "doc-1"
    assert got["_version"] == 1
    assert got["_source"] == doc


def test_index_without_id_then_get(es):
    idx = unique_index("autoid")
    doc = {"message": "no id given", "status_code": 201}
    resp = es.index(index=idx, document=doc)
    assert resp.meta.status == 201
    assert resp["result"] == "created"
    assert resp["_index"] == idx
    assert isinstance(resp["_id"], str) and resp["_id"]
    assert resp["_version"] == 1

    got = es.get(index=idx, id=resp["_id"])
    assert got["found"] is True
    assert got["_id"] == resp["_id"]
    assert got["_version"] == 1
    assert got["_source"] == doc

    second = es.index(index=idx, document=doc)
    assert second["_id"] != resp["_id"]


def test_get_missing_id_raises_not_found(es):
    idx = unique_index("getmiss")
    es.index(index=idx, id="present", document={"v": 1})
    with pytest.raises(NotFoundError) as ei:
        es.get(index=idx, id="absent")
    err = ei.value
    assert err.meta.status == 404
    assert err.body["found"] is False
    assert err.body["_index"] == idx
    assert err.body["_id"] == "absent"


def test_index_same_id_again_is_updated(es):
    idx = unique_index("update")
    first = es.index(index=idx, id="42", document={"v": 1})
    assert first["result"] == "created"
    second = es.index(index=idx, id="42", document={"v": 2, "extra": "x"})
    assert second.meta.status == 200
    assert second["result"] == "updated"
    assert second["_version"] == 2
    assert second["_seq_no"] > first["_seq_no"]

    got = es.get(index=idx, id="42")
    assert got["_version"] == 2
    assert got["_source"] == {"v": 2, "extra": "x"}

    # Still one document, not two.
    es.indices.refresh(index=idx)
    assert es.count(index=idx)["count"] == 1


def test_create_on_existing_id_conflicts(es):
    idx = unique_index("conflict")
    resp = es.create(index=idx, id="c1", document={"v": 1})
    assert resp.meta.status == 201
    assert resp["result"] == "created"
    assert resp["_version"] == 1

    with pytest.raises(ConflictError) as ei:
        es.create(index=idx, id="c1", document={"v": 2})
    assert ei.value.meta.status == 409
    assert ei.value.body["error"]["type"] == "version_conflict_engine_exception"

    # PUT /{index}/_doc/{id}?op_type=create behaves the same.
    with pytest.raises(ConflictError) as ei:
        es.index(index=idx, id="c1", document={"v": 3}, op_type="create")
    assert ei.value.meta.status == 409
    assert ei.value.body["error"]["type"] == "version_conflict_engine_exception"

    resp = es.index(index=idx, id="c2", document={"v": 4}, op_type="create")
    assert resp["result"] == "created"

    got = es.get(index=idx, id="c1")
    assert got["_version"] == 1
    assert got["_source"] == {"v": 1}


@pytest.mark.parametrize("refresh", [True, "wait_for"])
def test_refresh_param_makes_write_searchable(es, refresh):
    idx = unique_index("refresh")
    es.index(index=idx, id="1", document={"level": "info"}, refresh=refresh)
    resp = es.search(index=idx, query={"term": {"level": "info"}})
    assert_total(resp, 1)
    helpers.bulk(es, [{"_index": idx, "_id": "2", "level": "info"}], refresh=refresh)
    assert es.count(index=idx, query={"term": {"level": "info"}})["count"] == 2


# --------------------------------------------------------------------------- bulk


def test_bulk_raw_response_items(es):
    idx = unique_index("bulkraw")
    ops = [
        {"index": {"_index": idx, "_id": "1"}},
        {"n": 1},
        {"create": {"_index": idx, "_id": "2"}},
        {"n": 2},
        {"index": {"_index": idx}},
        {"n": 3},
        {"create": {"_index": idx, "_id": "2"}},
        {"n": 22},
        {"delete": {"_index": idx, "_id": "1"}},
        {"delete": {"_index": idx, "_id": "missing"}},
    ]
    resp = es.bulk(operations=ops, refresh=True)
    assert resp.meta.status == 200
    assert resp["errors"] is True
    assert isinstance(resp["took"], int)
    items = resp["items"]
    assert [next(iter(item)) for item in items] == [
        "index",
        "create",
        "index",
        "create",
        "delete",
        "delete",
    ]
    bodies = [next(iter(item.values())) for item in items]
    for body in bodies:
        assert body["_index"] == idx

    assert bodies[0]["_id"] == "1" and bodies[0]["status"] == 201
    assert bodies[0]["result"] == "created" and bodies[0]["_version"] == 1
    assert bodies[1]["_id"] == "2" and bodies[1]["status"] == 201
    assert bodies[1]["result"] == "created"
    assert isinstance(bodies[2]["_id"], str) and bodies[2]["_id"]
    assert bodies[2]["status"] == 201 and bodies[2]["result"] == "created"
    assert bodies[3]["_id"] == "2" and bodies[3]["status"] == 409
    assert bodies[3]["error"]["type"] == "version_conflict_engine_exception"
    assert bodies[4]["_id"] == "1" and bodies[4]["status"] == 200
    assert bodies[4]["result"] == "deleted" and bodies[4]["_version"] == 2
    assert bodies[5]["_id"] == "missing" and bodies[5]["status"] == 404
    assert bodies[5]["result"] == "not_found"
    assert "error" not in bodies[5]

    assert es.count(index=idx)["count"] == 2
    with pytest.raises(NotFoundError):
        es.get(index=idx, id="1")
    assert es.get(index=idx, id="2")["_source"] == {"n": 2}

    # Deleting a missing document is not a bulk error.
    resp = es.bulk(operations=[{"delete": {"_index": idx, "_id": "nope"}}])
    assert resp["errors"] is False
    assert resp["items"][0]["delete"]["status"] == 404
    assert resp["items"][0]["delete"]["result"] == "not_found"


def test_bulk_per_item_failure(es):
    idx = unique_index("bulkfail")
    es.indices.create(
        index=idx,
        mappings={"properties": {"status_code": {"type": "long"}, "message": {"type": "text"}}},
    )
    actions = [
        {"_index": idx, "_id": "ok-0", "status_code": 200, "message": "fine"},
        {"_index": idx, "_id": "ok-1", "status_code": 404, "message": "fine"},
        {"_index": idx, "_id": "bad", "status_code": "not-a-number", "message": "broken"},
        {"_index": idx, "_id": "ok-2", "status_code": 500, "message": "fine"},
        {"_index": idx, "_id": "ok-3", "status_code": 201, "message": "fine"},
    ]
    success, errors = helpers.bulk(es, actions, raise_on_error=False, refresh=True)
    assert success == 4
    assert len(errors) == 1
    ((op_type, item),) = errors[0].items()
    assert op_type == "index"
    assert item["status"] == 400
    assert item["_index"] == idx
    assert item["_id"] == "bad"
    assert item["error"]["type"] in PARSING_ERRORS
    assert isinstance(item["error"]["reason"], str)

    assert es.count(index=idx)["count"] == 4
    with pytest.raises(NotFoundError):
        es.get(index=idx, id="bad")
    assert es.get(index=idx, id="ok-2")["_source"]["status_code"] == 500

    # With the default raise_on_error=True the helper raises BulkIndexError.
    again = [dict(a, _id=a["_id"] + "-again") for a in actions]
    with pytest.raises(BulkIndexError) as ei:
        helpers.bulk(es, again, refresh=True)
    assert len(ei.value.errors) == 1
    assert ei.value.errors[0]["index"]["_id"] == "bad-again"
    assert ei.value.errors[0]["index"]["status"] == 400
    assert es.count(index=idx)["count"] == 8


# --------------------------------------------------------------------------- seed events in data streams


def test_bulk_seed_events_into_logs(seeded):
    assert seeded["bulk"] == (SEED_COUNT, [])
    assert seeded["refresh"]["_shards"]["failed"] == 0


def test_count_all_logs(es, seeded):
    es.indices.refresh(index="logs-*")
    resp = es.count(index="logs-*")
    assert resp.meta.status == 200
    assert resp["count"] == SEED_COUNT
    assert resp["_shards"]["failed"] == 0
    assert es.count(index="logs-*", query={"match_all": {}})["count"] == SEED_COUNT
    assert_total(es.search(index="logs-*", size=0), SEED_COUNT)


@pytest.mark.parametrize("category", data.CATEGORIES)
def test_count_per_category_data_stream(es, seeded, category):
    assert BY_CATEGORY[category] > 0
    assert es.count(index=stream(category))["count"] == BY_CATEGORY[category]


@pytest.mark.parametrize("category", data.CATEGORIES)
def test_term_on_log_category(es, seeded, category):
    query = {"term": {"log_category": category}}
    resp = es.search(index="logs-*", query=query, size=100)
    assert_total(resp, BY_CATEGORY[category])
    hits = resp["hits"]["hits"]
    assert len(hits) == min(100, BY_CATEGORY[category])
    backing = data.backing_index_pattern(stream(category))
    for hit in hits:
        assert hit["_source"]["log_category"] == category
        assert re.fullmatch(backing, hit["_index"]), hit["_index"]
        assert isinstance(hit["_id"], str) and hit["_id"]
    assert es.count(index="logs-*", query=query)["count"] == BY_CATEGORY[category]


def test_term_on_numeric_and_keyword_fields(es, seeded):
    expected = sum(1 for e in EVENTS if e["status_code"] == 503)
    assert 0 < expected < SEED_COUNT
    resp = es.search(index="logs-*", query={"term": {"status_code": 503}}, size=0)
    assert_total(resp, expected)

    expected = sum(1 for e in EVENTS if e["level"] == "error")
    assert es.count(index="logs-*", query={"term": {"level": "error"}})["count"] == expected


def test_source_round_trips_unchanged(es, seeded):
    for event in (EVENTS[0], EVENTS[777], EVENTS[-1]):
        resp = es.search(index="logs-*", query={"term": {"event_id": event["event_id"]}})
        assert_total(resp, 1)
        hit = resp["hits"]["hits"][0]
        assert hit["_source"] == event
        assert re.fullmatch(data.backing_index_pattern(stream(event["log_category"])), hit["_index"])
        # The hit can be fetched by its backing index and id.
        got = es.get(index=hit["_index"], id=hit["_id"])
        assert got["found"] is True
        assert got["_source"] == event


def test_range_on_duration_ms(es, seeded):
    # Bounds sit between two-decimal values so float/double rounding cannot matter.
    low, high = 100.005, 500.005
    expected = sum(1 for e in EVENTS if low <= e["duration_ms"] < high)
    assert 0 < expected < SEED_COUNT
    resp = es.search(
        index="logs-*", query={"range": {"duration_ms": {"gte": low, "lt": high}}}, size=0
    )
    assert_total(resp, expected)

    expected = sum(1 for e in EVENTS if e["duration_ms"] > 1500.005)
    assert es.count(index="logs-*", query={"range": {"duration_ms": {"gt": 1500.005}}})[
        "count"
    ] == expected

    expected = sum(1 for e in EVENTS if e["duration_ms"] <= 50.005)
    assert es.count(index="logs-*", query={"range": {"duration_ms": {"lte": 50.005}}})[
        "count"
    ] == expected


def test_range_on_timestamp(es, seeded):
    start, end = "2025-03-01T06:00:00.000Z", "2025-03-01T12:00:00.000Z"
    lo, hi = data.parse_ts(start), data.parse_ts(end)
    expected = sum(1 for e in EVENTS if lo <= data.parse_ts(e["@timestamp"]) < hi)
    assert 0 < expected < SEED_COUNT
    resp = es.search(
        index="logs-*", query={"range": {"@timestamp": {"gte": start, "lt": end}}}, size=50
    )
    assert_total(resp, expected)
    for hit in resp["hits"]["hits"]:
        assert lo <= data.parse_ts(hit["_source"]["@timestamp"]) < hi

    # Inclusive/exclusive bounds on an exact document timestamp.
    pivot = EVENTS[123]["@timestamp"]
    p = data.parse_ts(pivot)
    lte = sum(1 for e in EVENTS if data.parse_ts(e["@timestamp"]) <= p)
    gt = sum(1 for e in EVENTS if data.parse_ts(e["@timestamp"]) > p)
    assert es.count(index="logs-*", query={"range": {"@timestamp": {"lte": pivot}}})["count"] == lte
    assert es.count(index="logs-*", query={"range": {"@timestamp": {"gt": pivot}}})["count"] == gt
    assert lte + gt == SEED_COUNT


def test_bool_must_filter_must_not(es, seeded):
    query = {
        "bool": {
            "must": [{"term": {"level": "error"}}],
            "filter": [
                {"term": {"log_category": "api_request"}},
                {"range": {"status_code": {"gte": 500}}},
            ],
        }
    }
    expected = sum(
        1
        for e in EVENTS
        if e["level"] == "error" and e["log_category"] == "api_request" and e["status_code"] >= 500
    )
    assert expected > 0
    resp = es.search(index="logs-*", query=query, size=200)
    assert_total(resp, expected)
    for hit in resp["hits"]["hits"]:
        src = hit["_source"]
        assert src["level"] == "error" and src["log_category"] == "api_request"
        assert src["status_code"] >= 500

    query["bool"]["must_not"] = [{"term": {"status_code": 503}}]
    expected_not = sum(
        1
        for e in EVENTS
        if e["level"] == "error"
        and e["log_category"] == "api_request"
        and e["status_code"] >= 500
        and e["status_code"] != 503
    )
    assert 0 < expected_not < expected
    assert es.count(index="logs-*", query=query)["count"] == expected_not

    # A filter-only bool over two clauses on different fields.
    query = {
        "bool": {
            "filter": [
                {"range": {"duration_ms": {"gte": 1000.005}}},
                {"term": {"log_category": "database"}},
            ]
        }
    }
    expected = sum(
        1 for e in EVENTS if e["duration_ms"] >= 1000.005 and e["log_category"] == "database"
    )
    assert es.count(index="logs-*", query=query)["count"] == expected


def test_exists_query(es, seeded):
    expected = sum(1 for e in EVENTS if "user_name" in e)
    assert 0 < expected < SEED_COUNT
    resp = es.search(index="logs-*", query={"exists": {"field": "user_name"}}, size=0)
    assert_total(resp, expected)
    missing = {"bool": {"must_not": [{"exists": {"field": "user_name"}}]}}
    assert es.count(index="logs-*", query=missing)["count"] == SEED_COUNT - expected


def test_size_and_from(es, seeded):
    resp = es.search(index="logs-*", query={"match_all": {}})
    assert_total(resp, SEED_COUNT)
    assert len(resp["hits"]["hits"]) == 10  # default size

    seen = set()
    for page in range(4):
        resp = es.search(index="logs-*", query={"match_all": {}}, size=50, from_=page * 50)
        assert_total(resp, SEED_COUNT)
        ids = {(h["_index"], h["_id"]) for h in resp["hits"]["hits"]}
        assert len(ids) == 50
        assert not ids & seen, "pages overlap"
        seen |= ids

    resp = es.search(index="logs-*", size=25, from_=SEED_COUNT - 7)
    assert_total(resp, SEED_COUNT)
    assert len(resp["hits"]["hits"]) == 7

    resp = es.search(index="logs-*", size=0)
    assert_total(resp, SEED_COUNT)
    assert resp["hits"]["hits"] == []


def test_source_filtering(es, seeded):
    query = {"term": {"log_category": "audit"}}
    wanted = {"log_category", "status_code"}

    resp = es.search(index="logs-*", query=query, source=sorted(wanted), size=20)
    assert_total(resp, BY_CATEGORY["audit"])
    for hit in resp["hits"]["hits"]:
        assert set(hit["_source"]) == wanted
        assert hit["_source"]["log_category"] == "audit"

    resp = es.search(index="logs-*", query=query, source={"includes": ["@timestamp", "level"]}, size=20)
    for hit in resp["hits"]["hits"]:
        assert set(hit["_source"]) == {"@timestamp", "level"}

    # Query-string form: ?_source_includes=...
    resp = es.search(index="logs-*", query=query, source_includes=["event_id", "duration_ms"], size=20)
    for hit in resp["hits"]["hits"]:
        assert set(hit["_source"]) == {"event_id", "duration_ms"}
        assert isinstance(hit["_source"]["duration_ms"], float)

    resp = es.search(index="logs-*", query=query, source=False, size=5)
    assert len(resp["hits"]["hits"]) == 5
    for hit in resp["hits"]["hits"]:
        assert "_source" not in hit
        assert hit["_id"]


def test_search_comma_list_of_data_streams(es, seeded):
    a, b = stream("api_request"), stream("database")
    resp = es.search(index=f"{a},{b}", size=0)
    assert_total(resp, BY_CATEGORY["api_request"] + BY_CATEGORY["database"])

    # The client joins a list with commas.
    resp = es.search(index=[stream("audit"), stream("performance")], query={"term": {"level": "error"}}, size=0)
    expected = sum(
        1 for e in EVENTS if e["log_category"] in ("audit", "performance") and e["level"] == "error"
    )
    assert_total(resp, expected)
    assert es.count(index=f"{a},{b}")["count"] == BY_CATEGORY["api_request"] + BY_CATEGORY["database"]


@pytest.mark.parametrize(
    "pattern, categories",
    [
        ("logs-*", data.CATEGORIES),
        ("logs-*-default", data.CATEGORIES),
        ("logs-a*", ("api_request", "audit")),
        ("logs-in*,logs-pe*", ("inter_service", "performance")),
        ("logs-audit-default,logs-d*", ("audit", "database")),
    ],
)
def test_search_index_patterns(es, seeded, pattern, categories):
    expected = sum(BY_CATEGORY[c] for c in categories)
    resp = es.search(index=pattern, size=100)
    assert_total(resp, expected)
    got = {hit["_source"]["log_category"] for hit in resp["hits"]["hits"]}
    assert got <= set(categories)
    assert es.count(index=pattern)["count"] == expected


def test_cat_indices_lists_backing_indices(es, seeded):
    plain = unique_index("cat")
    helpers.bulk(es, [{"_index": plain, "_id": str(i), "v": i} for i in range(3)], refresh=True)
    es.indices.refresh(index="logs-*")

    resp = es.cat.indices(format="json")
    assert resp.meta.status == 200
    rows = resp.body
    assert isinstance(rows, list)
    by_name = {row["index"]: row for row in rows}
    for row in rows:
        for column in ("health", "status", "index", "uuid", "pri", "rep", "docs.count"):
            assert column in row, (column, row)

    for category in data.CATEGORIES:
        pattern = data.backing_index_pattern(stream(category))
        backing = [name for name in by_name if re.fullmatch(pattern, name)]
        assert backing, f"no backing index for {stream(category)} in {sorted(by_name)}"
        total = 0
        for name in backing:
            row = by_name[name]
            assert row["status"] == "open"
            assert row["health"] in ("green", "yellow")
            assert isinstance(row["docs.count"], str)  # cat values are strings
            total += int(row["docs.count"])
        assert total == BY_CATEGORY[category]

    assert plain in by_name
    assert by_name[plain]["docs.count"] == "3"
    assert by_name[plain]["status"] == "open"


# These two tests write to `logs` themselves; they clean up after themselves so
# that the seed counts above stay valid whatever the order.


def _delete_written(es, items) -> None:
    ops = []
    for item in items:
        body = next(iter(item.values()))
        if 200 <= body.get("status", 500) < 300:
            ops.append({"delete": {"_index": body["_index"], "_id": body["_id"]}})
    if ops:
        es.bulk(operations=ops, refresh=True)
        es.indices.refresh(index="logs-*")


def test_data_stream_rejects_index_op_with_id(es, seeded):
    rng_event = data.make_event(random.Random(7), category="audit")
    ops = [
        {"index": {"_index": "logs", "_id": f"with-id-{uuid.uuid4().hex}"}},
        rng_event,
        {"index": {"_index": stream("audit"), "_id": f"with-id-{uuid.uuid4().hex}"}},
        rng_event,
    ]
    resp = es.bulk(operations=ops, refresh=True)
    try:
        assert resp["errors"] is True
        for item in resp["items"]:
            body = item["index"]
            assert body["status"] == 400, body
            assert body["error"]["type"] == "illegal_argument_exception", body
    finally:
        _delete_written(es, resp["items"])

    written = None
    try:
        with pytest.raises(BadRequestError) as ei:
            written = es.index(index=stream("audit"), id=f"with-id-{uuid.uuid4().hex}", document=rng_event)
        assert ei.value.body["error"]["type"] == "illegal_argument_exception"
    finally:
        if written is not None:
            _delete_written(es, [{"index": {"status": 201, **written.body}}])
    assert es.count(index=stream("audit"))["count"] == BY_CATEGORY["audit"]


def test_single_document_to_logs_lands_in_data_stream(es, seeded):
    event = data.make_event(random.Random(99), category="inter_service")
    resp = es.index(index="logs", document=event, refresh="wait_for")
    try:
        assert resp.meta.status == 201
        assert resp["result"] == "created"
        assert re.fullmatch(data.backing_index_pattern(stream("inter_service")), resp["_index"])
        found = es.search(index=stream("inter_service"), query={"term": {"event_id": event["event_id"]}})
        assert_total(found, 1)
        assert found["hits"]["hits"][0]["_source"] == event
        assert found["hits"]["hits"][0]["_id"] == resp["_id"]
    finally:
        _delete_written(es, [{"index": {"status": 201, "_index": resp["_index"], "_id": resp["_id"]}}])
    assert es.count(index=stream("inter_service"))["count"] == BY_CATEGORY["inter_service"]


# --------------------------------------------------------------------------- aggregations


def test_aggregations_through_the_official_client(es, seeded):
    """Terms with a sub-aggregation, a filter sub-aggregation and a metric, as a Kibana-style
    dashboard sends them; expected numbers come from the generated events."""
    resp = es.search(
        index="logs-*",
        size=0,
        query={"term": {"log_category": "api_request"}},
        aggs={
            "avg_duration": {"avg": {"field": "duration_ms"}},
            "by_service": {
                "terms": {"field": "app_name", "size": 100},
                "aggs": {
                    "errors": {"filter": {"range": {"status_code": {"gte": 500}}}},
                    "slowest": {"max": {"field": "duration_ms"}},
                },
            },
        },
    )
    api = [e for e in EVENTS if e["log_category"] == "api_request"]
    aggs = resp["aggregations"]
    expected_avg = sum(e["duration_ms"] for e in api) / len(api)
    assert abs(aggs["avg_duration"]["value"] - expected_avg) < 1e-6 * max(1.0, expected_avg)
    by_service = {b["key"]: b for b in aggs["by_service"]["buckets"]}
    services = {e["app_name"] for e in api}
    assert set(by_service) == services
    for service in services:
        mine = [e for e in api if e["app_name"] == service]
        bucket = by_service[service]
        assert bucket["doc_count"] == len(mine)
        assert bucket["errors"]["doc_count"] == sum(1 for e in mine if e["status_code"] >= 500)
        assert abs(bucket["slowest"]["value"] - max(e["duration_ms"] for e in mine)) < 1e-6
    counts = [b["doc_count"] for b in aggs["by_service"]["buckets"]]
    assert counts == sorted(counts, reverse=True)


def test_date_histogram_in_a_time_zone_with_top_hits(es, seeded):
    """Kibana's shape: a daily histogram in the browser's zone, and the latest event per
    service with its `_source`; expectations come from the generated events."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    resp = es.search(
        index="logs-*",
        size=0,
        aggs={
            "per_day": {
                "date_histogram": {
                    "field": "@timestamp",
                    "calendar_interval": "day",
                    "time_zone": "Europe/Paris",
                    "min_doc_count": 1,
                }
            },
            "by_service": {
                "terms": {"field": "app_name", "size": 100},
                "aggs": {
                    "latest": {
                        "top_hits": {
                            "size": 1,
                            "sort": [{"@timestamp": {"order": "desc"}}],
                            "_source": {"includes": ["@timestamp", "app_name"]},
                        }
                    }
                },
            },
        },
    )
    aggs = resp["aggregations"]

    def parse(ts):
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))

    expected_days = {}
    for event in EVENTS:
        local_day = parse(event["@timestamp"]).astimezone(paris).date()
        expected_days[local_day] = expected_days.get(local_day, 0) + 1
    buckets = aggs["per_day"]["buckets"]
    got_days = {}
    for bucket in buckets:
        start = datetime.fromtimestamp(bucket["key"] / 1000, paris)
        assert (start.hour, start.minute) == (0, 0), bucket
        assert bucket["key_as_string"] == start.isoformat(timespec="milliseconds")
        got_days[start.date()] = bucket["doc_count"]
    assert got_days == expected_days

    latest = {}
    for event in EVENTS:
        service = event["app_name"]
        if service not in latest or event["@timestamp"] > latest[service]:
            latest[service] = event["@timestamp"]
    for bucket in aggs["by_service"]["buckets"]:
        hits = bucket["latest"]["hits"]
        assert hits["total"]["value"] == bucket["doc_count"]
        [hit] = hits["hits"]
        assert set(hit["_source"]) == {"@timestamp", "app_name"}
        assert hit["_source"]["app_name"] == bucket["key"]
        assert hit["_source"]["@timestamp"] == latest[bucket["key"]]
        assert hit["sort"] == [round(parse(latest[bucket["key"]]).timestamp() * 1000)]


def test_unknown_aggregation_is_a_bad_request(es, seeded):
    with pytest.raises(BadRequestError) as info:
        es.search(index="logs-*", size=0, aggs={"x": {"no_such_agg": {"field": "app_name"}}})
    assert info.value.meta.status == 400


def test_sorted_scroll_as_elastalert_runs_it(es, seeded):
    """ElastAlert scrolls through a time range sorted by @timestamp."""
    resp = es.search(
        index="logs-*",
        scroll="1m",
        size=50,
        sort=[{"@timestamp": {"order": "asc"}}],
        query={"term": {"log_category": "audit"}},
    )
    scroll_id = resp["_scroll_id"]
    stamps = []
    while resp["hits"]["hits"]:
        stamps.extend(hit["_source"]["@timestamp"] for hit in resp["hits"]["hits"])
        resp = es.scroll(scroll_id=resp["_scroll_id"], scroll="1m")
    es.clear_scroll(scroll_id=scroll_id)
    expected = sorted(e["@timestamp"] for e in EVENTS if e["log_category"] == "audit")
    assert stamps == expected


def test_point_in_time_with_search_after(es, seeded):
    """The clients' recommended deep paging: a point in time and search_after."""
    pit = es.open_point_in_time(index="logs-*", keep_alive="1m")
    seen = []
    after = None
    try:
        while True:
            resp = es.search(
                pit={"id": pit["id"], "keep_alive": "1m"},
                size=250,
                sort=[{"@timestamp": "asc"}],
                search_after=after,
            )
            hits = resp["hits"]["hits"]
            if not hits:
                break
            seen.extend(hit["_id"] for hit in hits)
            after = hits[-1]["sort"]
    finally:
        closed = es.close_point_in_time(id=pit["id"])
    assert closed["succeeded"] and closed["num_freed"] == 1
    assert len(seen) == SEED_COUNT
    assert len(set(seen)) == SEED_COUNT


def test_helpers_scan_reads_every_event(es, seeded):
    """helpers.scan drives the scroll API: every seeded event comes back exactly once."""
    ids = [hit["_id"] for hit in helpers.scan(es, index="logs-*", query={"query": {"match_all": {}}}, size=300)]
    assert len(ids) == SEED_COUNT
    assert len(set(ids)) == SEED_COUNT


def test_license_xpack_and_lifecycle_policies(es):
    """What Elastic's shippers check and install before they ship, through the client."""
    lic = es.license.get()
    assert lic["license"]["status"] == "active"
    assert lic["license"]["type"] == "basic"
    info = es.xpack.info()
    assert info["features"]["ilm"] == {"available": True, "enabled": True}
    assert info["license"]["status"] == "active"

    name = f"compat-policy-{uuid.uuid4().hex[:8]}"
    with pytest.raises(NotFoundError) as missing:
        es.ilm.get_lifecycle(name=name)
    assert missing.value.error == "resource_not_found_exception"
    policy = {"phases": {"delete": {"min_age": "30d", "actions": {"delete": {}}}}}
    assert es.ilm.put_lifecycle(name=name, policy=policy)["acknowledged"] is True
    got = es.ilm.get_lifecycle(name=name)
    assert got[name]["version"] == 1
    assert got[name]["policy"]["phases"]["delete"]["min_age"] == "30d"
    assert got[name]["in_use_by"] == {"indices": [], "data_streams": [], "composable_templates": []}
    with pytest.raises(BadRequestError):
        es.ilm.put_lifecycle(name=name, policy={"phases": {"lukewarm": {}}})
    assert es.ilm.get_status()["operation_mode"] == "RUNNING"
    assert es.ilm.delete_lifecycle(name=name)["acknowledged"] is True
    with pytest.raises(NotFoundError):
        es.ilm.delete_lifecycle(name=name)


def test_template_with_aliases_and_dynamic_templates(es):
    """A template in the style shippers generate: aliases, flattened, dynamic templates."""
    index = unique_index("shipper")
    es.indices.put_index_template(
        name=index,
        index_patterns=[index],
        priority=500,
        template={
            "mappings": {
                "dynamic_templates": [
                    {"strings_as_keyword": {"match_mapping_type": "string", "mapping": {"type": "keyword"}}}
                ],
                "properties": {
                    "source": {"properties": {"ip": {"type": "ip"}}},
                    "client_address": {"type": "alias", "path": "source.ip"},
                    "labels": {"type": "flattened"},
                    "payload": {"type": "binary"},
                },
            }
        },
    )
    try:
        es.index(
            index=index,
            id="1",
            document={"source": {"ip": "10.1.2.3"}, "labels": {"app": "web"}, "user": "alice", "payload": "AAEC"},
            refresh=True,
        )
        mapping = es.indices.get_mapping(index=index)[index]["mappings"]
        assert mapping["properties"]["user"] == {"type": "keyword"}
        assert mapping["properties"]["client_address"] == {"type": "alias", "path": "source.ip"}
        assert es.search(index=index, query={"term": {"client_address": "10.0.0.0/8"}})["hits"]["total"]["value"] == 1
        assert es.search(index=index, query={"term": {"labels.app": "web"}})["hits"]["total"]["value"] == 1
        with pytest.raises(BadRequestError) as refused:
            es.index(index=index, document={"client_address": "10.9.9.9"})
        assert refused.value.error in PARSING_ERRORS
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
        es.indices.delete_index_template(name=index)


def test_aliases_through_the_client(es):
    """put/get/exists/update/delete alias, a filtered alias and writes through a write alias."""
    first, second = unique_index("alias-a"), unique_index("alias-b")
    alias, errors_alias = unique_index("alias"), unique_index("alias-errors")
    for name in (first, second):
        es.indices.create(index=name)
    try:
        es.index(index=first, id="1", document={"level": "error"}, refresh=True)
        es.index(index=second, id="2", document={"level": "info"}, refresh=True)
        assert es.indices.put_alias(index=first, name=alias)["acknowledged"] is True
        response = es.indices.update_aliases(
            actions=[
                {"add": {"index": second, "alias": alias, "is_write_index": True}},
                {"add": {"indices": [first, second], "alias": errors_alias, "filter": {"term": {"level": "error"}}}},
            ]
        )
        assert response["acknowledged"] is True and response["errors"] is False
        assert es.indices.exists_alias(name=alias)
        assert not es.indices.exists_alias(name=unique_index("nope"))
        got = es.indices.get_alias(name=alias)
        assert got[second]["aliases"][alias] == {"is_write_index": True}
        assert got[first]["aliases"][alias] == {}
        assert es.count(index=alias)["count"] == 2
        assert es.count(index=errors_alias)["count"] == 1

        written = es.index(index=alias, document={"level": "warn"}, refresh=True)
        assert written["_index"] == second
        cat = es.cat.aliases(name=alias, format="json")
        assert sorted(row["index"] for row in cat) == sorted([first, second])

        with pytest.raises(NotFoundError) as missing:
            es.indices.get_alias(name=unique_index("nope"))
        assert missing.value.meta.status == 404
        with pytest.raises(NotFoundError) as not_there:
            es.indices.delete_alias(index=first, name=unique_index("nope"))
        assert not_there.value.error == "aliases_not_found_exception"
        assert es.indices.delete_alias(index=first, name=alias)["acknowledged"] is True
        assert list(es.indices.get_alias(name=alias)) == [second]
    finally:
        es.indices.delete(index=[first, second], ignore_unavailable=True)
    assert not es.indices.exists_alias(name=alias)


def test_rollover_of_a_date_math_series(es):
    """Logstash's ILM bootstrap: a date math index with a write alias, rolled over by conditions."""
    prefix = unique_index("series")
    created = es.indices.create(index=f"<{prefix}-{{now/d}}-000001>", aliases={prefix: {"is_write_index": True}})
    first = created["index"]
    assert re.fullmatch(rf"{re.escape(prefix)}-\d{{4}}\.\d{{2}}\.\d{{2}}-000001", first)
    try:
        es.index(index=prefix, document={"message": "one"}, refresh=True)
        not_yet = es.indices.rollover(alias=prefix, conditions={"max_docs": 2})
        assert not_yet["rolled_over"] is False
        assert not_yet["conditions"] == {"[max_docs: 2]": False}
        dry = es.indices.rollover(alias=prefix, conditions={"max_docs": 1}, dry_run=True)
        assert dry["rolled_over"] is False and dry["dry_run"] is True
        rolled = es.indices.rollover(alias=prefix, conditions={"max_docs": 1})
        assert rolled["rolled_over"] is True and rolled["old_index"] == first
        assert rolled["new_index"] == first.replace("-000001", "-000002")
        assert es.index(index=prefix, document={"message": "two"}, refresh=True)["_index"] == rolled["new_index"]
        assert es.count(index=prefix)["count"] == 2
    finally:
        for name in list(es.indices.get(index=f"{prefix}-*")):
            es.indices.delete(index=name)


def test_legacy_templates_and_cat_endpoints(es):
    """The legacy template API older shippers use, and the _cat views of it."""
    name = unique_index("legacy")
    es.indices.put_template(
        name=name,
        index_patterns=[f"{name}-*"],
        order=3,
        mappings={"properties": {"pid": {"type": "long"}}},
        aliases={f"{name}-all": {}},
    )
    try:
        assert es.indices.exists_template(name=name)
        got = es.indices.get_template(name=name)[name]
        assert got["order"] == 3 and got["index_patterns"] == [f"{name}-*"]
        es.index(index=f"{name}-1", document={"pid": 7}, refresh=True)
        mapping = es.indices.get_mapping(index=f"{name}-1")[f"{name}-1"]["mappings"]
        assert mapping["properties"]["pid"] == {"type": "long"}
        assert es.count(index=f"{name}-all")["count"] == 1
        cat = es.cat.templates(name=name, format="json")
        assert cat[0]["name"] == name and cat[0]["order"] == "3"
        assert es.cat.count(index=f"{name}-1", format="json")[0]["count"] == "1"
        assert es.nodes.info()["_nodes"]["total"] == 1
        assert es.cluster.get_settings() == {"persistent": {}, "transient": {}}
    finally:
        es.indices.delete(index=f"{name}-1", ignore_unavailable=True)
        es.indices.delete_template(name=name)
    assert not es.indices.exists_template(name=name)


def test_component_templates_through_the_client(es):
    """cluster.put_component_template, composed_of, and what a new index gets from them."""
    name = unique_index("component")
    es.cluster.put_component_template(
        name=name, template={"mappings": {"properties": {"latency": {"type": "long"}}}}
    )
    es.indices.put_index_template(name=name, index_patterns=[f"{name}-*"], composed_of=[name])
    try:
        assert es.cluster.exists_component_template(name=name)
        got = es.cluster.get_component_template(name=name)["component_templates"][0]
        assert got["name"] == name
        es.index(index=f"{name}-1", document={"latency": 12}, refresh=True)
        mapping = es.indices.get_mapping(index=f"{name}-1")[f"{name}-1"]["mappings"]
        assert mapping["properties"]["latency"] == {"type": "long"}
        with pytest.raises(BadRequestError):
            es.cluster.delete_component_template(name=name)
    finally:
        es.indices.delete(index=f"{name}-1", ignore_unavailable=True)
        es.indices.delete_index_template(name=name)
        es.cluster.delete_component_template(name=name)
    assert not es.cluster.exists_component_template(name=name)


def test_delete_by_query_through_the_client(es):
    """delete_by_query with a query and refresh: what matched is gone, the rest stays."""
    index = unique_index("dbq")
    helpers.bulk(
        es,
        ({"_index": index, "_id": str(n), "level": "error" if n % 4 == 0 else "info"} for n in range(20)),
        refresh=True,
    )
    try:
        response = es.delete_by_query(index=index, query={"term": {"level.keyword": "error"}}, refresh=True)
        assert response["deleted"] == 5 and response["total"] == 5
        assert response["failures"] == []
        assert es.count(index=index)["count"] == 15
        with pytest.raises(NotFoundError):
            es.get(index=index, id="0")
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)


def test_documents_update_mget_and_optimistic_concurrency(es):
    """update (partial doc, script, upsert), mget, and if_seq_no through the client."""
    index = unique_index("docs")
    created = es.index(index=index, id="1", document={"n": 1, "user": {"name": "ann"}}, refresh=True)
    try:
        got = es.get(index=index, id="1")
        assert got["_seq_no"] == created["_seq_no"] and got["_primary_term"] == 1
        updated = es.update(index=index, id="1", doc={"user": {"age": 31}}, source=True)
        assert updated["result"] == "updated"
        assert updated["get"]["_source"] == {"n": 1, "user": {"name": "ann", "age": 31}}
        assert es.update(index=index, id="1", doc={"n": 1})["result"] == "noop"
        es.update(index=index, id="1", script={"source": "ctx._source.n += params.k", "params": {"k": 4}})
        es.update(index=index, id="2", doc={"n": 1}, upsert={"n": 0})
        docs = es.mget(index=index, ids=["1", "2", "3"])["docs"]
        assert [doc["found"] for doc in docs] == [True, True, False]
        assert docs[0]["_source"]["n"] == 5 and docs[1]["_source"] == {"n": 0}
        # A write of a stale copy is refused.
        with pytest.raises(ConflictError):
            es.index(index=index, id="1", document={"n": 0}, if_seq_no=got["_seq_no"], if_primary_term=1)
        current = es.get(index=index, id="1")
        es.index(index=index, id="1", document={"n": 6}, if_seq_no=current["_seq_no"], if_primary_term=1)
        result = es.update_by_query(
            index=index, script={"source": "ctx._source.n = ctx._source.n * 2"}, refresh=True, conflicts="proceed"
        )
        assert (result["total"], result["updated"], result["version_conflicts"]) == (2, 2, 0)
        assert es.get(index=index, id="1")["_source"]["n"] == 12
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)


def test_settings_stats_and_cluster_settings(es):
    """get/put_settings, stats, nodes.stats, cluster.stats and cluster.put_settings."""
    index = unique_index("settings")
    es.indices.create(index=index, settings={"index": {"number_of_shards": 1, "refresh_interval": "5s"}})
    try:
        es.index(index=index, id="1", document={"level": "info"}, refresh=True)
        settings = es.indices.get_settings(index=index)[index]["settings"]["index"]
        assert (settings["number_of_shards"], settings["refresh_interval"]) == ("1", "5s")
        es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "10s"}})
        flat = es.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
        assert flat["index.refresh_interval"] == "10s"
        stats = es.indices.stats(index=index, metric="docs,store")
        assert stats["indices"][index]["primaries"]["docs"]["count"] == 1
        assert stats["_all"]["total"]["store"]["size_in_bytes"] > 0
        nodes = es.nodes.stats(metric="jvm,fs,process")
        node = next(iter(nodes["nodes"].values()))
        assert node["jvm"]["gc"]["collectors"] == {} and node["fs"]["total"]["total_in_bytes"] > 0
        assert es.cluster.stats()["indices"]["docs"]["count"] >= 1
        es.cluster.put_settings(persistent={"action.auto_create_index": f"+{index}*,-nothing-*"})
        try:
            got = es.cluster.get_settings(flat_settings=True)
            assert got["persistent"]["action.auto_create_index"] == f"+{index}*,-nothing-*"
            with pytest.raises(NotFoundError):
                es.index(index="nothing-here", document={"a": 1})
        finally:
            es.cluster.put_settings(persistent={"action.auto_create_index": None})
        assert es.cluster.get_settings()["persistent"] == {}
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
