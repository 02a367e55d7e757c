//! Index management: create, get, exists, delete, mappings, refresh.

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use logfleet_store::{Expression, Part, TargetKind};
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::aliases::check_aliases_object;
use super::write::check_index_name;
use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::date_math::ProvidedName;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;

const RESOLVE_PARAMETERS: &[&str] = &[
    "ignore_unavailable",
    "allow_no_indices",
    "expand_wildcards",
    "local",
    "include_defaults",
    "flat_settings",
    "features",
];

fn ignore_unavailable(params: &Params) -> Result<bool, ApiError> {
    params::flag(params, "ignore_unavailable")
}

/// `PUT /{index}`.
pub async fn create(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    provided: Option<Extension<ProvidedName>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/{index}"),
        &["wait_for_active_shards", "include_type_name"],
    )?;
    check_index_name(&index)?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.unwrap_or_else(|| json!({}));
    if !body.is_object() {
        return Err(ApiError::parsing("request body must be an object"));
    }
    if let Some(aliases) = body.get("aliases") {
        check_aliases_object(aliases)?;
    }
    let provided = provided.map(|Extension(ProvidedName(name))| name);
    state
        .store
        .create_index(&index, &body, provided.as_deref())?;
    Ok(ok(
        &json!({"acknowledged": true, "shards_acknowledged": true, "index": index}),
    ))
}

/// `DELETE /{index}`: a comma list of names; wildcards are refused as
/// `action.destructive_requires_name` does by default.
pub async fn delete(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}"), RESOLVE_PARAMETERS)?;
    let expression = Expression::parse(&index);
    // Wildcards, `_all`, and the exclusions that only make sense after them.
    if expression
        .parts()
        .iter()
        .any(|part| !matches!(part, Part::Name(_)))
    {
        return Err(ApiError::illegal_argument(
            "Wildcard expressions or all indices are not allowed",
        ));
    }
    let names: Vec<&str> = expression.names().collect();
    if let Some(alias) = names.iter().find(|name| state.store.is_alias(name)) {
        return Err(ApiError::illegal_argument(format!(
            "The provided expression [{alias}] matches an alias, specify the corresponding concrete indices instead."
        )));
    }
    let ignore = ignore_unavailable(&params)?;
    for name in &names {
        if !ignore && state.store.resolve_targets(name, false).is_err() {
            return Err(ApiError::index_not_found(name));
        }
    }
    for name in names {
        match state.store.delete_target(name).await {
            Ok(()) => {}
            Err(logfleet_store::StoreError::IndexNotFound(_)) if ignore => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(ok(&json!({"acknowledged": true})))
}

/// `HEAD /{index}`.
pub async fn exists(State(state): State<AppState>, Path(index): Path<String>) -> Response {
    match state.store.resolve_targets(&index, false) {
        Ok(targets) if !targets.is_empty() => StatusCode::OK.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /{index}`.
pub async fn get(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}"), RESOLVE_PARAMETERS)?;
    Ok(ok(&Value::Object(describe(&state, &index, &params)?)))
}

/// `GET /{index}/_settings`.
pub async fn get_settings(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    settings_for(state, &index, "", params)
}

/// `GET /{index}/_settings/{name}`: only the settings `name` (a comma list of flat names,
/// with wildcards) matches.
pub async fn get_settings_named(
    state: State<AppState>,
    Path((index, name)): Path<(String, String)>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    settings_for(state, &index, &name, params)
}

/// `GET /_settings`.
pub async fn get_settings_all(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    settings_for(state, "_all", "", params)
}

/// `GET /_settings/{name}`.
pub async fn get_settings_all_named(
    state: State<AppState>,
    Path(name): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    settings_for(state, "_all", &name, params)
}

/// The settings of the indexes `index` names, as `GET /{index}/_settings/{name}` shows them:
/// each index's own settings, nested (or flat names with `flat_settings`), and with
/// `include_defaults` the values of the settings it leaves at their defaults.
fn settings_for(
    State(state): State<AppState>,
    index: &str,
    name: &str,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_settings"), RESOLVE_PARAMETERS)?;
    let flat = params::flag(&params, "flat_settings")?;
    let include_defaults = params::flag(&params, "include_defaults")?;
    let names = (!name.is_empty() && name != "_all").then(|| Expression::parse(name));
    let shown = |settings: &Value| -> Value {
        let pairs = logfleet_store::flatten_settings(settings)
            .into_iter()
            .filter(|(key, _)| names.as_ref().is_none_or(|names| names.matches(key)));
        if flat {
            Value::Object(pairs.collect())
        } else {
            nest_settings(pairs)
        }
    };
    let defaults = default_settings(&state);
    let mut body = Map::new();
    for (index, mut entry) in describe(&state, index, &params)? {
        let settings = entry["settings"].take();
        let mut shown_entry = Map::new();
        shown_entry.insert("settings".into(), shown(&settings));
        if include_defaults {
            // Only what the index does not set itself.
            let set: Vec<String> = logfleet_store::flatten_settings(&settings)
                .into_iter()
                .map(|(key, _)| key)
                .collect();
            let unset: Vec<(String, Value)> = logfleet_store::flatten_settings(&defaults)
                .into_iter()
                .filter(|(key, _)| !set.contains(key))
                .collect();
            shown_entry.insert("defaults".into(), shown(&nest_settings(unset.into_iter())));
        }
        body.insert(index, Value::Object(shown_entry));
    }
    Ok(ok(&Value::Object(body)))
}

/// Dotted setting names (`index.number_of_shards`) as nested objects.
pub(crate) fn nest_settings(pairs: impl Iterator<Item = (String, Value)>) -> Value {
    let mut root = Map::new();
    for (key, value) in pairs {
        let mut object = &mut root;
        let mut segments = key.split('.').peekable();
        while let Some(segment) = segments.next() {
            if segments.peek().is_none() {
                object.insert(segment.to_owned(), value);
                break;
            }
            let child = object
                .entry(segment.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            let Value::Object(child) = child else {
                unreachable!("made an object above")
            };
            object = child;
        }
    }
    Value::Object(root)
}

/// The index settings every index has unless it sets them, with the values they have here:
/// what `include_defaults` adds. Settings that do not apply to one node without a JVM are
/// left out rather than invented.
fn default_settings(state: &AppState) -> Value {
    let refresh_interval = state.store.config().refresh_interval.map_or_else(
        || "-1".to_owned(),
        |interval| format!("{}ms", interval.as_millis()),
    );
    json!({"index": {
        "refresh_interval": refresh_interval,
        "max_result_window": "10000",
        "max_inner_result_window": "100",
        "max_terms_count": "65536",
        "max_regex_length": "1000",
        "auto_expand_replicas": "false",
        "codec": "default",
        "hidden": "false",
        "default_pipeline": "_none",
        "final_pipeline": "_none",
        "query": {"default_field": ["*"]},
        "blocks": {
            "read_only": "false",
            "read_only_allow_delete": "false",
            "read": "false",
            "write": "false",
            "metadata": "false",
        },
        "mapping": {
            "total_fields": {"limit": "1000", "ignore_dynamic_beyond_limit": "false"},
            "depth": {"limit": "20"},
            "nested_fields": {"limit": "50"},
            "field_name_length": {"limit": "9223372036854775807"},
        },
        "lifecycle": {"name": "", "rollover_alias": ""},
    }})
}

/// `PUT /_settings`: the settings of every index.
pub async fn put_settings_all(
    state: State<AppState>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    put_settings(state, Path("_all".to_owned()), params, headers, body).await
}

/// `PUT /{index}/_settings`: `index.default_pipeline`, `index.final_pipeline`,
/// `index.lifecycle.name` and `index.lifecycle.rollover_alias` (flat or nested, with or
/// without `settings` around them; `null` resets one). `number_of_replicas`,
/// `auto_expand_replicas` and `refresh_interval` are accepted and change nothing: there is one
/// copy of each index (a single node's replicas would stay unassigned), and refreshes follow
/// the server's `refresh_interval`.
pub async fn put_settings(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/{index}/_settings"),
        &[
            RESOLVE_PARAMETERS,
            &["preserve_existing", "reopen", "flat_settings"],
        ]
        .concat(),
    )?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: no settings to update;",
        )
    })?;
    let body = match body.get("settings") {
        Some(settings) if body.as_object().is_some_and(|object| object.len() == 1) => {
            settings.clone()
        }
        _ => body,
    };
    let mut default_pipeline = None;
    let mut final_pipeline = None;
    let mut lifecycle_name = None;
    let mut rollover_alias = None;
    for (key, value) in logfleet_store::flatten_settings(&body) {
        let key = key.strip_prefix("index.").unwrap_or(&key).to_owned();
        let text = match &value {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        match key.as_str() {
            "default_pipeline" => default_pipeline = Some(text),
            "final_pipeline" => final_pipeline = Some(text),
            "lifecycle.name" => lifecycle_name = Some(text),
            "lifecycle.rollover_alias" => rollover_alias = Some(text),
            // Recorded (or refused) by the store below.
            _ => {}
        }
    }

    for name in [&default_pipeline, &final_pipeline].into_iter().flatten() {
        if !name.is_empty() && name != "_none" && state.pipelines.get(name).is_none() {
            return Err(ApiError::illegal_argument(format!(
                "pipeline with id [{name}] does not exist"
            )));
        }
    }
    let targets: Vec<String> = state
        .store
        .resolve_targets(&index, ignore_unavailable(&params)?)?
        .into_iter()
        .map(|target| target.name)
        .collect();
    // First, as it is the one that can refuse a setting: then nothing has changed.
    state.store.update_recorded_settings(&targets, &body)?;
    state.store.set_ingest_pipelines(
        &targets,
        default_pipeline.as_deref(),
        final_pipeline.as_deref(),
    )?;
    if lifecycle_name.is_some() || rollover_alias.is_some() {
        state.store.set_index_lifecycle(
            &targets,
            lifecycle_name.as_deref(),
            rollover_alias.as_deref(),
        )?;
    }
    Ok(ok(&json!({"acknowledged": true})))
}

fn describe(
    state: &AppState,
    index: &str,
    params: &Params,
) -> Result<Map<String, Value>, ApiError> {
    let targets = state
        .store
        .resolve_targets(index, ignore_unavailable(params)?)?;
    let stats = state.store.index_stats();
    let aliases = state.store.aliases();
    let lifecycles: BTreeMap<String, String> = state
        .store
        .index_lifecycles(index, true)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|explained| Some((explained.index, explained.managed?.policy_name)))
        .collect();
    let recorded = state.store.recorded_settings();
    let mut body = Map::new();
    for target in targets {
        let target_aliases: Map<String, Value> = aliases
            .of_target(&target.name)
            .into_iter()
            .map(|(alias, properties)| (alias, properties.to_json()))
            .collect();
        let (name, kind, mapping) = (target.name, target.kind, target.mapping);
        let concrete = if kind == TargetKind::Index {
            vec![name.clone()]
        } else {
            target.indices
        };
        for concrete_name in concrete {
            let uuid = stats
                .iter()
                .find(|row| row.index == concrete_name)
                .map(|row| row.uuid.clone())
                .unwrap_or_default();
            let creation = stats
                .iter()
                .find(|row| row.index == concrete_name)
                .map_or(0, |row| row.creation_date_ms);
            let mut entry = Map::new();
            // A data stream's aliases are the stream's, not its backing indexes'.
            let entry_aliases = if kind == TargetKind::Index {
                target_aliases.clone()
            } else {
                Map::new()
            };
            entry.insert("aliases".into(), Value::Object(entry_aliases));
            entry.insert("mappings".into(), mapping.to_es_json());
            entry.insert(
                "settings".into(),
                json!({"index": {
                    "number_of_shards": "1",
                    "number_of_replicas": "0",
                    "uuid": uuid,
                    "creation_date": creation.to_string(),
                    "provided_name": concrete_name,
                    "mapping": {"total_fields": {"limit": mapping.total_fields_limit.to_string()}},
                    "hidden": (kind == TargetKind::DataStream).to_string(),
                    "version": {"created": "8521000"},
                }}),
            );
            let ingest = state.store.ingest_pipelines(&name);
            for (key, pipeline) in [
                ("default_pipeline", ingest.default_pipeline),
                ("final_pipeline", ingest.final_pipeline),
            ] {
                if let Some(pipeline) = pipeline {
                    entry["settings"]["index"][key] = json!(pipeline);
                }
            }
            if let Some(policy) = lifecycles.get(&concrete_name) {
                entry["settings"]["index"]["lifecycle"] = json!({"name": policy});
            }
            if let Some(recorded) = recorded.get(&name).filter(|recorded| !recorded.is_empty()) {
                let mut pairs = logfleet_store::flatten_settings(&entry["settings"]);
                for (key, value) in recorded {
                    let key = format!("index.{key}");
                    pairs.retain(|(existing, _)| *existing != key);
                    pairs.push((key, value.clone()));
                }
                entry.insert("settings".into(), nest_settings(pairs.into_iter()));
            }
            if kind == TargetKind::DataStream {
                entry.insert("data_stream".into(), json!(name));
            }
            body.insert(concrete_name, Value::Object(entry));
        }
    }
    Ok(body)
}

/// `GET /_mapping`.
pub async fn get_mapping_all(
    state: State<AppState>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    mapping_for(state, "_all".to_owned(), params).await
}

/// `GET /{index}/_mapping`.
pub async fn get_mapping(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    mapping_for(state, index, params).await
}

async fn mapping_for(
    State(state): State<AppState>,
    index: String,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_mapping"), RESOLVE_PARAMETERS)?;
    let targets = state
        .store
        .resolve_targets(&index, ignore_unavailable(&params)?)?;
    let mut body = Map::new();
    for target in targets {
        let mapping = target.mapping;
        let concrete = if target.kind == TargetKind::Index {
            vec![target.name]
        } else {
            target.indices
        };
        for concrete_name in concrete {
            body.insert(concrete_name, json!({"mappings": mapping.to_es_json()}));
        }
    }
    Ok(ok(&Value::Object(body)))
}

/// `PUT /{index}/_mapping`.
pub async fn put_mapping(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_mapping"), RESOLVE_PARAMETERS)?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: mapping source is empty;",
        )
    })?;
    let targets = state.store.resolve_targets(&index, false)?;
    for target in targets {
        state.store.put_mapping(&target.name, &body)?;
    }
    Ok(ok(&json!({"acknowledged": true})))
}

/// `POST /_refresh`.
pub async fn refresh_all(state: State<AppState>) -> Result<Response, ApiError> {
    refresh(state, "_all").await
}

/// `POST /{index}/_refresh`.
pub async fn refresh_index(
    state: State<AppState>,
    Path(index): Path<String>,
) -> Result<Response, ApiError> {
    refresh(state, &index).await
}

async fn refresh(State(state): State<AppState>, index: &str) -> Result<Response, ApiError> {
    let shards = state.store.resolve(index, false)?.len();
    state.store.refresh().await?;
    Ok(ok(
        &json!({"_shards": {"total": shards, "successful": shards, "failed": 0}}),
    ))
}

/// `GET|POST /_field_caps`.
pub async fn field_caps_all(
    state: State<AppState>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    field_caps(state, "_all".to_owned(), params, headers, body).await
}

/// `GET|POST /{index}/_field_caps`.
pub async fn field_caps_index(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    field_caps(state, index, params, headers, body).await
}

/// The field patterns of `_field_caps`: the `fields` parameter, or the body's `fields` (an
/// array or a comma list). `index_filter` and `runtime_mappings` are accepted; every index
/// the expression names is reported, as if the filter matched each.
fn field_caps_patterns(params: &Params, body: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let split = |fields: &str| -> Vec<String> {
        fields
            .split(',')
            .map(|field| field.trim().to_owned())
            .filter(|field| !field.is_empty())
            .collect()
    };
    let from_body = match body.and_then(|body| body.get("fields")) {
        None | Some(Value::Null) => None,
        Some(Value::String(fields)) => Some(split(fields)),
        Some(Value::Array(fields)) => Some(
            fields
                .iter()
                .map(|field| {
                    field
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::parsing("[field_caps] [fields] must hold strings"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(ApiError::parsing(
                "[field_caps] [fields] must be a string or an array",
            ));
        }
    };
    if let Some(object) = body.and_then(Value::as_object)
        && let Some(key) = object
            .keys()
            .find(|key| !matches!(key.as_str(), "fields" | "index_filter" | "runtime_mappings"))
    {
        return Err(ApiError::parsing(format!(
            "[field_caps] unknown field [{key}]"
        )));
    }
    match (params.get("fields"), from_body) {
        (Some(_), Some(_)) => Err(ApiError::illegal_argument(
            "can't specify a request body and [fields] request parameter, either specify a \
             request body or the [fields] request parameter",
        )),
        (Some(fields), None) => Ok(split(fields)),
        (None, fields) => Ok(fields.unwrap_or_default()),
    }
}

/// The capabilities of fields across indexes, as Kibana and Grafana use them to learn what
/// can be searched and aggregated.
async fn field_caps(
    State(state): State<AppState>,
    index: String,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/{index}/_field_caps"),
        &[
            "fields",
            "ignore_unavailable",
            "allow_no_indices",
            "expand_wildcards",
            "include_unmapped",
            "filters",
            "types",
            "include_empty_fields",
        ],
    )?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?;
    let patterns = field_caps_patterns(&params, body.as_ref())?;
    if patterns.is_empty() {
        return Err(ApiError::illegal_argument(
            "specified fields can't be null or empty",
        ));
    }
    let targets = state
        .store
        .resolve_targets(&index, ignore_unavailable(&params)?)?;
    // field → type → indices having it with that type
    let mut capabilities: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, Vec<String>>,
    > = std::collections::BTreeMap::new();
    let mut all_indices = Vec::new();
    for target in &targets {
        let concrete = if target.kind == TargetKind::Index {
            vec![target.name.clone()]
        } else {
            target.indices.clone()
        };
        all_indices.extend(concrete.iter().cloned());
        let mut fields: Vec<(String, String)> = target
            .mapping
            .fields
            .iter()
            .map(|(path, mapping)| {
                // Elasticsearch reports an alias with the type of the field it names.
                let es_type = mapping
                    .alias_path()
                    .and_then(|target_path| target.mapping.fields.get(target_path))
                    .map_or(&mapping.es_type, |target_field| &target_field.es_type);
                (path.clone(), es_type.clone())
            })
            .collect();
        for (path, mapping) in target.mapping.leaf_fields() {
            if path.contains('.') && !target.mapping.fields.contains_key(&path) {
                fields.push((path, mapping.es_type.clone()));
            }
        }
        for (path, es_type) in fields {
            if !patterns
                .iter()
                .any(|pattern| logfleet_store::wildcard_match(pattern, &path))
            {
                continue;
            }
            capabilities
                .entry(path)
                .or_default()
                .entry(es_type)
                .or_default()
                .extend(concrete.iter().cloned());
        }
    }
    let mut fields = Map::new();
    for (path, types) in capabilities {
        let several_types = types.len() > 1;
        let mut by_type = Map::new();
        for (es_type, indices) in types {
            let field_type = logfleet_store::FieldType::from_es_type_name(&es_type);
            let searchable = !matches!(
                field_type,
                Some(
                    logfleet_store::FieldType::Object
                        | logfleet_store::FieldType::GeoPoint
                        | logfleet_store::FieldType::Unindexed
                )
            );
            let aggregatable =
                searchable && !matches!(field_type, Some(logfleet_store::FieldType::Text));
            let mut capability = Map::new();
            capability.insert("type".into(), json!(es_type));
            capability.insert("metadata_field".into(), json!(false));
            capability.insert("searchable".into(), json!(searchable));
            capability.insert("aggregatable".into(), json!(aggregatable));
            if several_types {
                capability.insert("indices".into(), json!(indices));
            }
            by_type.insert(es_type, Value::Object(capability));
        }
        fields.insert(path, Value::Object(by_type));
    }
    all_indices.sort();
    Ok(ok(&json!({"indices": all_indices, "fields": fields})))
}

/// `GET /_resolve/index/{name}`.
pub async fn resolve_index(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let targets = state.store.resolve_targets(&name, true)?;
    let table = state.store.aliases();
    let mut indices = Vec::new();
    let mut data_streams = Vec::new();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for target in targets {
        let target_aliases: Vec<String> = table.of_target(&target.name).into_keys().collect();
        for alias in &target_aliases {
            aliases
                .entry(alias.clone())
                .or_default()
                .push(target.name.clone());
        }
        match target.kind {
            TargetKind::Index => {
                let mut entry = json!({"name": target.name, "attributes": ["open"]});
                if !target_aliases.is_empty() {
                    entry["aliases"] = json!(target_aliases);
                }
                indices.push(entry);
            }
            TargetKind::DataStream => {
                for backing in &target.indices {
                    indices.push(json!({"name": backing, "attributes": ["hidden", "open"], "data_stream": target.name}));
                }
                let mut entry = json!({"name": target.name, "backing_indices": target.indices, "timestamp_field": "@timestamp"});
                if !target_aliases.is_empty() {
                    entry["aliases"] = json!(target_aliases);
                }
                data_streams.push(entry);
            }
        }
    }
    // Only aliases the expression named, or matched by a wildcard, are listed themselves.
    let expression = Expression::parse(&name);
    let aliases: Vec<Value> = aliases
        .into_iter()
        .filter(|(alias, _)| expression.matches(alias))
        .map(|(alias, members)| json!({"name": alias, "indices": members}))
        .collect();
    Ok(ok(
        &json!({"indices": indices, "aliases": aliases, "data_streams": data_streams}),
    ))
}
