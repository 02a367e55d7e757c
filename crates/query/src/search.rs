//! Runs a search over the partitions an index expression resolves to and renders
//! Elasticsearch's response.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Instant;

use logfleet_model::fields::TIMESTAMP;
use logfleet_store::SearchShard;
use logfleet_store::schema::SEQ_FIELD;
use logfleet_store::skeleton::SourceCache;
use serde_json::{Map, Value, json};
use std::sync::Arc;

use logfleet_store::Mapping;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::intermediate_agg_result::IntermediateAggregationResults;
use tantivy::aggregation::{
    AggContextParams, AggregationLimitsGuard, DistributedAggregationCollector,
};
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::tokenizer::TokenizerManager;

use crate::aggs::{
    Aggregation, AggregationsRequest, DataBounds, fields_needing_data_bounds, render, to_tantivy,
};
use crate::hit_fields::{extract_fields, highlight, query_terms};
use crate::request_cache::{RequestCache, ShardResult, contents_key};
use crate::sort::{SortCollector, SortOrder, SortTarget, SortValue, compare_keys};
use tantivy::query::Query;
use tantivy::{DocAddress, TantivyDocument};

use crate::aggs::top_hits::{fill_top_hits, requests_top_hits};
use crate::ast::QueryAst;
use crate::build::{BuildContext, build_query};
use crate::dsl::parse_query;
use crate::error::{QueryError, QueryResult};
use crate::request::{SearchRequest, TrackTotalHits};
use crate::time_bounds::timestamp_bounds;

/// What every search needs besides the request.
#[derive(Debug, Clone, Copy)]
pub struct SearchContext<'a> {
    /// Schema fields.
    pub fields: &'a logfleet_store::Fields,
    /// "now" for date math, epoch milliseconds.
    pub now_millis: i64,
    /// Where `size: 0` aggregation results are kept per partition; `None` bypasses it.
    pub request_cache: Option<&'a RequestCache>,
}

pub(crate) struct ShardHit {
    pub(crate) score: f32,
    pub(crate) shard: usize,
    pub(crate) address: DocAddress,
    /// Field sort values, when sorting by fields.
    pub(crate) sort_values: Option<Vec<SortValue>>,
}

/// Builds one tantivy query per distinct mapping (targets differ, partitions of one target
/// share theirs) and reports which shards a time filter lets us skip.
pub(crate) struct PreparedShards<'a> {
    pub(crate) shards: &'a [SearchShard],
    pub(crate) queries: Vec<Option<Box<dyn Query>>>,
    pub(crate) skipped: usize,
}

/// The query for one shard: the request's, limited by the shard's alias filter if any.
fn build_shard_query(
    shard: &SearchShard,
    query: &QueryAst,
    context: &SearchContext<'_>,
) -> QueryResult<Box<dyn Query>> {
    let build_context = BuildContext {
        mapping: &shard.mapping,
        fields: context.fields,
        ids: shard.ids,
        now_millis: context.now_millis,
    };
    match &shard.filter {
        Some(filter) => {
            let filtered = QueryAst::Bool {
                must: vec![query.clone()],
                filter: vec![parse_query(filter)?],
                should: Vec::new(),
                must_not: Vec::new(),
                minimum_should_match: None,
            };
            build_query(&filtered, &build_context)
        }
        None => build_query(query, &build_context),
    }
}

pub(crate) fn prepare_shards<'a>(
    shards: &'a [SearchShard],
    query: &QueryAst,
    context: &SearchContext<'_>,
) -> QueryResult<PreparedShards<'a>> {
    let bounds = timestamp_bounds(query, context.now_millis);
    // Partitions of one target share a mapping, and so a query, unless they were reached
    // through aliases with different filters.
    let mut by_target: HashMap<(&str, Option<&Value>), Box<dyn Query>> = HashMap::new();
    let mut queries = Vec::with_capacity(shards.len());
    let mut skipped = 0;
    for shard in shards {
        let outside = match (bounds, shard.time_bounds) {
            (Some((low, high)), Some((start, end))) => high < start || low >= end,
            _ => false,
        };
        if outside {
            skipped += 1;
            queries.push(None);
            continue;
        }
        let built = match by_target.entry((shard.target.as_str(), shard.filter.as_deref())) {
            Entry::Occupied(entry) => entry.get().box_clone(),
            Entry::Vacant(entry) => entry
                .insert(build_shard_query(shard, query, context)?)
                .box_clone(),
        };
        queries.push(Some(built));
    }
    Ok(PreparedShards {
        shards,
        queries,
        skipped,
    })
}

pub(crate) fn shards_json(total: usize, skipped: usize) -> Value {
    json!({"total": total, "successful": total, "skipped": skipped, "failed": 0})
}

/// Runs `request` and renders the `_search` response.
pub fn search(
    shards: &[SearchShard],
    request: &SearchRequest,
    context: &SearchContext<'_>,
) -> QueryResult<Value> {
    let started = Instant::now();
    request.validate_window()?;
    let prepared = prepare_shards(shards, &request.query, context)?;
    let window = request.from + request.size;
    // Sorting by score alone is the default order.
    let field_sort = request.sort.as_deref().filter(|keys| {
        !(keys.len() == 1
            && keys[0].target == SortTarget::Score
            && keys[0].order == SortOrder::Desc)
    });
    let mut total: u64 = 0;
    let mut hits = Vec::new();
    // The aggregations in types, parsed once for the data bounds, every partition's
    // translation, rendering and `top_hits`.
    let typed_aggregations = match &request.aggregations {
        Some(aggregations) => Some((aggregations, aggregations.parse_typed(context.now_millis)?)),
        None => None,
    };
    let mut aggregations = match &typed_aggregations {
        Some((aggregations, typed)) => {
            let data_bounds = data_bounds(typed, &prepared, context.now_millis)?;
            Some(AggregationRun::new(
                aggregations,
                typed,
                context.now_millis,
                data_bounds,
            ))
        }
        None => None,
    };
    let cache = match (&aggregations, context.request_cache) {
        (Some(run), Some(cache)) => run.cache_key(request).map(|key| (cache, key)),
        _ => None,
    };
    // Collectors are built here, in order (aggregations are translated once per target);
    // the partitions are then searched in parallel and their results merged in order.
    let mut jobs = Vec::new();
    let mut cached_contents = Vec::new();
    for (shard_index, (shard, query)) in prepared.shards.iter().zip(&prepared.queries).enumerate() {
        let Some(query) = query else { continue };
        let mut aggregations_cached = false;
        // Cached results are per partition contents and request; an alias filter would
        // make them depend on the route taken too.
        if let Some((cache, key)) = cache.as_ref().filter(|_| shard.filter.is_none()) {
            let contents = contents_key(&shard.searcher);
            if let (Some(hit), Some(run)) = (cache.get(contents, key), &mut aggregations) {
                // Translating is still needed: finalising uses the first target's request.
                run.collector_for(shard)?;
                run.merge(hit.aggregations)?;
                if window == 0 {
                    total += hit.count;
                    continue;
                }
                // Hits are still searched for; only the aggregations come from the cache.
                aggregations_cached = true;
            } else {
                cached_contents.push((shard_index, contents));
            }
        }
        let top_docs = (window > 0 && field_sort.is_none())
            .then(|| TopDocs::with_limit(window).order_by_score());
        let sorted_docs = match field_sort {
            Some(keys) if window > 0 => Some(SortCollector::new(
                keys,
                &shard.mapping,
                window,
                request.search_after.clone(),
                shard_index,
            )?),
            _ => None,
        };
        let aggregation_collector = match &mut aggregations {
            Some(run) if !aggregations_cached => Some(run.collector_for(shard)?),
            _ => None,
        };
        jobs.push((
            shard_index,
            shard,
            query.as_ref(),
            (Count, top_docs, sorted_docs, aggregation_collector),
        ));
    }
    let results = run_in_parallel(jobs, |(shard_index, shard, query, collectors)| {
        (shard_index, shard.searcher.search(query, &collectors))
    });
    for (shard_index, result) in results {
        let (count, top, sorted, intermediate) = result.map_err(engine_or_request_error)?;
        if let (Some((cache, key)), Some(intermediate)) = (&cache, &intermediate)
            && let Some((_, contents)) = cached_contents
                .iter()
                .find(|(index, _)| *index == shard_index)
        {
            let result = ShardResult {
                count: count as u64,
                aggregations: intermediate.clone(),
            };
            cache.insert(*contents, key, result);
        }
        if let (Some(run), Some(intermediate)) = (&mut aggregations, intermediate) {
            run.merge(intermediate)?;
        }
        let count = match request.terminate_after {
            Some(limit) => count.min(limit as usize),
            None => count,
        };
        total += count as u64;
        hits.extend(
            top.unwrap_or_default()
                .into_iter()
                .map(|(score, address)| ShardHit {
                    score,
                    shard: shard_index,
                    address,
                    sort_values: None,
                }),
        );
        hits.extend(sorted.unwrap_or_default().into_iter().map(|hit| ShardHit {
            score: hit.score,
            shard: shard_index,
            address: hit.address,
            sort_values: Some(hit.values),
        }));
    }
    // Elasticsearch's order for equal sort values: shard, then document.
    hits.sort_by(|left, right| {
        let by_keys = match (field_sort, &left.sort_values, &right.sort_values) {
            (Some(keys), Some(left_values), Some(right_values)) => {
                compare_keys(keys, left_values, right_values)
            }
            _ => right
                .score
                .partial_cmp(&left.score)
                .unwrap_or(Ordering::Equal),
        };
        by_keys
            .then(left.shard.cmp(&right.shard))
            .then(left.address.cmp(&right.address))
    });
    let page: Vec<&ShardHit> = hits.iter().skip(request.from).take(request.size).collect();
    let scores_reported = field_sort.is_none() || request.track_scores;
    let max_score = if field_sort.is_none() {
        hits.first().map(|hit| hit.score)
    } else if request.track_scores {
        hits.iter().map(|hit| hit.score).reduce(f32::max)
    } else {
        None
    };
    let mut rendered_hits = Vec::with_capacity(page.len());
    let mut sources = SourceCache::default();
    for hit in page {
        rendered_hits.push(render_hit(
            &prepared.shards[hit.shard],
            hit,
            request,
            context,
            scores_reported,
            &mut sources,
        )?);
    }
    let mut hits_object = Map::new();
    match request.track_total_hits {
        TrackTotalHits::Disabled => {}
        TrackTotalHits::Exact => {
            hits_object.insert("total".into(), json!({"value": total, "relation": "eq"}));
        }
        TrackTotalHits::UpTo(limit) if total > limit => {
            hits_object.insert("total".into(), json!({"value": limit, "relation": "gte"}));
        }
        TrackTotalHits::UpTo(_) => {
            hits_object.insert("total".into(), json!({"value": total, "relation": "eq"}));
        }
    }
    hits_object.insert(
        "max_score".into(),
        max_score.map_or(Value::Null, |score| json!(score)),
    );
    hits_object.insert("hits".into(), Value::Array(rendered_hits));
    let mut response = Map::new();
    response.insert("took".into(), json!(started.elapsed().as_millis() as u64));
    response.insert("timed_out".into(), json!(false));
    if let Some(limit) = request.terminate_after {
        response.insert("terminated_early".into(), json!(total >= limit));
    }
    response.insert(
        "_shards".into(),
        shards_json(shards.len(), prepared.skipped),
    );
    response.insert("hits".into(), Value::Object(hits_object));
    if let Some(run) = aggregations {
        let mut rendered = run.finish()?;
        if let Some((_, typed)) = &typed_aggregations
            && requests_top_hits(typed)
        {
            let mut run_top_hits = |inner: SearchRequest, doc_count: u64| {
                top_hits_object(search(shards, &inner, context)?, doc_count)
            };
            fill_top_hits(
                typed,
                &mut rendered,
                &request.query,
                total,
                &mut run_top_hits,
            )?;
        }
        response.insert("aggregations".into(), rendered);
    }
    Ok(Value::Object(response))
}

pub(crate) fn render_hit<'a>(
    shard: &'a SearchShard,
    hit: &ShardHit,
    request: &SearchRequest,
    context: &SearchContext<'_>,
    scores_reported: bool,
    sources: &mut SourceCache<'a>,
) -> QueryResult<Value> {
    let document: TantivyDocument = shard.searcher.doc(hit.address)?;
    let id = shard.document_id(hit.address, &document, context.fields);
    let mut rendered = Map::new();
    rendered.insert("_index".into(), Value::String(shard.index.clone()));
    rendered.insert("_id".into(), Value::String(id));
    let column = |name: &str| {
        shard
            .searcher
            .segment_reader(hit.address.segment_ord)
            .fast_fields()
            .u64(name)
            .ok()
            .and_then(|column| column.first(hit.address.doc_id))
    };
    if request.version {
        rendered.insert("_version".into(), json!(column("_version").unwrap_or(1)));
    }
    if request.seq_no_primary_term {
        // The sequence number of the write that stored the document, as `_doc` reports it.
        rendered.insert("_seq_no".into(), json!(column(SEQ_FIELD).unwrap_or(0)));
        rendered.insert("_primary_term".into(), json!(logfleet_store::PRIMARY_TERM));
    }
    rendered.insert(
        "_score".into(),
        if scores_reported {
            json!(hit.score)
        } else {
            Value::Null
        },
    );
    let needs_source =
        !request.source.disabled || !request.fields.is_empty() || request.highlight.is_some();
    if needs_source {
        let bytes = sources.source(
            hit.shard,
            &shard.searcher,
            hit.address,
            &document,
            context.fields,
        );
        let source: Map<String, Value> = serde_json::from_slice(&bytes).unwrap_or_default();
        if !request.fields.is_empty() {
            let fields = extract_fields(&source, &request.fields, &shard.mapping);
            if !fields.is_empty() {
                rendered.insert("fields".into(), Value::Object(fields));
            }
        }
        if let Some(highlight_request) = &request.highlight {
            let terms = query_terms(&request.query, &shard.mapping);
            let highlighted = highlight(&source, highlight_request, &terms);
            if !highlighted.is_empty() {
                rendered.insert("highlight".into(), Value::Object(highlighted));
            }
        }
        if let Some(filtered) = request.source.apply(source) {
            rendered.insert("_source".into(), Value::Object(filtered));
        }
    }
    if let Some(values) = &hit.sort_values {
        rendered.insert(
            "sort".into(),
            values.iter().map(SortValue::to_json).collect(),
        );
    }
    Ok(Value::Object(rendered))
}

/// Runs `work` over `jobs` on up to as many threads as the machine has cores, returning the
/// results in the order of the jobs.
fn run_in_parallel<Job, Output>(jobs: Vec<Job>, work: impl Fn(Job) -> Output + Sync) -> Vec<Output>
where
    Job: Send,
    Output: Send,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(jobs.len());
    if threads <= 1 {
        return jobs.into_iter().map(work).collect();
    }
    let mut queues: Vec<Vec<(usize, Job)>> = (0..threads).map(|_| Vec::new()).collect();
    for (position, job) in jobs.into_iter().enumerate() {
        queues[position % threads].push((position, job));
    }
    let work = &work;
    let mut outputs: Vec<(usize, Output)> = std::thread::scope(|scope| {
        let handles: Vec<_> = queues
            .into_iter()
            .map(|queue| {
                scope.spawn(move || {
                    queue
                        .into_iter()
                        .map(|(position, job)| (position, work(job)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            // A panic in a partition's search is a bug: let it surface rather than return
            // results without that partition.
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    outputs.sort_by_key(|(position, _)| *position);
    outputs.into_iter().map(|(_, output)| output).collect()
}

/// Elasticsearch's `search.max_buckets`.
const MAX_BUCKETS: u32 = 65_536;
/// Memory an aggregation may use before it is refused.
const AGGREGATION_MEMORY_LIMIT: u64 = 512 * 1024 * 1024;

fn aggregation_limits() -> AggregationLimitsGuard {
    AggregationLimitsGuard::new(Some(AGGREGATION_MEMORY_LIMIT), Some(MAX_BUCKETS))
}

/// Errors tantivy reports about the request (bucket limits, bad parameters) are the client's;
/// the rest are ours.
fn engine_or_request_error(error: tantivy::TantivyError) -> QueryError {
    match error {
        tantivy::TantivyError::AggregationError(error) => QueryError::illegal(error.to_string()),
        tantivy::TantivyError::InvalidArgument(reason) => QueryError::illegal(reason),
        other => QueryError::Engine(other),
    }
}

/// A `top_hits` result from the response of its search: Elasticsearch counts the bucket's
/// documents as its total.
fn top_hits_object(mut response: Value, doc_count: u64) -> QueryResult<Value> {
    let hits = response["hits"].take();
    Ok(json!({"hits": {
        "total": {"value": doc_count, "relation": "eq"},
        "max_score": hits.get("max_score").cloned().unwrap_or(Value::Null),
        "hits": hits.get("hits").cloned().unwrap_or_else(|| json!([])),
    }}))
}

/// The first and last matching date of the fields whose `date_histogram` buckets are laid out
/// on the calendar before collecting (see `date_histogram.rs`): one `min`/`max` pass over the
/// same partitions and query, on columns, so it costs a fraction of the main pass.
fn data_bounds(
    aggregations: &[Aggregation],
    prepared: &PreparedShards<'_>,
    now_millis: i64,
) -> QueryResult<DataBounds> {
    let fields = fields_needing_data_bounds(aggregations);
    if fields.is_empty() {
        return Ok(DataBounds::new());
    }
    let bounds_request = AggregationsRequest::min_and_max(&fields);
    let typed = bounds_request.parse_typed(now_millis)?;
    let mut run = AggregationRun::new(&bounds_request, &typed, now_millis, DataBounds::new());
    let mut jobs = Vec::new();
    for (shard, query) in prepared.shards.iter().zip(&prepared.queries) {
        let Some(query) = query else { continue };
        jobs.push((shard, query.as_ref(), run.collector_for(shard)?));
    }
    let results = run_in_parallel(jobs, |(shard, query, collector)| {
        shard.searcher.search(query, &collector)
    });
    for intermediate in results {
        run.merge(intermediate.map_err(engine_or_request_error)?)?;
    }
    let rendered = run.finish()?;
    Ok(fields
        .into_iter()
        .enumerate()
        .filter_map(|(index, field)| {
            let min = rendered[format!("min{index}")]["value"].as_f64()?;
            let max = rendered[format!("max{index}")]["value"].as_f64()?;
            Some((field, (min as i64, max as i64)))
        })
        .collect())
}

/// Aggregations of one search: translated once per target mapping, collected per partition,
/// merged as intermediate results and finalised once.
struct AggregationRun<'r> {
    request: &'r AggregationsRequest,
    /// The request in types, parsed once for the search.
    typed: &'r [Aggregation],
    now_millis: i64,
    data_bounds: DataBounds,
    translated: HashMap<String, Aggregations>,
    first: Option<(Aggregations, Arc<Mapping>)>,
    merged: Option<IntermediateAggregationResults>,
}

impl<'r> AggregationRun<'r> {
    fn new(
        request: &'r AggregationsRequest,
        typed: &'r [Aggregation],
        now_millis: i64,
        data_bounds: DataBounds,
    ) -> Self {
        AggregationRun {
            request,
            typed,
            now_millis,
            data_bounds,
            translated: HashMap::new(),
            first: None,
            merged: None,
        }
    }

    /// The request cache's key for `request`'s aggregations, when they may be cached: no
    /// `terminate_after`, and nothing that depends on `now` (conservatively: the word appears
    /// nowhere in the query or the aggregations). Unlike Elasticsearch, which caches whole
    /// `size: 0` responses only, the aggregations of requests that also ask for hits are
    /// cached too (the seed's dashboard queries do): the hits are searched for every time.
    fn cache_key(&self, request: &SearchRequest) -> Option<String> {
        if request.terminate_after.is_some() {
            return None;
        }
        let mut bounds: Vec<_> = self.data_bounds.iter().collect();
        bounds.sort();
        let key = format!(
            "{:?}\n{}\n{bounds:?}",
            request.query,
            Value::Object(self.request.root().clone())
        );
        (!key.contains("now")).then_some(key)
    }

    fn collector_for(
        &mut self,
        shard: &SearchShard,
    ) -> QueryResult<DistributedAggregationCollector> {
        if !self.translated.contains_key(&shard.target) {
            let aggregations = to_tantivy(
                self.typed,
                &shard.mapping,
                shard.ids,
                self.now_millis,
                &self.data_bounds,
            )?;
            if self.first.is_none() {
                self.first = Some((aggregations.clone(), shard.mapping.clone()));
            }
            self.translated.insert(shard.target.clone(), aggregations);
        }
        let aggregations = self.translated[&shard.target].clone();
        Ok(DistributedAggregationCollector::from_aggs(
            aggregations,
            AggContextParams::new(aggregation_limits(), TokenizerManager::default()),
        ))
    }

    fn merge(&mut self, intermediate: IntermediateAggregationResults) -> QueryResult<()> {
        match &mut self.merged {
            Some(merged) => merged
                .merge_fruits(intermediate)
                .map_err(engine_or_request_error),
            None => {
                self.merged = Some(intermediate);
                Ok(())
            }
        }
    }

    fn finish(self) -> QueryResult<Value> {
        let (aggregations, mapping) = match self.first {
            Some(first) => first,
            None => {
                let mapping = Arc::new(Mapping::new(logfleet_store::DynamicStyle::Index));
                let aggregations = to_tantivy(
                    self.typed,
                    &mapping,
                    logfleet_store::IdCodec::random(),
                    self.now_millis,
                    &self.data_bounds,
                )?;
                (aggregations, mapping)
            }
        };
        let results = self
            .merged
            .unwrap_or_default()
            .into_final_result(aggregations, aggregation_limits())
            .map_err(engine_or_request_error)?;
        let value = serde_json::to_value(&results)
            .map_err(|error| QueryError::illegal(format!("aggregation results: {error}")))?;
        Ok(render(self.typed, value, &mapping))
    }
}

/// Runs a count and renders the `_count` response.
pub fn count(
    shards: &[SearchShard],
    query: &QueryAst,
    context: &SearchContext<'_>,
) -> QueryResult<Value> {
    let prepared = prepare_shards(shards, query, context)?;
    let jobs: Vec<_> = prepared
        .shards
        .iter()
        .zip(&prepared.queries)
        .filter_map(|(shard, query)| query.as_ref().map(|query| (shard, query.as_ref())))
        .collect();
    let mut total = 0u64;
    for count in run_in_parallel(jobs, |(shard, query)| shard.searcher.search(query, &Count)) {
        total += count? as u64;
    }
    Ok(json!({"count": total, "_shards": shards_json(shards.len(), prepared.skipped)}))
}

/// Every document `query` matches, as its concrete index and `_id`, in index then document
/// order, at most `limit` of them: what `_delete_by_query` deletes.
pub fn matching_documents(
    shards: &[SearchShard],
    query: &QueryAst,
    context: &SearchContext<'_>,
    limit: Option<usize>,
) -> QueryResult<Vec<(String, String)>> {
    let prepared = prepare_shards(shards, query, context)?;
    let mut matches = Vec::new();
    for (shard, query) in prepared.shards.iter().zip(&prepared.queries) {
        let Some(query) = query else { continue };
        let mut addresses: Vec<DocAddress> = shard
            .searcher
            .search(query.as_ref(), &DocSetCollector)
            .map_err(engine_or_request_error)?
            .into_iter()
            .collect();
        addresses.sort();
        for address in addresses {
            if limit.is_some_and(|limit| matches.len() >= limit) {
                return Ok(matches);
            }
            let stored: TantivyDocument = shard.searcher.doc(address)?;
            matches.push((
                shard.index.clone(),
                shard.document_id(address, &stored, context.fields),
            ));
        }
    }
    Ok(matches)
}

/// Whether a field name is the timestamp used for partition pruning.
pub fn is_timestamp(field: &str) -> bool {
    field == TIMESTAMP
}
