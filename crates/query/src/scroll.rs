//! Scrolling: a search whose hits are read page by page from a point-in-time view of the
//! partitions. In index order (`sort: _doc`, as `helpers.scan` and reindexing tools ask)
//! pages are read straight off each partition after the last document returned; with a
//! sort (as ElastAlert asks for `@timestamp`), each page is a sorted search over the same
//! searchers continuing after the last hit's sort values, with `_doc` (unique across the
//! scroll's partitions) appended so that equal values never straddle a page unseen.

use std::time::Instant;

use logfleet_store::SearchShard;
use logfleet_store::skeleton::SourceCache;
use serde_json::{Map, Value, json};
use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::query::Query;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::error::{QueryError, QueryResult};
use crate::request::{SearchRequest, TrackTotalHits};
use crate::search::{SearchContext, ShardHit, prepare_shards, render_hit, search, shards_json};
use crate::sort::{SortKey, SortOrder, SortTarget, SortValue, parse_search_after};

/// A scroll in progress: the partitions as they were when it started, the built queries,
/// and where the next page begins.
#[derive(Debug)]
pub struct Scroll {
    shards: Vec<SearchShard>,
    queries: Vec<Option<Box<dyn Query>>>,
    skipped: usize,
    request: SearchRequest,
    fields: logfleet_store::Fields,
    total: u64,
    /// The partition the next page starts in, and the last document returned from it.
    position: (usize, Option<DocAddress>),
    /// For a sorted scroll: the sort with its `_doc` tiebreaker, and the last hit's values.
    sorted: Option<(Vec<SortKey>, Option<Vec<SortValue>>)>,
    /// The request's aggregations, computed over the scroll's point in time, which the first
    /// page carries (as Elasticsearch's does); later pages have none.
    aggregations: Option<Value>,
}

impl Scroll {
    /// Starts a scroll over `shards` (their searchers are the point in time).
    pub fn start(
        shards: Vec<SearchShard>,
        mut request: SearchRequest,
        context: &SearchContext<'_>,
    ) -> QueryResult<Scroll> {
        let by_doc = request
            .sort
            .as_ref()
            .is_none_or(|keys| keys.iter().all(|key| key.target == SortTarget::Doc));
        let sorted = match &request.sort {
            Some(keys) if !by_doc => {
                let mut keys = keys.clone();
                keys.push(SortKey {
                    target: SortTarget::Doc,
                    order: SortOrder::Asc,
                    missing_first: false,
                    unmapped_ok: true,
                });
                Some((keys, None))
            }
            _ => None,
        };
        if request.from > 0 {
            return Err(QueryError::illegal(
                "using [from] is not allowed in a scroll context",
            ));
        }
        let aggregations = match request.aggregations.take() {
            Some(aggregations) => {
                let mut aggregate = request.clone();
                aggregate.size = 0;
                aggregate.sort = None;
                aggregate.aggregations = Some(aggregations);
                let mut response = crate::search::search(&shards, &aggregate, context)?;
                Some(response["aggregations"].take())
            }
            None => None,
        };
        let prepared = prepare_shards(&shards, &request.query, context)?;
        let (queries, skipped) = (prepared.queries, prepared.skipped);
        let mut total = 0u64;
        for (shard, query) in shards.iter().zip(&queries) {
            if let Some(query) = query {
                total += shard.searcher.search(query.as_ref(), &Count)? as u64;
            }
        }
        Ok(Scroll {
            shards,
            queries,
            skipped,
            request,
            fields: context.fields.clone(),
            total,
            position: (0, None),
            sorted,
            aggregations,
        })
    }

    /// The next page, rendered as a `_search` response (without `_scroll_id`).
    pub fn next_page(&mut self, now_millis: i64) -> QueryResult<Value> {
        let mut page = self.next_hits(now_millis)?;
        if let Some(aggregations) = self.aggregations.take()
            && let Value::Object(page) = &mut page
        {
            page.insert("aggregations".to_owned(), aggregations);
        }
        Ok(page)
    }

    fn next_hits(&mut self, now_millis: i64) -> QueryResult<Value> {
        if self.sorted.is_some() {
            return self.next_sorted_page(now_millis);
        }
        let started = Instant::now();
        let size = self.request.size;
        let mut page: Vec<ShardHit> = Vec::with_capacity(size);
        while page.len() < size && self.position.0 < self.shards.len() {
            let (shard_index, after) = self.position;
            let Some(query) = &self.queries[shard_index] else {
                self.position = (shard_index + 1, None);
                continue;
            };
            let wanted = size - page.len();
            let addresses = self.shards[shard_index].searcher.search(
                query.as_ref(),
                &AfterCollector {
                    after,
                    limit: wanted,
                },
            )?;
            let exhausted = addresses.len() < wanted;
            if let Some(last) = addresses.last() {
                self.position = (shard_index, Some(*last));
            }
            page.extend(addresses.into_iter().map(|address| ShardHit {
                score: 1.0,
                shard: shard_index,
                address,
                sort_values: None,
            }));
            if exhausted {
                self.position = (shard_index + 1, None);
            }
        }
        let context = SearchContext {
            fields: &self.fields,
            now_millis,
            request_cache: None,
        };
        let mut hits = Vec::with_capacity(page.len());
        let mut sources = SourceCache::default();
        for hit in &page {
            let mut rendered = render_hit(
                &self.shards[hit.shard],
                hit,
                &self.request,
                &context,
                false,
                &mut sources,
            )?;
            if let Value::Object(object) = &mut rendered {
                object.insert("sort".into(), json!([hit.address.doc_id]));
            }
            hits.push(rendered);
        }
        let mut hits_object = Map::new();
        hits_object.insert(
            "total".into(),
            json!({"value": self.total, "relation": "eq"}),
        );
        hits_object.insert("max_score".into(), Value::Null);
        hits_object.insert("hits".into(), Value::Array(hits));
        Ok(json!({
            "took": started.elapsed().as_millis() as u64,
            "timed_out": false,
            "_shards": shards_json(self.shards.len(), self.skipped),
            "hits": Value::Object(hits_object),
        }))
    }
}

impl Scroll {
    fn next_sorted_page(&mut self, now_millis: i64) -> QueryResult<Value> {
        let Some((keys, after)) = &mut self.sorted else {
            return Err(QueryError::illegal("not a sorted scroll"));
        };
        let mut page_request = self.request.clone();
        page_request.sort = Some(keys.clone());
        page_request.search_after = after.clone();
        page_request.track_total_hits = TrackTotalHits::Disabled;
        let context = SearchContext {
            fields: &self.fields,
            now_millis,
            request_cache: None,
        };
        let mut response = search(&self.shards, &page_request, &context)?;
        let hits = response
            .pointer_mut("/hits/hits")
            .and_then(Value::as_array_mut);
        if let Some(hits) = hits {
            if let Some(last) = hits.last() {
                *after = Some(parse_search_after(&last["sort"], keys)?);
            }
            // The tiebreaker is the scroll's own; clients see the sort they asked for.
            for hit in hits.iter_mut() {
                if let Some(values) = hit.get_mut("sort").and_then(Value::as_array_mut) {
                    values.pop();
                }
            }
        }
        if let Some(hits) = response.get_mut("hits").and_then(Value::as_object_mut) {
            let mut with_total = Map::new();
            with_total.insert(
                "total".into(),
                json!({"value": self.total, "relation": "eq"}),
            );
            with_total.extend(std::mem::take(hits));
            *hits = with_total;
        }
        if let Some(shards) = response.get_mut("_shards") {
            *shards = shards_json(self.shards.len(), self.skipped);
        }
        Ok(response)
    }
}

/// The first `limit` matching documents after `after`, in index order.
struct AfterCollector {
    after: Option<DocAddress>,
    limit: usize,
}

struct AfterSegmentCollector {
    segment: SegmentOrdinal,
    /// Documents at or below this id are skipped (the whole segment when it precedes `after`).
    skip_through: Option<DocId>,
    limit: usize,
    hits: Vec<DocAddress>,
}

impl Collector for AfterCollector {
    type Fruit = Vec<DocAddress>;
    type Child = AfterSegmentCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<AfterSegmentCollector> {
        let skip_through = match self.after {
            Some(after) if after.segment_ord > segment => Some(DocId::MAX),
            Some(after) if after.segment_ord == segment => Some(after.doc_id),
            _ => None,
        };
        Ok(AfterSegmentCollector {
            segment,
            skip_through,
            limit: self.limit,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<DocAddress>>) -> tantivy::Result<Vec<DocAddress>> {
        let mut all: Vec<DocAddress> = fruits.into_iter().flatten().collect();
        all.sort();
        all.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentCollector for AfterSegmentCollector {
    type Fruit = Vec<DocAddress>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if self.hits.len() >= self.limit || self.skip_through.is_some_and(|skip| doc <= skip) {
            return;
        }
        self.hits.push(DocAddress::new(self.segment, doc));
    }

    fn harvest(self) -> Vec<DocAddress> {
        self.hits
    }
}
