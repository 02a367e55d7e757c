//! `_cluster/health`, `_cluster/settings` and `_nodes`: one node, green while it stores
//! what it is sent.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;
use crate::{AppState, ELASTICSEARCH_VERSION};

/// The health of a single node whose indexes have no replicas: green while it runs and
/// accepts writes; red while it refuses them (the disk passed the flood stage, or the
/// write-ahead log failed); yellow while a partition whose writer failed waits to recover
/// from the log. When it is not green, `logfleet_storage` says why (Elasticsearch has no
/// field for that; clients ignore fields they do not know).
pub fn health_body(state: &AppState, shards: usize) -> Value {
    let write_block = state.store.write_block();
    let broken = state.store.broken_partitions();
    let status = status_of(write_block.is_some(), broken.is_empty());
    let mut body = json!({
        "cluster_name": state.config.cluster_name,
        "status": status,
        "timed_out": false,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": shards,
        "active_shards": shards,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0,
    });
    if status != "green" {
        let mut storage = json!({
            "writes": if write_block.is_some() { "refused" } else { "accepted" },
            "recovering_indices": broken.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        if let Some(block) = write_block {
            storage["reason"] = json!(block.reason);
        }
        if let Ok(space) = state.store.disk_space() {
            storage["disk"] = json!({
                "total_in_bytes": space.total_bytes,
                "available_in_bytes": space.available_bytes,
                "used_percent": (space.used_percent() * 10.0).round() / 10.0,
            });
        }
        body["logfleet_storage"] = storage;
    }
    body
}

fn status_of(writes_refused: bool, none_recovering: bool) -> &'static str {
    match (writes_refused, none_recovering) {
        (true, _) => "red",
        (false, false) => "yellow",
        (false, true) => "green",
    }
}

/// The cluster's status alone (for `_cat/health`).
pub fn health_status(state: &AppState) -> &'static str {
    let writes_refused = state.store.write_block().is_some();
    status_of(writes_refused, state.store.broken_partitions().is_empty())
}

const HEALTH_PARAMETERS: &[&str] = &[
    "wait_for_status",
    "timeout",
    "master_timeout",
    "level",
    "local",
    "wait_for_active_shards",
    "wait_for_nodes",
    "wait_for_events",
    "wait_for_no_relocating_shards",
    "wait_for_no_initializing_shards",
    "expand_wildcards",
];

/// `GET /_cluster/health`.
pub async fn health(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cluster/health", HEALTH_PARAMETERS)?;
    wait_for_health(&state, &params, || state.store.index_stats().len()).await
}

/// `GET /_cluster/health/{index}`.
pub async fn health_index(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cluster/health/{index}", HEALTH_PARAMETERS)?;
    let shards = state.store.resolve(&index, false)?.len();
    wait_for_health(&state, &params, || shards).await
}

/// Answers the health, after waiting (up to `timeout`, 30 s by default) for
/// `wait_for_status` when one is asked for: as in Elasticsearch, a wait that runs out answers
/// `408` with `timed_out: true`.
async fn wait_for_health(
    state: &AppState,
    params: &Params,
    shards: impl Fn() -> usize,
) -> Result<Response, ApiError> {
    let rank = |status: &str| match status {
        "green" => Some(0),
        "yellow" => Some(1),
        "red" => Some(2),
        _ => None,
    };
    let wanted = match params.get("wait_for_status") {
        None => None,
        Some(status) => Some(rank(&status.to_ascii_lowercase()).ok_or_else(|| {
            ApiError::illegal_argument(format!(
                "unknown cluster health status [{status}]: use green, yellow or red"
            ))
        })?),
    };
    let timeout = match params.get("timeout") {
        Some(timeout) => {
            logfleet_store::parse_time_value(timeout).map_err(ApiError::illegal_argument)?
        }
        None => std::time::Duration::from_secs(30),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut body = health_body(state, shards());
        let status = body["status"].as_str().and_then(rank).unwrap_or(2);
        let satisfied = wanted.is_none_or(|wanted| status <= wanted);
        if satisfied {
            return Ok(ok(&body));
        }
        if tokio::time::Instant::now() >= deadline {
            body["timed_out"] = json!(true);
            return Ok(crate::response::json_response(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                &body,
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Flat settings (`action.auto_create_index`) as `flat_settings` asks: flat, or nested.
fn shown_settings(settings: &Map<String, Value>, flat: bool) -> Value {
    if flat {
        return Value::Object(settings.clone());
    }
    super::indices::nest_settings(
        settings
            .iter()
            .map(|(key, value)| (key.clone(), value.clone())),
    )
}

/// `GET /_cluster/settings`: what `PUT` set, and with `include_defaults` the defaults of the
/// settings left alone.
pub async fn get_settings(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        "/_cluster/settings",
        &[
            "flat_settings",
            "include_defaults",
            "master_timeout",
            "timeout",
            "local",
        ],
    )?;
    let flat = params::flag(&params, "flat_settings")?;
    let settings = state.store.cluster_settings();
    let mut body = json!({
        "persistent": shown_settings(&settings.persistent, flat),
        "transient": shown_settings(&settings.transient, flat),
    });
    if params::flag(&params, "include_defaults")? {
        let mut defaults = Map::new();
        for (key, value) in [
            ("action.auto_create_index", "true"),
            ("action.destructive_requires_name", "true"),
            ("http.max_content_length", "100mb"),
            ("search.max_buckets", "65536"),
            ("cluster.max_shards_per_node", "1000"),
        ] {
            if settings.get(key).is_none() {
                defaults.insert(key.to_owned(), json!(value));
            }
        }
        body["defaults"] = shown_settings(&defaults, flat);
    }
    Ok(ok(&body))
}

/// `PUT /_cluster/settings`: `action.auto_create_index` decides which missing indexes a
/// write may create; the other settings Elasticsearch's shippers set are kept and shown,
/// with the effect they can have on one node; unknown ones are refused. Persistent settings
/// survive a restart.
pub async fn put_settings(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        "/_cluster/settings",
        &["flat_settings", "master_timeout", "timeout"],
    )?;
    let flat = params::flag(&params, "flat_settings")?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.unwrap_or_else(|| json!({}));
    let Value::Object(object) = &body else {
        return Err(ApiError::parsing("request body must be an object"));
    };
    if let Some(key) = object
        .keys()
        .find(|key| !matches!(key.as_str(), "persistent" | "transient"))
    {
        return Err(ApiError::parsing(format!(
            "request body contains unknown field [{key}]"
        )));
    }
    let (persistent, transient) = state
        .store
        .update_cluster_settings(object.get("persistent"), object.get("transient"))?;
    Ok(ok(&json!({
        "acknowledged": true,
        "persistent": shown_settings(&persistent, flat),
        "transient": shown_settings(&transient, flat),
    })))
}

/// The sections of `GET /_nodes`.
const NODE_INFO_METRICS: &[&str] = &[
    "settings",
    "os",
    "process",
    "jvm",
    "thread_pool",
    "transport",
    "http",
    "plugins",
    "modules",
    "ingest",
    "aggregations",
    "indices",
];

/// `GET /_nodes`.
pub async fn nodes(State(state): State<AppState>) -> Response {
    ok(&nodes_body(&state, true, NODE_INFO_METRICS))
}

/// `GET /_nodes/{node_id or metrics}` (`_local`, `http`, `os,jvm`…): metric names choose
/// sections; anything else selects nodes, and this one answers to its id, its name, `_all`,
/// `_local`, `_master` and `*`.
pub async fn nodes_filtered(State(state): State<AppState>, Path(filter): Path<String>) -> Response {
    let parts: Vec<&str> = filter.split(',').map(str::trim).collect();
    if parts
        .iter()
        .all(|part| NODE_INFO_METRICS.contains(part) || *part == "_all")
    {
        let metrics = chosen(&parts);
        return ok(&nodes_body(&state, true, &metrics));
    }
    ok(&nodes_body(
        &state,
        selects_this_node(&state, &filter),
        NODE_INFO_METRICS,
    ))
}

/// `GET /_nodes/{node_id}/{metrics}`.
pub async fn nodes_filtered_twice(
    State(state): State<AppState>,
    Path((node, metrics)): Path<(String, String)>,
) -> Response {
    let parts: Vec<&str> = metrics.split(',').map(str::trim).collect();
    ok(&nodes_body(
        &state,
        selects_this_node(&state, &node),
        &chosen(&parts),
    ))
}

fn chosen<'a>(parts: &[&'a str]) -> Vec<&'a str> {
    if parts.contains(&"_all") {
        return NODE_INFO_METRICS.to_vec();
    }
    NODE_INFO_METRICS
        .iter()
        .copied()
        .filter(|metric| parts.contains(metric))
        .collect()
}

/// Whether the node selector `filter` (a comma list) includes this node.
pub(crate) fn selects_this_node(state: &AppState, filter: &str) -> bool {
    let id = node_id(&state.config);
    filter.split(',').map(str::trim).any(|part| {
        matches!(part, "_all" | "_local" | "_master" | "*")
            || part == id
            || part == state.config.node_name
            || (part.contains('*') && logfleet_store::wildcard_match(part, &state.config.node_name))
    })
}

fn nodes_body(state: &AppState, selected: bool, metrics: &[&str]) -> Value {
    let config = &state.config;
    let address = config.publish_address.map_or_else(
        || "127.0.0.1:9200".to_owned(),
        |address| address.to_string(),
    );
    let host = config.publish_address.map_or_else(
        || "127.0.0.1".to_owned(),
        |address| address.ip().to_string(),
    );
    let mut node = json!({
        "name": config.node_name,
        "transport_address": address,
        "host": host,
        "ip": host,
        "version": ELASTICSEARCH_VERSION,
        "build_flavor": "default",
        "build_type": "logfleet",
        "build_hash": env!("CARGO_PKG_VERSION"),
        "total_indexing_buffer": 0,
        "roles": ["data", "ingest", "master"],
        "attributes": {},
    });
    let process = super::stats::process_figures();
    let cpus = process.cpus;
    for metric in metrics {
        let section = match *metric {
            "settings" => json!({
                "cluster": {"name": config.cluster_name},
                "node": {"name": config.node_name, "roles": ["data", "ingest", "master"]},
                "http": {"port": address.rsplit(':').next().unwrap_or("9200")},
                "path": {"data": [state.store.config().data_dir.display().to_string()]},
            }),
            "os" => json!({
                "refresh_interval_in_millis": 1000,
                "name": std::env::consts::OS,
                "pretty_name": std::env::consts::OS,
                "arch": std::env::consts::ARCH,
                "version": "",
                "available_processors": cpus,
                "allocated_processors": cpus,
            }),
            "process" => json!({
                "refresh_interval_in_millis": 1000,
                "id": std::process::id(),
                "mlockall": false,
            }),
            // No JVM: the memory the machine has, no collectors or pools.
            "jvm" => json!({
                "pid": std::process::id(),
                "version": "",
                "vm_name": "",
                "vm_version": "",
                "vm_vendor": "",
                "using_bundled_jdk": null,
                "start_time_in_millis": 0,
                "mem": {
                    "heap_init_in_bytes": 0,
                    "heap_max_in_bytes": process.memory_total,
                    "non_heap_init_in_bytes": 0,
                    "non_heap_max_in_bytes": 0,
                    "direct_max_in_bytes": 0,
                },
                "gc_collectors": [],
                "memory_pools": [],
                "using_compressed_ordinary_object_pointers": "false",
                "input_arguments": [],
            }),
            "thread_pool" => {
                let pools: Map<String, Value> = ["search", "write", "get", "management", "generic"]
                    .into_iter()
                    .map(|name| {
                        (
                            name.to_owned(),
                            json!({"type": "fixed", "size": cpus, "queue_size": -1}),
                        )
                    })
                    .collect();
                Value::Object(pools)
            }
            "transport" => json!({
                "bound_address": [address],
                "publish_address": address,
                "profiles": {},
            }),
            "http" => json!({
                "bound_address": [address],
                "publish_address": address,
                "max_content_length_in_bytes": config.max_content_length,
            }),
            "plugins" | "modules" => json!([]),
            "ingest" => json!({
                "processors": logfleet_pipeline::processors::KINDS
                    .iter()
                    .map(|kind| json!({"type": kind}))
                    .collect::<Vec<_>>(),
            }),
            "aggregations" => json!({}),
            _ => json!({}),
        };
        node[*metric] = section;
    }
    let mut nodes = Map::new();
    if selected {
        nodes.insert(node_id(config), node);
    }
    let count = nodes.len();
    json!({
        "_nodes": {"total": count, "successful": count, "failed": 0},
        "cluster_name": config.cluster_name,
        "nodes": nodes,
    })
}

/// The node's id: stable for a data directory, derived from the cluster's uuid.
pub(crate) fn node_id(config: &crate::ApiConfig) -> String {
    config.cluster_uuid.chars().rev().collect()
}
