//! `_cat` APIs: aligned text for people (`?v` for headers), JSON for programs
//! (`?format=json`), `?h=` to choose columns, `?s=` to sort, `?bytes=` for size units.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use logfleet_store::{Expression, IndexStats, format_byte_size};
use logfleet_time::format_epoch_millis;
use serde_json::{Map, Value};

use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;

const PARAMETERS: &[&str] = &[
    "format",
    "v",
    "h",
    "s",
    "bytes",
    "help",
    "health",
    "pri",
    "expand_wildcards",
    "local",
    "time",
    "include_unloaded_segments",
];

const INDEX_COLUMNS: &[&str] = &[
    "health",
    "status",
    "index",
    "uuid",
    "pri",
    "rep",
    "docs.count",
    "docs.deleted",
    "store.size",
    "pri.store.size",
    "dataset.size",
];
const DEFAULT_INDEX_COLUMNS: usize = 10;
const HEALTH_COLUMNS: &[&str] = &[
    "epoch",
    "timestamp",
    "cluster",
    "status",
    "node.total",
    "node.data",
    "shards",
    "pri",
    "relo",
    "init",
    "unassign",
    "pending_tasks",
    "max_task_wait_time",
    "active_shards_percent",
];

/// `GET /_cat/indices`.
pub async fn indices_all(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_indices(state, None, params)
}

/// `GET /_cat/indices/{index}`.
pub async fn indices(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_indices(state, Some(index), params)
}

fn cat_indices(
    State(state): State<AppState>,
    index: Option<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cat/indices", PARAMETERS)?;
    let mut stats = state.store.index_stats();
    if let Some(expression) = &index {
        let shards = state.store.resolve(expression, false)?;
        stats.retain(|row| shards.iter().any(|shard| shard.index == row.index));
    }
    let bytes_unit = params.get("bytes").cloned();
    // `?health=`: every index of one node with no replicas is green.
    let health = match params.get("health").map(String::as_str) {
        None => None,
        Some(health @ ("green" | "yellow" | "red")) => Some(health),
        Some(other) => {
            return Err(ApiError::illegal_argument(format!(
                "unknown cluster health status [{other}]"
            )));
        }
    };
    let rows: Vec<Vec<(String, String)>> = stats
        .iter()
        .filter(|_| health.is_none_or(|health| health == "green"))
        .map(|row| index_row(row, bytes_unit.as_deref()))
        .collect();
    render(rows, INDEX_COLUMNS, DEFAULT_INDEX_COLUMNS, &params)
}

fn index_row(row: &IndexStats, bytes_unit: Option<&str>) -> Vec<(String, String)> {
    let size = format_bytes(row.store_bytes, bytes_unit);
    vec![
        ("health".into(), "green".into()),
        ("status".into(), "open".into()),
        ("index".into(), row.index.clone()),
        ("uuid".into(), row.uuid.clone()),
        ("pri".into(), "1".into()),
        ("rep".into(), "0".into()),
        ("docs.count".into(), row.docs_count.to_string()),
        ("docs.deleted".into(), row.docs_deleted.to_string()),
        ("store.size".into(), size.clone()),
        ("pri.store.size".into(), size.clone()),
        ("dataset.size".into(), size),
        ("creation.date".into(), row.creation_date_ms.to_string()),
        (
            "creation.date.string".into(),
            format_epoch_millis(row.creation_date_ms),
        ),
    ]
}

/// `GET /_cat/health`.
pub async fn health(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cat/health", PARAMETERS)?;
    let shards = state.store.index_stats().len().to_string();
    let now = logfleet_store::now_millis();
    let row = vec![
        ("epoch".into(), (now / 1000).to_string()),
        (
            "timestamp".into(),
            format_epoch_millis(now)[11..19].to_owned(),
        ),
        ("cluster".into(), state.config.cluster_name.clone()),
        (
            "status".into(),
            super::cluster::health_status(&state).into(),
        ),
        ("node.total".into(), "1".into()),
        ("node.data".into(), "1".into()),
        ("shards".into(), shards.clone()),
        ("pri".into(), shards),
        ("relo".into(), "0".into()),
        ("init".into(), "0".into()),
        ("unassign".into(), "0".into()),
        ("pending_tasks".into(), "0".into()),
        ("max_task_wait_time".into(), "-".into()),
        ("active_shards_percent".into(), "100.0%".into()),
    ];
    render(vec![row], HEALTH_COLUMNS, HEALTH_COLUMNS.len(), &params)
}

const ALIAS_COLUMNS: &[&str] = &[
    "alias",
    "index",
    "filter",
    "routing.index",
    "routing.search",
    "is_write_index",
];

/// `GET /_cat/aliases`.
pub async fn aliases_all(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_aliases(state, None, params)
}

/// `GET /_cat/aliases/{name}`: names and `*` patterns, comma-separated.
pub async fn aliases(
    state: State<AppState>,
    Path(name): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_aliases(state, Some(name), params)
}

fn cat_aliases(
    State(state): State<AppState>,
    names: Option<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cat/aliases", PARAMETERS)?;
    let dash = |value: Option<&String>| value.cloned().unwrap_or_else(|| "-".to_owned());
    let names = names.as_deref().map(Expression::parse);
    let mut rows = Vec::new();
    for (alias, members) in state.store.aliases().iter() {
        let wanted = names.as_ref().is_none_or(|names| names.matches(alias));
        if !wanted {
            continue;
        }
        for (index, properties) in members {
            rows.push(vec![
                ("alias".into(), alias.clone()),
                ("index".into(), index.clone()),
                (
                    "filter".into(),
                    if properties.filter.is_some() {
                        "*"
                    } else {
                        "-"
                    }
                    .into(),
                ),
                (
                    "routing.index".into(),
                    dash(properties.index_routing.as_ref()),
                ),
                (
                    "routing.search".into(),
                    dash(properties.search_routing.as_ref()),
                ),
                (
                    "is_write_index".into(),
                    properties
                        .is_write_index
                        .map_or_else(|| "-".to_owned(), |write| write.to_string()),
                ),
            ]);
        }
    }
    render(rows, ALIAS_COLUMNS, ALIAS_COLUMNS.len(), &params)
}

const COUNT_COLUMNS: &[&str] = &["epoch", "timestamp", "count"];

/// `GET /_cat/count`.
pub async fn count_all(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_count(state, "_all".to_owned(), params).await
}

/// `GET /_cat/count/{index}`.
pub async fn count(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_count(state, index, params).await
}

async fn cat_count(
    State(state): State<AppState>,
    index: String,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cat/count", PARAMETERS)?;
    let shards = state.store.search_shards(&index, false).await?;
    let store = state.store.clone();
    let now = logfleet_store::now_millis();
    // Through the query engine, so that alias filters count as they do in `_count`.
    let counted = super::run_blocking("count", move || {
        let context = logfleet_query::SearchContext {
            fields: store.fields(),
            now_millis: now,
            request_cache: None,
        };
        logfleet_query::count(&shards, &logfleet_query::QueryAst::MatchAll, &context)
    })
    .await??;
    let row = vec![
        ("epoch".into(), (now / 1000).to_string()),
        (
            "timestamp".into(),
            format_epoch_millis(now)[11..19].to_owned(),
        ),
        ("count".into(), counted["count"].to_string()),
    ];
    render(vec![row], COUNT_COLUMNS, COUNT_COLUMNS.len(), &params)
}

const TEMPLATE_COLUMNS: &[&str] = &["name", "index_patterns", "order", "version", "composed_of"];

/// `GET /_cat/templates`.
pub async fn templates_all(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_templates(state, "*".to_owned(), params)
}

/// `GET /_cat/templates/{name}`.
pub async fn templates(
    state: State<AppState>,
    Path(name): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    cat_templates(state, name, params)
}

fn cat_templates(
    State(state): State<AppState>,
    pattern: String,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_cat/templates", PARAMETERS)?;
    let list = |values: Option<&Value>| {
        let names: Vec<String> = values
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect();
        format!("[{}]", names.join(", "))
    };
    let legacy = state
        .store
        .legacy_templates(&pattern)
        .into_iter()
        .map(|template| {
            vec![
                ("name".into(), template.name.clone()),
                (
                    "index_patterns".into(),
                    format!("[{}]", template.index_patterns.join(", ")),
                ),
                ("order".into(), template.order.to_string()),
                (
                    "version".into(),
                    template
                        .version
                        .map(|version| version.to_string())
                        .unwrap_or_default(),
                ),
                ("composed_of".into(), String::new()),
            ]
        });
    let rows = state
        .store
        .templates(&pattern)
        .into_iter()
        .map(|template| {
            let version = template
                .body
                .get("version")
                .map_or_else(String::new, Value::to_string);
            vec![
                ("name".into(), template.name.clone()),
                (
                    "index_patterns".into(),
                    format!("[{}]", template.index_patterns.join(", ")),
                ),
                ("order".into(), template.priority.to_string()),
                ("version".into(), version),
                ("composed_of".into(), list(template.body.get("composed_of"))),
            ]
        })
        .chain(legacy)
        .collect();
    render(rows, TEMPLATE_COLUMNS, TEMPLATE_COLUMNS.len(), &params)
}

/// Elasticsearch's human-readable sizes (`5.2kb`), or a fixed unit from `?bytes=`.
fn format_bytes(bytes: u64, unit: Option<&str>) -> String {
    let divisor = match unit {
        Some("b") => return bytes.to_string(),
        Some("kb") => 1u64 << 10,
        Some("mb") => 1 << 20,
        Some("gb") => 1 << 30,
        Some("tb") => 1 << 40,
        _ => return format_byte_size(bytes),
    };
    (bytes / divisor).to_string()
}

fn render(
    mut rows: Vec<Vec<(String, String)>>,
    known_columns: &[&str],
    default_count: usize,
    params: &Params,
) -> Result<Response, ApiError> {
    let columns: Vec<String> = match params.get("h") {
        Some(selection) => selection
            .split(',')
            .map(|column| column.trim().to_owned())
            .collect(),
        None => known_columns[..default_count.min(known_columns.len())]
            .iter()
            .map(|column| (*column).to_owned())
            .collect(),
    };
    let value_of = |row: &Vec<(String, String)>, column: &str| {
        row.iter()
            .find(|(name, _)| name == column)
            .map(|(_, value)| value.clone())
    };
    for column in &columns {
        if rows
            .first()
            .is_some_and(|row| value_of(row, column).is_none())
        {
            return Err(ApiError::illegal_argument(format!(
                "header [{column}] is not supported"
            )));
        }
    }
    if let Some(sort) = params.get("s") {
        let keys: Vec<(String, bool)> = sort
            .split(',')
            .map(|key| match key.split_once(':') {
                Some((name, direction)) => (name.to_owned(), direction == "desc"),
                None => (key.to_owned(), false),
            })
            .collect();
        rows.sort_by(|left, right| {
            for (key, descending) in &keys {
                let (left_value, right_value) = (
                    value_of(left, key).unwrap_or_default(),
                    value_of(right, key).unwrap_or_default(),
                );
                let ordering = match (left_value.parse::<f64>(), right_value.parse::<f64>()) {
                    (Ok(left_number), Ok(right_number)) => left_number
                        .partial_cmp(&right_number)
                        .unwrap_or(std::cmp::Ordering::Equal),
                    _ => left_value.cmp(&right_value),
                };
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering.is_ne() {
                    return ordering;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    if params.get("format").map(String::as_str) == Some("json") {
        let array: Vec<Value> = rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> = columns
                    .iter()
                    .map(|column| {
                        (
                            column.clone(),
                            Value::String(value_of(row, column).unwrap_or_default()),
                        )
                    })
                    .collect();
                Value::Object(object)
            })
            .collect();
        return Ok(ok(&Value::Array(array)));
    }
    let with_header = params::flag(params, "v")?;
    let mut table: Vec<Vec<String>> = Vec::new();
    if with_header {
        table.push(columns.clone());
    }
    for row in &rows {
        table.push(
            columns
                .iter()
                .map(|column| value_of(row, column).unwrap_or_default())
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..columns.len())
        .map(|index| {
            table
                .iter()
                .map(|line| line[index].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for line in table {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(cells.join(" ").trim_end());
        text.push('\n');
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        )],
        text,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_elasticsearch() {
        assert_eq!(format_bytes(500, None), "500b");
        assert_eq!(format_bytes(5324, None), "5.2kb");
        assert_eq!(format_bytes(1 << 20, None), "1mb");
        assert_eq!(format_bytes(5324, Some("b")), "5324");
        assert_eq!(format_bytes(5324, Some("kb")), "5");
    }
}
