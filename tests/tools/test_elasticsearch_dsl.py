"""The DSL of elasticsearch-py 9 (`elasticsearch.dsl`, formerly elasticsearch-dsl): a Document's life.

An application's persistence layer, as the DSL's documentation writes it: a `Document`
subclass whose `init()` creates the index (and is called again at every start-up), then
`save()`, `get()`, a partial `update()`, `search()` with a query and a filter,
`UpdateByQuery` with a Painless script, and `delete()`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

elasticsearch = pytest.importorskip("elasticsearch")
dsl = pytest.importorskip("elasticsearch.dsl")

from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from elasticsearch.dsl import Date, Document, Integer, Keyword, Text, UpdateByQuery

INDEX = "dsl-events"


class LogEvent(Document):
    message = Text()
    level = Keyword()
    service = Keyword()
    status_code = Integer()
    retries = Integer()
    timestamp = Date(default_timezone="UTC")

    class Index:
        name = INDEX
        settings = {"number_of_shards": 1, "number_of_replicas": 0}

    def is_error(self) -> bool:
        return self.level == "error"


@pytest.fixture
def es(logfleet):
    client = Elasticsearch(logfleet.url, request_timeout=30)
    yield client
    client.close()


def at(minute: int) -> datetime:
    return datetime(2026, 11, 26, 10, minute, tzinfo=UTC)


@pytest.fixture
def events(logfleet, es) -> dict[str, LogEvent]:
    """The index made by init() (twice, as at two start-ups) and four saved events."""
    LogEvent.init(using=es)
    # Applications call init() at every start-up: on an existing index it must leave the
    # mapping as it is.
    LogEvent.init(using=es)
    saved = {
        "evt-1": LogEvent(meta={"id": "evt-1"}, message="payment gateway timeout", level="warn",
                          service="billing", status_code=504, retries=0, timestamp=at(1)),
        "evt-2": LogEvent(message="user signed in", level="info", service="auth", status_code=200,
                          retries=0, timestamp=at(2)),
        "evt-3": LogEvent(message="database connection timeout", level="error", service="billing",
                          status_code=500, retries=2, timestamp=at(3)),
        "evt-4": LogEvent(message="upstream timeout on checkout", level="error", service="shop",
                          status_code=502, retries=1, timestamp=at(4)),
    }
    for event in saved.values():
        assert event.save(using=es, refresh=True) == "created"
    return saved


def test_init_creates_the_index_with_the_documents_mapping(logfleet, es, events):
    mapping = logfleet.ok("GET", f"/{INDEX}/_mapping")[INDEX]["mappings"]["properties"]
    assert mapping["level"] == {"type": "keyword"}
    assert mapping["message"] == {"type": "text"}
    assert mapping["status_code"] == {"type": "integer"}
    assert mapping["timestamp"]["type"] == "date"
    settings = logfleet.ok("GET", f"/{INDEX}/_settings")[INDEX]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("1", "0")


def test_save_and_get(es, events):
    first = events["evt-1"]
    assert first.meta.id == "evt-1"
    assert first.meta.seq_no is not None and first.meta.primary_term is not None
    assert all(event.meta.id for event in events.values())  # ids chosen by the server

    got = LogEvent.get(id="evt-1", using=es)
    assert isinstance(got, LogEvent)
    assert got.message == "payment gateway timeout"
    assert got.status_code == 504
    assert got.timestamp == at(1)
    assert got.meta.index == INDEX
    assert got.meta.seq_no == first.meta.seq_no


def test_save_of_a_stale_copy_is_refused(es, events):
    # save() of a fetched document sends if_seq_no/if_primary_term from the fetch
    # (optimistic concurrency control): the second writer of two must get a conflict.
    mine = LogEvent.get(id="evt-1", using=es)
    theirs = LogEvent.get(id="evt-1", using=es)
    assert mine.meta.seq_no == theirs.meta.seq_no
    theirs.level = "info"
    assert theirs.save(using=es, refresh=True) == "updated"
    assert theirs.meta.seq_no > mine.meta.seq_no
    mine.level = "error"
    with pytest.raises(ConflictError):
        mine.save(using=es, refresh=True)
    assert LogEvent.get(id="evt-1", using=es).level == "info"


def test_partial_update(es, events):
    got = LogEvent.get(id="evt-1", using=es)
    # Only the named fields change; the rest of _source stays.
    got.update(using=es, level="error", retries=3, refresh=True)
    assert got.level == "error"
    updated = LogEvent.get(id="evt-1", using=es)
    assert (updated.level, updated.retries, updated.message) == ("error", 3, "payment gateway timeout")
    assert updated.meta.seq_no > got.meta.seq_no or updated.meta.seq_no == got.meta.seq_no
    assert updated.meta.seq_no > events["evt-1"].meta.seq_no


def test_search_with_query_and_filter(es, events):
    search = (LogEvent.search(using=es)
              .query("match", message="timeout")
              .filter("term", level="error")
              .sort("timestamp"))
    response = search.execute()
    assert response.hits.total.value == 2
    hits = list(response)
    assert all(isinstance(hit, LogEvent) and hit.is_error() for hit in hits)
    assert [hit.service for hit in hits] == ["billing", "shop"]
    assert [hit.timestamp for hit in hits] == [at(3), at(4)]
    assert search.count() == 2
    assert LogEvent.search(using=es).count() == 4


def test_update_by_query_with_script(es, events):
    ubq = (UpdateByQuery(using=es, index=INDEX)
           .query("term", service="billing")
           .script(source="ctx._source.retries += params.extra", lang="painless",
                   params={"extra": 10})
           .params(refresh=True, conflicts="proceed"))
    result = ubq.execute()
    assert result.updated == 2
    assert result.failures == []
    billing = {hit.meta.id: hit.retries for hit in
               LogEvent.search(using=es).filter("term", service="billing").execute()}
    assert billing == {"evt-1": 10, events["evt-3"].meta.id: 12}
    # Documents the query did not match are untouched.
    assert LogEvent.get(id=events["evt-4"].meta.id, using=es).retries == 1


def test_delete(es, events):
    LogEvent.get(id="evt-1", using=es).delete(using=es, refresh=True)
    with pytest.raises(NotFoundError):
        LogEvent.get(id="evt-1", using=es)
    assert LogEvent.search(using=es).count() == 3
