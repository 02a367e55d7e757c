//! `_ilm/policy`: index lifecycle policies, whose `delete` phase becomes the retention of the
//! data streams whose template names them and which plain indexes with a rollover alias
//! follow (see `logfleet_store::LifecyclePolicy`); and `_ilm/explain`, where each index
//! stands in its policy.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use logfleet_store::{IndexLifecycle, LifecyclePolicy};
use logfleet_time::format_epoch_millis;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::{parse_json, read_body};
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "resource_not_found_exception",
        format!("Lifecycle policy not found: [{name}]"),
    )
}

fn render(state: &AppState, policy: &LifecyclePolicy) -> Value {
    let usage = state.store.lifecycle_policy_usage(&policy.name);
    json!({
        "version": policy.version,
        "modified_date": format_epoch_millis(policy.modified_date_ms),
        "policy": policy.policy,
        "in_use_by": {
            "indices": usage.indices,
            "data_streams": usage.data_streams,
            "composable_templates": usage.composable_templates,
        },
    })
}

/// `GET /_ilm/policy`.
pub async fn get_all(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_ilm/policy", &[])?;
    let policies: Map<String, Value> = state
        .store
        .lifecycle_policies("*")
        .iter()
        .map(|policy| (policy.name.clone(), render(&state, policy)))
        .collect();
    Ok(ok(&Value::Object(policies)))
}

/// `GET /_ilm/policy/{names}`: a comma list; wildcards match several.
pub async fn get(
    State(state): State<AppState>,
    Path(names): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/_ilm/policy/{names}"), &[])?;
    let mut policies = Map::new();
    for name in names.split(',') {
        let found = state.store.lifecycle_policies(name);
        if found.is_empty() && !name.contains('*') {
            return Err(not_found(name));
        }
        for policy in found {
            policies.insert(policy.name.clone(), render(&state, &policy));
        }
    }
    Ok(ok(&Value::Object(policies)))
}

/// `PUT /_ilm/policy/{name}`.
pub async fn put(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/_ilm/policy/{name}"), &[])?;
    let body = read_body(&headers, body, state.config.max_content_length).await?;
    let body = parse_json(&body, "x_content_parse_exception")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "parse_exception",
            "request body is required",
        )
    })?;
    state.store.put_lifecycle_policy(&name, &body)?;
    Ok(ok(&json!({"acknowledged": true})))
}

/// `DELETE /_ilm/policy/{name}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, &format!("/_ilm/policy/{name}"), &[])?;
    if !state.store.delete_lifecycle_policy(&name)? {
        return Err(not_found(&name));
    }
    Ok(ok(&json!({"acknowledged": true})))
}

/// `GET /_ilm/status`: lifecycle management always runs (retention is checked every minute).
pub async fn status(Query(params): Query<Params>) -> Result<Response, ApiError> {
    params::check(&params, "/_ilm/status", &[])?;
    Ok(ok(&json!({"operation_mode": "RUNNING"})))
}

const PHASES: &[&str] = &["hot", "warm", "cold", "frozen", "delete"];

/// `GET /{index}/_ilm/explain`: where each concrete index stands in its lifecycle policy.
pub async fn explain(
    State(state): State<AppState>,
    Path(index): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(
        &params,
        &format!("/{index}/_ilm/explain"),
        &["only_managed", "only_errors", "master_timeout", "human"],
    )?;
    let only_managed = params::flag(&params, "only_managed")?;
    let only_errors = params::flag(&params, "only_errors")?;
    let human = params::flag(&params, "human")?;
    let now = logfleet_store::now_millis();
    let mut indices = Map::new();
    for lifecycle in state.store.index_lifecycles(&index, false)? {
        let explained = explain_one(&lifecycle, now, human);
        let failed = explained.get("step").and_then(Value::as_str) == Some("ERROR");
        if (only_managed && lifecycle.managed.is_none()) || (only_errors && !failed) {
            continue;
        }
        indices.insert(lifecycle.index.clone(), explained);
    }
    Ok(ok(&json!({ "indices": indices })))
}

fn explain_one(lifecycle: &IndexLifecycle, now: i64, human: bool) -> Value {
    let mut object = Map::new();
    object.insert("index".into(), json!(lifecycle.index));
    let Some(managed) = &lifecycle.managed else {
        object.insert("managed".into(), json!(false));
        return Value::Object(object);
    };
    let date = |object: &mut Map<String, Value>, name: &str, millis: i64| {
        object.insert(format!("{name}_millis"), json!(millis));
        if human {
            object.insert(name.to_owned(), json!(format_epoch_millis(millis)));
        }
    };
    date(
        &mut object,
        "index_creation_date",
        lifecycle.creation_date_ms,
    );
    object.insert(
        "time_since_index_creation".into(),
        json!(time_value(now - lifecycle.creation_date_ms)),
    );
    object.insert("managed".into(), json!(true));
    object.insert("policy".into(), json!(managed.policy_name));
    let Some(policy) = &managed.policy else {
        object.insert("step".into(), json!("ERROR"));
        object.insert(
            "step_info".into(),
            json!({"type": "illegal_argument_exception",
                   "reason": format!("policy [{}] does not exist", managed.policy_name)}),
        );
        return Value::Object(object);
    };
    date(&mut object, "lifecycle_date", managed.lifecycle_date_ms);
    let age = now - managed.lifecycle_date_ms;
    object.insert("age".into(), json!(time_value(age)));
    let phases = &policy.policy["phases"];
    // The phase is the last one whose `min_age` the index has reached; the hot phase holds
    // it until its rollover.
    let phase = if managed.waiting_for_rollover {
        "hot"
    } else {
        PHASES
            .iter()
            .copied()
            .rfind(|phase| {
                phases[*phase]["min_age"]
                    .as_str()
                    .and_then(|min_age| logfleet_store::parse_time_value(min_age).ok())
                    .is_some_and(|min_age| age >= min_age.as_millis() as i64)
            })
            .unwrap_or("new")
    };
    let (action, step) = match phase {
        _ if managed.waiting_for_rollover => ("rollover", "check-rollover-ready"),
        "delete" => ("delete", "delete"),
        _ => ("complete", "complete"),
    };
    object.insert("phase".into(), json!(phase));
    object.insert("action".into(), json!(action));
    object.insert("step".into(), json!(step));
    if phase != "new" {
        object.insert(
            "phase_execution".into(),
            json!({
                "policy": policy.name,
                "phase_definition": phases[phase],
                "version": policy.version,
                "modified_date_in_millis": policy.modified_date_ms,
            }),
        );
    }
    Value::Object(object)
}

/// A duration as Elasticsearch prints a `TimeValue`: the largest unit, one decimal
/// (`1.5d`, `3h`, `12.3s`).
fn time_value(millis: i64) -> String {
    let millis = millis.max(0) as f64;
    let (amount, unit) = [
        (86_400_000.0, "d"),
        (3_600_000.0, "h"),
        (60_000.0, "m"),
        (1000.0, "s"),
    ]
    .into_iter()
    .find(|(size, _)| millis >= *size)
    .map_or((millis, "ms"), |(size, unit)| (millis / size, unit));
    let text = format!("{amount:.1}");
    format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_elasticsearch() {
        assert_eq!(time_value(0), "0ms");
        assert_eq!(time_value(999), "999ms");
        assert_eq!(time_value(15_300), "15.3s");
        assert_eq!(time_value(3 * 3_600_000), "3h");
        assert_eq!(time_value(129_600_000), "1.5d");
    }
}
