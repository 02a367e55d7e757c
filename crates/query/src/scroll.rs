//! Scrolling: a search whose hits are read page by page from a point-in-time view of the
//! partitions, in index order (`sort: _doc`), as `helpers.scan` and reindexing tools do.

use std::time::Instant;

use logfleet_store::SearchShard;
use serde_json::{Map, Value, json};
use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::query::Query;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::error::{QueryError, QueryResult};
use crate::request::SearchRequest;
use crate::search::{SearchContext, ShardHit, prepare_shards, render_hit, shards_json};
use crate::sort::SortTarget;

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
}

impl Scroll {
    /// Starts a scroll over `shards` (their searchers are the point in time).
    pub fn start(
        shards: Vec<SearchShard>,
        request: SearchRequest,
        context: &SearchContext<'_>,
    ) -> QueryResult<Scroll> {
        let by_doc = request
            .sort
            .as_ref()
            .is_none_or(|keys| keys.iter().all(|key| key.target == SortTarget::Doc));
        if !by_doc {
            return Err(QueryError::illegal(
                "scroll is supported in index order only: sort by [_doc] or not at all",
            ));
        }
        if request.aggregations.is_some() {
            return Err(QueryError::illegal(
                "aggregations are not supported in a scroll; run them in a plain search",
            ));
        }
        if request.from > 0 {
            return Err(QueryError::illegal(
                "using [from] is not allowed in a scroll context",
            ));
        }
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
        })
    }

    /// The next page, rendered as a `_search` response (without `_scroll_id`).
    pub fn next_page(&mut self, now_millis: i64) -> QueryResult<Value> {
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
        };
        let mut hits = Vec::with_capacity(page.len());
        for hit in &page {
            let mut rendered =
                render_hit(&self.shards[hit.shard], hit, &self.request, &context, false)?;
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
