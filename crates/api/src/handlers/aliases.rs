//! Aliases: `POST /_aliases`, `PUT|DELETE /{index}/_alias/{name}`, `GET|HEAD /_alias`.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use logfleet_ingest::validate_index_name;
use logfleet_store::{
    AliasAction, AliasProperties, AliasTable, Expression, StoreError, TargetKind,
};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::date_math::{resolve_expression, resolve_name};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::{json_response, ok};

const PARAMETERS: &[&str] = &["master_timeout", "timeout", "local", "expand_wildcards"];

/// Checks an alias name against the rules for index names, as Elasticsearch does.
pub fn check_alias_name(name: &str) -> Result<(), ApiError> {
    validate_index_name(name).map_err(|problem| {
        ApiError::from(StoreError::InvalidAliasName {
            name: name.to_owned(),
            reason: problem.to_string(),
        })
    })
}

/// Checks the names and filters of an `aliases` object (of `PUT /{index}` or a template).
pub fn check_aliases_object(aliases: &Value) -> Result<(), ApiError> {
    let Value::Object(aliases) = aliases else {
        return Err(ApiError::illegal_argument("[aliases] must be an object"));
    };
    for (name, body) in aliases {
        // `{index}` stands for the name of the index a template creates.
        check_alias_name(&name.replace("{index}", "index"))?;
        let properties = AliasProperties::parse(name, body)?;
        check_filter(name, &properties)?;
    }
    Ok(())
}

/// An alias filter must be a query Logfleet can run; it is refused now rather than at
/// every search through the alias.
fn check_filter(alias: &str, properties: &AliasProperties) -> Result<(), ApiError> {
    if let Some(filter) = &properties.filter {
        logfleet_query::parse_query(filter).map_err(|error| {
            let cause = ApiError::from(error);
            let mut failure =
                ApiError::illegal_argument(format!("failed to parse filter for alias [{alias}]"));
            failure.caused_by = Some((cause.kind.clone(), cause.reason.clone()));
            failure
        })?;
    }
    Ok(())
}

fn validation_failed(problem: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "action_request_validation_exception",
        format!("Validation Failed: 1: {problem};"),
    )
}

fn string_list(key: &str, value: &Value) -> Result<Vec<String>, ApiError> {
    let strings = match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(values) => values
            .iter()
            .map(|value| value.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ApiError::parsing(format!("[{key}] must contain strings")))?,
        _ => {
            return Err(ApiError::parsing(format!(
                "[{key}] must be a string or an array of strings"
            )));
        }
    };
    if strings.iter().any(String::is_empty) {
        return Err(validation_failed(&format!("[{key}] can't be empty string")));
    }
    Ok(strings)
}

/// Parses one `{"add": {…}}`, `{"remove": {…}}` or `{"remove_index": {…}}` action.
fn parse_action(action: &Value) -> Result<AliasAction, ApiError> {
    let Some((kind, body)) = action
        .as_object()
        .filter(|object| object.len() == 1)
        .and_then(|object| object.iter().next())
    else {
        return Err(ApiError::parsing(
            "each alias action must be an object with one key: [add], [remove] or [remove_index]",
        ));
    };
    if !matches!(kind.as_str(), "add" | "remove" | "remove_index") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "x_content_parse_exception",
            format!("[alias_action] unknown field [{kind}]"),
        ));
    }
    let Value::Object(fields) = body else {
        return Err(ApiError::parsing(format!("[{kind}] must be an object")));
    };
    let mut indices = Vec::new();
    let mut aliases = Vec::new();
    let mut must_exist = None;
    let mut properties = AliasProperties::default();
    let mut properties_given = Vec::new();
    for (key, value) in fields {
        match key.as_str() {
            "index" | "indices" => indices.extend(string_list(key, value)?),
            "alias" | "aliases" => aliases.extend(string_list(key, value)?),
            "must_exist" => {
                must_exist = Some(value.as_bool().ok_or_else(|| {
                    ApiError::parsing("[must_exist] must be a boolean".to_owned())
                })?);
            }
            _ => {
                if !properties.set(key, value)? {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "x_content_parse_exception",
                        format!("[{kind}] unknown field [{key}]"),
                    ));
                }
                properties_given.push(key.clone());
            }
        }
    }
    if indices.is_empty() {
        return Err(validation_failed("One of [index] or [indices] is required"));
    }
    let indices = indices
        .iter()
        .map(|name| resolve_name(name).map(|name| name.into_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    if kind != "add"
        && let Some(key) = properties_given.first()
    {
        return Err(validation_failed(&format!(
            "[{key}] is unsupported for [{kind}]"
        )));
    }
    if kind != "remove" && must_exist.is_some() {
        return Err(validation_failed(&format!(
            "[must_exist] is unsupported for [{kind}]"
        )));
    }
    match kind.as_str() {
        "remove_index" => {
            if !aliases.is_empty() {
                return Err(validation_failed(
                    "[aliases] is unsupported for [remove_index]",
                ));
            }
            Ok(AliasAction::RemoveIndex { indices })
        }
        _ if aliases.is_empty() => {
            Err(validation_failed("One of [alias] or [aliases] is required"))
        }
        "add" => {
            let aliases = aliases
                .iter()
                .map(|name| {
                    let name = resolve_name(name)?.into_owned();
                    check_alias_name(&name)?;
                    Ok(name)
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            for alias in &aliases {
                check_filter(alias, &properties)?;
            }
            Ok(AliasAction::Add {
                indices,
                aliases,
                properties,
            })
        }
        _ => Ok(AliasAction::Remove {
            indices,
            aliases,
            must_exist,
        }),
    }
}

/// Runs actions and renders Elasticsearch's response: `errors`, and each action's result
/// when some failed.
async fn run_actions(state: &AppState, actions: &[AliasAction]) -> Result<Response, ApiError> {
    let results = state.store.update_aliases(actions).await?;
    let errors = results.iter().any(|(_, result)| result.is_err());
    let mut body = json!({"acknowledged": true, "errors": errors});
    if errors {
        let rendered: Vec<Value> = actions
            .iter()
            .zip(results)
            .map(|(action, (mut indices, result))| {
                indices.sort();
                let mut entry = json!({
                    "action": {"type": action.kind(), "indices": indices, "aliases": action.aliases()},
                    "status": 200,
                });
                if let Err(error) = result {
                    let error = ApiError::from(error);
                    entry["status"] = json!(error.status.as_u16());
                    entry["error"] = error.to_item_error();
                }
                entry
            })
            .collect();
        body["action_results"] = Value::Array(rendered);
    }
    Ok(ok(&body))
}

/// `POST /_aliases`.
pub async fn update(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, "/_aliases", PARAMETERS)?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?
        .ok_or_else(|| validation_failed("Must specify at least one alias action"))?;
    let actions = match body.get("actions") {
        Some(Value::Array(actions)) if !actions.is_empty() => actions,
        Some(Value::Array(_)) | None => {
            return Err(validation_failed("Must specify at least one alias action"));
        }
        Some(_) => return Err(ApiError::parsing("[actions] must be an array")),
    };
    if let Some(key) = body
        .as_object()
        .and_then(|object| object.keys().find(|key| *key != "actions"))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "x_content_parse_exception",
            format!("[aliases] unknown field [{key}]"),
        ));
    }
    let actions = actions
        .iter()
        .map(parse_action)
        .collect::<Result<Vec<_>, _>>()?;
    run_actions(&state, &actions).await
}

/// `PUT|POST /{index}/_alias/{name}`, with an optional definition as the body.
pub async fn put(
    State(state): State<AppState>,
    Path((index, name)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_alias/{name}"), PARAMETERS)?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.unwrap_or_else(|| json!({}));
    let name = resolve_name(&name)?.into_owned();
    check_alias_name(&name)?;
    let properties = AliasProperties::parse(&name, &body)?;
    check_filter(&name, &properties)?;
    let action = AliasAction::Add {
        indices: split(&index),
        aliases: vec![name],
        properties,
    };
    run_actions(&state, &[action]).await
}

/// `DELETE /{index}/_alias/{name}`: names and patterns, comma-separated.
pub async fn delete(
    State(state): State<AppState>,
    Path((index, name)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/{index}/_alias/{name}"), PARAMETERS)?;
    let action = AliasAction::Remove {
        indices: split(&index),
        aliases: split(&resolve_expression(&name)?),
        must_exist: None,
    };
    run_actions(&state, &[action]).await
}

fn split(expression: &str) -> Vec<String> {
    expression
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `GET /_alias`.
pub async fn get_all(state: State<AppState>, params: Query<Params>) -> Result<Response, ApiError> {
    render_get(state, None, None, params)
}

/// `GET /_alias/{name}`.
pub async fn get_named(
    state: State<AppState>,
    Path(name): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    render_get(state, None, Some(name), params)
}

/// `GET /{index}/_alias`.
pub async fn get_for_index(
    state: State<AppState>,
    Path(index): Path<String>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    render_get(state, Some(index), None, params)
}

/// `GET /{index}/_alias/{name}`.
pub async fn get_named_for_index(
    state: State<AppState>,
    Path((index, name)): Path<(String, String)>,
    params: Query<Params>,
) -> Result<Response, ApiError> {
    render_get(state, Some(index), Some(name), params)
}

/// `HEAD /_alias/{name}`.
pub async fn exists(state: State<AppState>, name: Path<String>, params: Query<Params>) -> Response {
    status_only(get_named(state, name, params).await)
}

/// `HEAD /{index}/_alias/{name}`.
pub async fn exists_for_index(
    state: State<AppState>,
    path: Path<(String, String)>,
    params: Query<Params>,
) -> Response {
    status_only(get_named_for_index(state, path, params).await)
}

fn status_only(response: Result<Response, ApiError>) -> Response {
    let status = match response {
        Ok(response) => response.status(),
        Err(error) => error.status,
    };
    status.into_response()
}

/// `POST /{alias}/_rollover`.
pub async fn rollover(
    state: State<AppState>,
    Path(alias): Path<String>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_rollover(state, alias, None, params, headers, body).await
}

/// `POST /{alias}/_rollover/{new_index}`.
pub async fn rollover_to(
    state: State<AppState>,
    Path((alias, new_index)): Path<(String, String)>,
    params: Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    run_rollover(state, alias, Some(new_index), params, headers, body).await
}

async fn run_rollover(
    State(state): State<AppState>,
    alias: String,
    new_index: Option<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/{alias}/_rollover"),
        &[
            "dry_run",
            "wait_for_active_shards",
            "master_timeout",
            "timeout",
            "lazy",
        ],
    )?;
    let dry_run = params::flag(&params, "dry_run")?;
    if params::flag(&params, "lazy")? {
        return Err(ApiError::illegal_argument(
            "lazy rollover can be used only on data streams, which Logfleet rolls over by itself",
        ));
    }
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "parsing_exception")?.unwrap_or_else(|| json!({}));
    if !body.is_object() {
        return Err(ApiError::parsing("request body must be an object"));
    }
    if let Some(aliases) = body.get("aliases") {
        check_aliases_object(aliases)?;
    }
    let new_index = match new_index {
        Some(name) => {
            let name = resolve_name(&name)?.into_owned();
            super::write::check_index_name(&name)?;
            Some(name)
        }
        None => None,
    };
    let outcome = state
        .store
        .rollover(&alias, new_index.as_deref(), &body, dry_run)?;
    let rolled = outcome.rolled_over;
    Ok(ok(&json!({
        "acknowledged": rolled,
        "shards_acknowledged": rolled,
        "old_index": outcome.old_index,
        "new_index": outcome.new_index,
        "rolled_over": rolled,
        "dry_run": dry_run,
        "lazy": false,
        "conditions": outcome.conditions,
    })))
}

fn render_get(
    State(state): State<AppState>,
    index: Option<String>,
    names: Option<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_alias", PARAMETERS)?;
    let table: AliasTable = state.store.aliases();
    let targets = state
        .store
        .resolve_targets(index.as_deref().unwrap_or("_all"), false)?;
    let names = names.as_deref().map(resolve_expression).transpose()?;
    let patterns = names.as_deref().map(Expression::parse);
    let mut found = BTreeSet::new();
    let mut body = Map::new();
    for target in targets {
        let aliases: Map<String, Value> = table
            .of_target(&target.name)
            .into_iter()
            .filter(|(alias, _)| {
                patterns
                    .as_ref()
                    .is_none_or(|patterns| patterns.matches(alias))
            })
            .map(|(alias, properties)| {
                found.insert(alias.clone());
                (alias, properties.to_json())
            })
            .collect();
        let listed = match &patterns {
            Some(_) => !aliases.is_empty(),
            // Every index is listed, data streams only with aliases.
            None => target.kind == TargetKind::Index || !aliases.is_empty(),
        };
        if listed {
            body.insert(target.name, json!({"aliases": aliases}));
        }
    }
    let missing: Vec<&str> = patterns
        .as_ref()
        .map(|patterns| {
            patterns
                .names()
                .filter(|name| !found.contains(*name))
                .collect()
        })
        .unwrap_or_default();
    if missing.is_empty() {
        return Ok(ok(&Value::Object(body)));
    }
    let message = match missing.as_slice() {
        [one] => format!("alias [{one}] missing"),
        _ => format!("aliases [{}] missing", missing.join(",")),
    };
    let mut response = Map::new();
    response.insert("error".into(), json!(message));
    response.insert("status".into(), json!(404));
    response.extend(body);
    Ok(json_response(
        StatusCode::NOT_FOUND,
        &Value::Object(response),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_with_elasticsearch_validation() {
        let add = parse_action(&json!({"add": {"index": "logs-1", "alias": "logs",
            "is_write_index": true, "filter": {"term": {"level": "error"}}}}))
        .unwrap();
        let AliasAction::Add {
            indices,
            aliases,
            properties,
        } = add
        else {
            panic!("not an add");
        };
        assert_eq!(indices, ["logs-1"]);
        assert_eq!(aliases, ["logs"]);
        assert_eq!(properties.is_write_index, Some(true));

        let remove =
            parse_action(&json!({"remove": {"indices": ["a", "b"], "aliases": "x*"}})).unwrap();
        assert_eq!(remove.aliases(), ["x*"]);

        for (action, kind, reason) in [
            (
                json!({"add": {"alias": "a"}}),
                "action_request_validation_exception",
                "Validation Failed: 1: One of [index] or [indices] is required;",
            ),
            (
                json!({"add": {"index": "a"}}),
                "action_request_validation_exception",
                "Validation Failed: 1: One of [alias] or [aliases] is required;",
            ),
            (
                json!({"remove_index": {"index": "a", "alias": "b"}}),
                "action_request_validation_exception",
                "Validation Failed: 1: [aliases] is unsupported for [remove_index];",
            ),
            (
                json!({"remove": {"index": "a", "alias": "b", "filter": {"match_all": {}}}}),
                "action_request_validation_exception",
                "Validation Failed: 1: [filter] is unsupported for [remove];",
            ),
            (
                json!({"rename": {"index": "a"}}),
                "x_content_parse_exception",
                "[alias_action] unknown field [rename]",
            ),
            (
                json!({"add": {"index": "a", "alias": "B"}}),
                "invalid_alias_name_exception",
                "Invalid alias name [B]: must be lowercase",
            ),
            (
                json!({"add": {"index": "a", "alias": "b", "filter": {"nope": {}}}}),
                "illegal_argument_exception",
                "failed to parse filter for alias [b]",
            ),
        ] {
            let error = parse_action(&action).unwrap_err();
            assert_eq!(
                (error.kind.as_str(), error.reason.as_str()),
                (kind, reason),
                "{action}"
            );
        }
    }
}
