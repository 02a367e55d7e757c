//! Statistics: `_stats`, `_nodes/stats` and `_cluster/stats`, in Elasticsearch's shapes.
//!
//! Monitoring and benchmark tools read these sections by key and fail on a missing one, so
//! every section Elasticsearch returns is here. Where Logfleet has a figure (documents, bytes
//! on disk, writes and searches since start, the process's CPU, memory and open files, the
//! data directory's disk) it is the real one; elsewhere it is the neutral value a single node
//! without a JVM honestly has (zeros, empty maps).

use std::path::Path as FsPath;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::response::Response;
use logfleet_store::{DiskSpace, IndexStats};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::handlers::cluster::{node_id, selects_this_node};
use crate::params::{self, Params};
use crate::response::ok;

/// The metrics of `_stats/{metric}`, as named in the path (`merge` is shown as `merges`).
const INDEX_METRICS: &[&str] = &[
    "docs",
    "shard_stats",
    "store",
    "indexing",
    "get",
    "search",
    "merge",
    "refresh",
    "flush",
    "warmer",
    "query_cache",
    "fielddata",
    "completion",
    "segments",
    "translog",
    "request_cache",
    "recovery",
    "bulk",
    "dense_vector",
    "sparse_vector",
];

const STATS_PARAMETERS: &[&str] = &[
    "level",
    "expand_wildcards",
    "ignore_unavailable",
    "allow_no_indices",
    "forbid_closed_indices",
    "completion_fields",
    "fielddata_fields",
    "fields",
    "groups",
    "include_segment_file_sizes",
    "include_unloaded_segments",
];

/// Which of `known` metrics a `{metric}` path segment asks for; all for none or `_all`.
fn chosen_metrics(
    segment: Option<&str>,
    known: &[&'static str],
    path: &str,
) -> Result<Vec<&'static str>, ApiError> {
    let Some(segment) = segment.filter(|segment| !segment.is_empty() && *segment != "_all") else {
        return Ok(known.to_vec());
    };
    let mut chosen = Vec::new();
    let mut unknown = Vec::new();
    for name in segment.split(',').map(str::trim) {
        match known.iter().find(|metric| **metric == name) {
            Some(metric) => chosen.push(*metric),
            None => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        let noun = if unknown.len() == 1 {
            "metric"
        } else {
            "metrics"
        };
        return Err(ApiError::illegal_argument(format!(
            "request [{path}] contains unrecognized {noun}: [{}]",
            unknown.join("], [")
        )));
    }
    Ok(chosen)
}

/// The sum of `rows`' figures, as `_all` and the nodes' `indices` section show them.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    shards: u64,
    docs: u64,
    deleted: u64,
    bytes: u64,
    index_total: u64,
    query_total: u64,
}

impl Figures {
    fn of<'a>(rows: impl IntoIterator<Item = &'a IndexStats>) -> Figures {
        rows.into_iter()
            .fold(Figures::default(), |sum, row| Figures {
                shards: sum.shards + 1,
                docs: sum.docs + row.docs_count,
                deleted: sum.deleted + row.docs_deleted,
                bytes: sum.bytes + row.store_bytes,
                index_total: sum.index_total + row.index_total,
                query_total: sum.query_total + row.query_total,
            })
    }
}

/// One metric's section for `figures`.
fn section(metric: &str, figures: Figures) -> Value {
    match metric {
        "docs" => json!({"count": figures.docs, "deleted": figures.deleted}),
        "shard_stats" => json!({"total_count": figures.shards}),
        "store" => json!({
            "size_in_bytes": figures.bytes,
            "total_data_set_size_in_bytes": figures.bytes,
            "reserved_in_bytes": 0,
        }),
        "indexing" => json!({
            "index_total": figures.index_total,
            "index_time_in_millis": 0,
            "index_current": 0,
            "index_failed": 0,
            "delete_total": 0,
            "delete_time_in_millis": 0,
            "delete_current": 0,
            "noop_update_total": 0,
            "is_throttled": false,
            "throttle_time_in_millis": 0,
            "write_load": 0.0,
        }),
        "get" => json!({
            "total": 0, "time_in_millis": 0, "exists_total": 0, "exists_time_in_millis": 0,
            "missing_total": 0, "missing_time_in_millis": 0, "current": 0,
        }),
        "search" => json!({
            "open_contexts": 0,
            "query_total": figures.query_total,
            "query_time_in_millis": 0,
            "query_current": 0,
            "fetch_total": figures.query_total,
            "fetch_time_in_millis": 0,
            "fetch_current": 0,
            "scroll_total": 0,
            "scroll_time_in_millis": 0,
            "scroll_current": 0,
            "suggest_total": 0,
            "suggest_time_in_millis": 0,
            "suggest_current": 0,
        }),
        "merge" => json!({
            "current": 0, "current_docs": 0, "current_size_in_bytes": 0, "total": 0,
            "total_time_in_millis": 0, "total_docs": 0, "total_size_in_bytes": 0,
            "total_stopped_time_in_millis": 0, "total_throttled_time_in_millis": 0,
            "total_auto_throttle_in_bytes": 0,
        }),
        "refresh" => json!({
            "total": 0, "total_time_in_millis": 0, "external_total": 0,
            "external_total_time_in_millis": 0, "listeners": 0,
        }),
        "flush" => json!({"total": 0, "periodic": 0, "total_time_in_millis": 0}),
        "warmer" => json!({"current": 0, "total": 0, "total_time_in_millis": 0}),
        "query_cache" => json!({
            "memory_size_in_bytes": 0, "total_count": 0, "hit_count": 0, "miss_count": 0,
            "cache_size": 0, "cache_count": 0, "evictions": 0,
        }),
        "fielddata" => json!({"memory_size_in_bytes": 0, "evictions": 0}),
        "completion" => json!({"size_in_bytes": 0}),
        "segments" => json!({
            "count": 0, "memory_in_bytes": 0, "terms_memory_in_bytes": 0,
            "stored_fields_memory_in_bytes": 0, "term_vectors_memory_in_bytes": 0,
            "norms_memory_in_bytes": 0, "points_memory_in_bytes": 0,
            "doc_values_memory_in_bytes": 0, "index_writer_memory_in_bytes": 0,
            "version_map_memory_in_bytes": 0, "fixed_bit_set_memory_in_bytes": 0,
            "max_unsafe_auto_id_timestamp": -1, "file_sizes": {},
        }),
        "translog" => json!({
            "operations": 0, "size_in_bytes": 0, "uncommitted_operations": 0,
            "uncommitted_size_in_bytes": 0, "earliest_last_modified_age": 0,
        }),
        "request_cache" => json!({
            "memory_size_in_bytes": 0, "evictions": 0, "hit_count": 0, "miss_count": 0,
        }),
        "recovery" => json!({
            "current_as_source": 0, "current_as_target": 0, "throttle_time_in_millis": 0,
        }),
        "bulk" => json!({
            "total_operations": 0, "total_time_in_millis": 0, "total_size_in_bytes": 0,
            "avg_time_in_millis": 0, "avg_size_in_bytes": 0,
        }),
        _ => json!({"value_count": 0}),
    }
}

/// The sections `metrics` ask for, under their response names.
fn sections(metrics: &[&str], figures: Figures) -> Value {
    let mut object = Map::new();
    for metric in metrics {
        let name = if *metric == "merge" { "merges" } else { metric };
        object.insert(name.to_owned(), section(metric, figures));
    }
    Value::Object(object)
}

/// `GET /_stats`.
pub async fn stats_all(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    index_stats(state, "_all", None, params)
}

/// `GET /_stats/{metric}`.
pub async fn stats_all_metric(
    state: State<AppState>,
    Path(metric): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    index_stats(state, "_all", Some(&metric), params)
}

/// `GET /{index}/_stats`.
pub async fn stats_index(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    index_stats(state, &index, None, params)
}

/// `GET /{index}/_stats/{metric}`.
pub async fn stats_index_metric(
    state: State<AppState>,
    Path((index, metric)): Path<(String, String)>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    index_stats(state, &index, Some(&metric), params)
}

fn index_stats(
    State(state): State<AppState>,
    index: &str,
    metric: Option<&str>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let prefix = if index == "_all" {
        String::new()
    } else {
        format!("/{index}")
    };
    let path = match metric {
        Some(metric) => format!("{prefix}/_stats/{metric}"),
        None => format!("{prefix}/_stats"),
    };
    params::check(&params, &path, STATS_PARAMETERS)?;
    let metrics = chosen_metrics(metric, INDEX_METRICS, &path)?;
    let level = params.get("level").map_or("indices", String::as_str);
    if !matches!(level, "cluster" | "indices" | "shards") {
        return Err(ApiError::illegal_argument(format!(
            "level parameter must be one of [cluster] or [indices] or [shards] but was [{level}]"
        )));
    }
    let ignore_unavailable = params::flag(&params, "ignore_unavailable")?;
    let mut concrete: Vec<String> = Vec::new();
    for target in state.store.resolve_targets(index, ignore_unavailable)? {
        if target.indices.is_empty() {
            concrete.push(target.name);
        } else {
            concrete.extend(target.indices);
        }
    }
    let rows: Vec<IndexStats> = state
        .store
        .index_stats()
        .into_iter()
        .filter(|row| concrete.contains(&row.index))
        .collect();
    let all = Figures::of(&rows);
    let mut body = json!({
        "_shards": {"total": all.shards, "successful": all.shards, "failed": 0},
        "_all": {"primaries": sections(&metrics, all), "total": sections(&metrics, all)},
    });
    if level != "cluster" {
        let mut indices = Map::new();
        for row in &rows {
            let figures = Figures::of([row]);
            let mut entry = json!({
                "uuid": row.uuid,
                "health": "green",
                "status": "open",
                "primaries": sections(&metrics, figures),
                "total": sections(&metrics, figures),
            });
            if level == "shards" {
                let mut shard = sections(&metrics, figures);
                shard["routing"] = json!({
                    "state": "STARTED",
                    "primary": true,
                    "node": node_id(&state.config),
                    "relocating_node": null,
                });
                entry["shards"] = json!({"0": [shard]});
            }
            indices.insert(row.index.clone(), entry);
        }
        body["indices"] = Value::Object(indices);
    }
    Ok(ok(&body))
}

/// The sections of `_nodes/stats/{metric}`.
const NODE_METRICS: &[&str] = &[
    "indices",
    "os",
    "process",
    "jvm",
    "thread_pool",
    "fs",
    "transport",
    "http",
    "breaker",
    "script",
    "discovery",
    "ingest",
    "adaptive_selection",
    "script_cache",
    "indexing_pressure",
    "repositories",
    "allocations",
];

/// What `/proc` says of this process and machine (Linux; zeros elsewhere).
#[derive(Debug, Default)]
pub(crate) struct ProcessFigures {
    pub(crate) cpu_millis: u64,
    pub(crate) resident_bytes: u64,
    pub(crate) virtual_bytes: u64,
    pub(crate) open_files: u64,
    pub(crate) max_files: u64,
    pub(crate) memory_total: u64,
    pub(crate) memory_free: u64,
    pub(crate) memory_available: u64,
    pub(crate) load: [f64; 3],
    pub(crate) cpus: u64,
}

pub(crate) fn process_figures() -> ProcessFigures {
    let mut figures = ProcessFigures {
        cpus: std::thread::available_parallelism().map_or(1, |count| count.get() as u64),
        ..ProcessFigures::default()
    };
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
        && let Some((_, after)) = stat.rsplit_once(") ")
    {
        let fields: Vec<&str> = after.split(' ').collect();
        // utime and stime are fields 14 and 15 of the line, in clock ticks (100 a second).
        let ticks = |index: usize| {
            fields
                .get(index)
                .and_then(|field| field.parse::<u64>().ok())
        };
        figures.cpu_millis = (ticks(11).unwrap_or(0) + ticks(12).unwrap_or(0)) * 10;
    }
    let kilobytes = |text: &str, key: &str| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map_or(0, |kilobytes| kilobytes * 1024)
    };
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        figures.resident_bytes = kilobytes(&status, "VmRSS:");
        figures.virtual_bytes = kilobytes(&status, "VmSize:");
    }
    if let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") {
        figures.memory_total = kilobytes(&meminfo, "MemTotal:");
        figures.memory_free = kilobytes(&meminfo, "MemFree:");
        figures.memory_available = kilobytes(&meminfo, "MemAvailable:");
    }
    figures.open_files =
        std::fs::read_dir("/proc/self/fd").map_or(0, |entries| entries.count() as u64);
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
        figures.max_files = limits
            .lines()
            .find(|line| line.starts_with("Max open files"))
            .and_then(|line| line.split_whitespace().nth(3))
            .and_then(|soft| soft.parse().ok())
            .unwrap_or(0);
    }
    if let Ok(loadavg) = std::fs::read_to_string("/proc/loadavg") {
        for (slot, value) in figures.load.iter_mut().zip(loadavg.split_whitespace()) {
            *slot = value.parse().unwrap_or(0.0);
        }
    }
    figures
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

fn thread_pool(threads: u64) -> Value {
    json!({
        "threads": threads, "queue": 0, "active": 0, "rejected": 0, "largest": threads,
        "completed": 0,
    })
}

/// One node-stats section.
fn node_section(
    state: &AppState,
    metric: &str,
    process: &ProcessFigures,
    rows: &[IndexStats],
) -> Value {
    match metric {
        "indices" => sections(INDEX_METRICS, Figures::of(rows)),
        "os" => json!({
            "timestamp": now_millis(),
            "cpu": {
                "percent": 0,
                "load_average": {"1m": process.load[0], "5m": process.load[1], "15m": process.load[2]},
            },
            "mem": {
                "total_in_bytes": process.memory_total,
                "adjusted_total_in_bytes": process.memory_total,
                "free_in_bytes": process.memory_available,
                "used_in_bytes": process.memory_total.saturating_sub(process.memory_available),
                "free_percent": percent(process.memory_available, process.memory_total),
                "used_percent": percent(process.memory_total.saturating_sub(process.memory_available), process.memory_total),
            },
            "swap": {"total_in_bytes": 0, "free_in_bytes": 0, "used_in_bytes": 0},
            "cgroup": {},
        }),
        "process" => json!({
            "timestamp": now_millis(),
            "open_file_descriptors": process.open_files,
            "max_file_descriptors": process.max_files,
            "cpu": {"percent": 0, "total_in_millis": process.cpu_millis},
            "mem": {"total_virtual_in_bytes": process.virtual_bytes},
        }),
        // No JVM: a heap of what the process holds, no collections.
        "jvm" => json!({
            "timestamp": now_millis(),
            "uptime_in_millis": 0,
            "mem": {
                "heap_used_in_bytes": process.resident_bytes,
                "heap_used_percent": 0,
                "heap_committed_in_bytes": process.resident_bytes,
                "heap_max_in_bytes": process.memory_total,
                "non_heap_used_in_bytes": 0,
                "non_heap_committed_in_bytes": 0,
                "pools": {},
            },
            "threads": {"count": process.cpus, "peak_count": process.cpus},
            "gc": {"collectors": {}},
            "buffer_pools": {},
            "classes": {"current_loaded_count": 0, "total_loaded_count": 0, "total_unloaded_count": 0},
        }),
        "thread_pool" => {
            let mut pools = Map::new();
            for name in [
                "search",
                "write",
                "get",
                "management",
                "generic",
                "refresh",
                "flush",
                "force_merge",
                "snapshot",
            ] {
                pools.insert(name.to_owned(), thread_pool(process.cpus));
            }
            Value::Object(pools)
        }
        "fs" => {
            let data_dir = &state.store.config().data_dir;
            let space = DiskSpace::of(data_dir).unwrap_or(DiskSpace {
                total_bytes: 0,
                available_bytes: 0,
            });
            let entry = json!({
                "path": display_path(data_dir),
                "mount": "",
                "type": "",
                "total_in_bytes": space.total_bytes,
                "free_in_bytes": space.available_bytes,
                "available_in_bytes": space.available_bytes,
            });
            json!({
                "timestamp": now_millis(),
                "total": {
                    "total_in_bytes": space.total_bytes,
                    "free_in_bytes": space.available_bytes,
                    "available_in_bytes": space.available_bytes,
                },
                "data": [entry],
                "io_stats": {},
            })
        }
        "transport" => json!({
            "server_open": 0, "total_outbound_connections": 0, "rx_count": 0,
            "rx_size_in_bytes": 0, "tx_count": 0, "tx_size_in_bytes": 0,
        }),
        "http" => json!({"current_open": 0, "total_opened": 0, "clients": []}),
        "breaker" => {
            let breaker = |limit: u64| {
                json!({
                    "limit_size_in_bytes": limit, "limit_size": limit.to_string(),
                    "estimated_size_in_bytes": 0, "estimated_size": "0b", "overhead": 1.0,
                    "tripped": 0,
                })
            };
            json!({
                "request": breaker(process.memory_total / 10 * 6),
                "fielddata": breaker(process.memory_total / 10 * 4),
                "in_flight_requests": breaker(process.memory_total),
                "parent": breaker(process.memory_total / 20 * 19),
            })
        }
        "script" => {
            json!({"compilations": 0, "cache_evictions": 0, "compilation_limit_triggered": 0})
        }
        "discovery" => json!({
            "cluster_state_queue": {"total": 0, "pending": 0, "committed": 0},
            "published_cluster_states": {"full_states": 0, "incompatible_diffs": 0, "compatible_diffs": 0},
        }),
        "ingest" => ingest_section(state),
        "adaptive_selection" | "repositories" | "allocations" => json!({}),
        "script_cache" => {
            json!({"sum": {"compilations": 0, "cache_evictions": 0, "compilation_limit_triggered": 0}})
        }
        _ => json!({"memory": {"current": {}, "total": {}, "limit_in_bytes": 0}}),
    }
}

fn percent(part: u64, whole: u64) -> u64 {
    (part * 100).checked_div(whole).unwrap_or(0)
}

fn display_path(path: &FsPath) -> String {
    path.display().to_string()
}

/// The ingest section: the pipelines known, with no per-pipeline counters kept.
fn ingest_section(state: &AppState) -> Value {
    let totals = json!({"count": 0, "time_in_millis": 0, "current": 0, "failed": 0});
    let pipelines: Map<String, Value> = state
        .pipelines
        .all()
        .into_iter()
        .map(|pipeline| (pipeline.id().to_owned(), json!({"count": 0, "time_in_millis": 0, "current": 0, "failed": 0, "processors": []})))
        .collect();
    json!({"total": totals, "pipelines": pipelines})
}

/// `GET /_nodes/stats`.
pub async fn nodes_stats(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    node_stats(state, None, None, params)
}

/// `GET /_nodes/stats/{metric}`.
pub async fn nodes_stats_metric(
    state: State<AppState>,
    Path(metric): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    node_stats(state, None, Some(&metric), params)
}

/// `GET /_nodes/{node_id}/stats`.
pub async fn node_stats_by_id(
    state: State<AppState>,
    Path(node): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    node_stats(state, Some(&node), None, params)
}

/// `GET /_nodes/{node_id}/stats/{metric}`.
pub async fn node_stats_by_id_metric(
    state: State<AppState>,
    Path((node, metric)): Path<(String, String)>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    node_stats(state, Some(&node), Some(&metric), params)
}

fn node_stats(
    State(state): State<AppState>,
    node: Option<&str>,
    metric: Option<&str>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let path = format!(
        "/_nodes/{}stats{}",
        node.map(|node| format!("{node}/")).unwrap_or_default(),
        metric
            .map(|metric| format!("/{metric}"))
            .unwrap_or_default(),
    );
    params::check(
        &params,
        &path,
        &[STATS_PARAMETERS, &["types", "include_segment_file_sizes"]].concat(),
    )?;
    let metrics = chosen_metrics(metric, NODE_METRICS, &path)?;
    let id = node_id(&state.config);
    let selected = node.is_none_or(|filter| selects_this_node(&state, filter));
    let rows = state.store.index_stats();
    let process = process_figures();
    let mut nodes = Map::new();
    if selected {
        let host = state.config.publish_address.map_or_else(
            || "127.0.0.1".to_owned(),
            |address| address.ip().to_string(),
        );
        let mut entry = json!({
            "timestamp": now_millis(),
            "name": state.config.node_name,
            "transport_address": host.clone(),
            "host": host.clone(),
            "ip": host,
            "roles": ["data", "ingest", "master"],
            "attributes": {},
        });
        for metric in &metrics {
            let name = if *metric == "breaker" {
                "breakers"
            } else {
                metric
            };
            entry[name] = node_section(&state, metric, &process, &rows);
        }
        nodes.insert(id, entry);
    }
    let count = nodes.len();
    Ok(ok(&json!({
        "_nodes": {"total": count, "successful": count, "failed": 0},
        "cluster_name": state.config.cluster_name,
        "nodes": nodes,
    })))
}

/// `GET /_cluster/stats`.
pub async fn cluster_stats(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cluster/stats", &["include_remotes"])?;
    let rows = state.store.index_stats();
    let all = Figures::of(&rows);
    let process = process_figures();
    let space = DiskSpace::of(&state.store.config().data_dir).unwrap_or(DiskSpace {
        total_bytes: 0,
        available_bytes: 0,
    });
    let mut indices = sections(
        &[
            "docs",
            "store",
            "fielddata",
            "query_cache",
            "completion",
            "segments",
        ],
        all,
    );
    indices["count"] = json!(rows.len());
    indices["shards"] = json!({
        "total": all.shards, "primaries": all.shards, "replication": 0.0,
        "index": {
            "shards": {"min": 1, "max": 1, "avg": 1.0},
            "primaries": {"min": 1, "max": 1, "avg": 1.0},
            "replication": {"min": 0.0, "max": 0.0, "avg": 0.0},
        },
    });
    indices["mappings"] = json!({"field_types": [], "runtime_field_types": []});
    indices["analysis"] = json!({
        "char_filter_types": [], "tokenizer_types": [], "filter_types": [], "analyzer_types": [],
        "built_in_char_filters": [], "built_in_tokenizers": [], "built_in_filters": [], "built_in_analyzers": [],
    });
    indices["versions"] = json!([]);
    Ok(ok(&json!({
        "_nodes": {"total": 1, "successful": 1, "failed": 0},
        "cluster_name": state.config.cluster_name,
        "cluster_uuid": state.config.cluster_uuid,
        "timestamp": now_millis(),
        "status": "green",
        "indices": indices,
        "nodes": {
            "count": {
                "total": 1, "coordinating_only": 0, "data": 1, "ingest": 1, "master": 1,
                "ml": 0, "remote_cluster_client": 0, "transform": 0, "voting_only": 0,
            },
            "versions": [crate::ELASTICSEARCH_VERSION],
            "os": {
                "available_processors": process.cpus,
                "allocated_processors": process.cpus,
                "names": [{"name": std::env::consts::OS, "count": 1}],
                "pretty_names": [],
                "architectures": [{"arch": std::env::consts::ARCH, "count": 1}],
                "mem": {
                    "total_in_bytes": process.memory_total,
                    "adjusted_total_in_bytes": process.memory_total,
                    "free_in_bytes": process.memory_available,
                    "used_in_bytes": process.memory_total.saturating_sub(process.memory_available),
                    "free_percent": percent(process.memory_available, process.memory_total),
                    "used_percent": percent(process.memory_total.saturating_sub(process.memory_available), process.memory_total),
                },
            },
            "process": {
                "cpu": {"percent": 0},
                "open_file_descriptors": {"min": process.open_files, "max": process.open_files, "avg": process.open_files},
            },
            "jvm": {
                "max_uptime_in_millis": 0,
                "versions": [],
                "mem": {"heap_used_in_bytes": process.resident_bytes, "heap_max_in_bytes": process.memory_total},
                "threads": process.cpus,
            },
            "fs": {
                "total_in_bytes": space.total_bytes,
                "free_in_bytes": space.available_bytes,
                "available_in_bytes": space.available_bytes,
            },
            "plugins": [],
            "network_types": {"transport_types": {}, "http_types": {"logfleet": 1}},
            "discovery_types": {"single-node": 1},
            "packaging_types": [{"flavor": "default", "type": "logfleet", "count": 1}],
            "ingest": {"number_of_pipelines": state.pipelines.all().len(), "processor_stats": {}},
            "indexing_pressure": {"memory": {"current": {}, "total": {}, "limit_in_bytes": 0}},
        },
    })))
}
