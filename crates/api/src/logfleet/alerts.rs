//! `/_logfleet/alerts`: alert rules as data, and the alerts they raise.
//!
//! - `GET /_logfleet/alerts/rules`: every rule, by id, with its alerts' states;
//! - `GET|PUT|DELETE /_logfleet/alerts/rules/{id}`: one rule (see `logfleet_alerts::rule`
//!   for its JSON);
//! - `POST /_logfleet/alerts/rules/_preview` (a rule in the body) and
//!   `GET /_logfleet/alerts/rules/{id}/_preview`: what the rule would have done over the
//!   last `?range=` (`24h` unless said, at most `7d`), from the stored events;
//! - `GET /_logfleet/alerts`: the alerts that are pending or firing;
//! - `GET|POST /_logfleet/alerts/silences`, `DELETE /_logfleet/alerts/silences/{id}`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::time::Duration;

use logfleet_alerts::AlertError;
use logfleet_alerts::rule::Rule;
use logfleet_alerts::state::Phase;
use serde_json::{Map, Value, json};

use super::objects::{not_found, read_object};
use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::{json_response, ok};

impl From<AlertError> for ApiError {
    fn from(error: AlertError) -> Self {
        match error {
            AlertError::InvalidRule(reason) => ApiError::illegal_argument(reason),
            AlertError::NoSuchRule(id) => not_found("alert rule", "alert_rule", &id),
            AlertError::Store(error) => error.into(),
            AlertError::Config(reason) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "settings_exception",
                reason,
            ),
            AlertError::Evaluation { .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "exception",
                error.to_string(),
            ),
        }
    }
}

/// `GET /_logfleet/alerts/rules`.
pub async fn list_rules(State(state): State<AppState>) -> Result<Response, ApiError> {
    let active = state.alerts.active();
    let mut rules = Map::new();
    for (id, rule) in state.alerts.rules() {
        let mut shown = serde_json::to_value(&rule).unwrap_or(Value::Null);
        let firing = active
            .iter()
            .filter(|alert| alert.rule == id && alert.phase == Phase::Firing)
            .count();
        let pending = active
            .iter()
            .filter(|alert| alert.rule == id && alert.phase == Phase::Pending)
            .count();
        let last = state.alerts.last_evaluation(&id).map(|evaluation| {
            json!({
                "at": logfleet_time::format_epoch_millis(evaluation.at_ms),
                "took_ms": evaluation.took_ms,
                "error": evaluation.error,
            })
        });
        shown["state"] = json!({"firing": firing, "pending": pending, "last_evaluation": last});
        rules.insert(id, shown);
    }
    Ok(ok(&Value::Object(rules)))
}

/// `GET /_logfleet/alerts/rules/{id}`.
pub async fn get_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.alerts.rule(&id) {
        Some(rule) => Ok(ok(&json!({ id: rule }))),
        None => Err(AlertError::NoSuchRule(id).into()),
    }
}

/// `PUT /_logfleet/alerts/rules/{id}`: creates or replaces a rule; `201` when new.
pub async fn put_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_object(
        &state,
        &headers,
        body,
        "an alert rule is a JSON object with \"name\", \"index\" and \"condition\"",
    )
    .await?;
    let created = state.alerts.put_rule(&id, &Value::Object(body))?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(
        status,
        &json!({"acknowledged": true, "result": if created { "created" } else { "updated" }}),
    ))
}

/// `DELETE /_logfleet/alerts/rules/{id}`.
pub async fn delete_rule(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state.alerts.delete_rule(&id)? {
        Ok(ok(&json!({"acknowledged": true})))
    } else {
        Err(AlertError::NoSuchRule(id).into())
    }
}

/// The longest span a preview covers.
const MAX_PREVIEW_RANGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// `POST /_logfleet/alerts/rules/_preview`: the rule in the body, previewed.
pub async fn preview(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    params::check(&params, "/_logfleet/alerts/rules/_preview", &["range"])?;
    let mut body = read_object(
        &state,
        &headers,
        body,
        "a preview's body is an alert rule: a JSON object with \"name\", \"index\" and \"condition\"",
    )
    .await?;
    body.remove("id");
    let rule = Rule::parse("preview", &Value::Object(body)).map_err(ApiError::illegal_argument)?;
    previewed(&state, "preview", &rule, &params).await
}

/// `GET /_logfleet/alerts/rules/{id}/_preview`: a stored rule, previewed.
pub async fn preview_stored(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_logfleet/alerts/rules/{id}/_preview", &["range"])?;
    let rule = state
        .alerts
        .rule(&id)
        .ok_or_else(|| ApiError::from(AlertError::NoSuchRule(id.clone())))?;
    previewed(&state, &id, &rule, &params).await
}

async fn previewed(
    state: &AppState,
    id: &str,
    rule: &Rule,
    params: &Params,
) -> Result<Response, ApiError> {
    let range = match params.get("range") {
        Some(text) => logfleet_store::parse_time_value(text)
            .map_err(|error| ApiError::illegal_argument(format!("[range]: {error}")))?,
        None => Duration::from_secs(24 * 3600),
    };
    if range.is_zero() || range > MAX_PREVIEW_RANGE {
        return Err(ApiError::illegal_argument(
            "[range] must be longer than 0s and at most 7d",
        ));
    }
    let to = logfleet_store::now_millis();
    let preview = state
        .alerts
        .preview(id, rule, to - range.as_millis() as i64, to)
        .await?;
    Ok(ok(&serde_json::to_value(&preview).unwrap_or(Value::Null)))
}

/// `GET /_logfleet/alerts`: pending and firing alerts, firing first.
pub async fn active(State(state): State<AppState>) -> Result<Response, ApiError> {
    let rules = state.alerts.rules();
    let mut alerts: Vec<Value> = state
        .alerts
        .active()
        .into_iter()
        .map(|alert| {
            let rule = rules.get(&alert.rule);
            json!({
                "rule": alert.rule,
                "name": rule.map(|rule| rule.name.clone()),
                "severity": rule.map(|rule| rule.severity.clone()),
                "state": alert.phase,
                "group": alert.group,
                "value": alert.value,
                "active_since": alert.active_since_ms.map(logfleet_time::format_epoch_millis),
                "fired_at": alert.fired_ms.map(logfleet_time::format_epoch_millis),
                "evaluated_at": logfleet_time::format_epoch_millis(alert.evaluated_ms),
                "flapping": alert.flapping,
            })
        })
        .collect();
    alerts.sort_by_key(|alert| alert["state"] != "firing");
    Ok(ok(&json!({"alerts": alerts})))
}

/// `GET /_logfleet/alerts/silences`: every silence, with whether it is in force.
pub async fn list_silences(State(state): State<AppState>) -> Result<Response, ApiError> {
    let now = logfleet_store::now_millis();
    let silences: Vec<Value> = state
        .alerts
        .silences()?
        .into_iter()
        .map(|(id, silence)| {
            let active = silence.active(now);
            let mut shown = serde_json::to_value(&silence).unwrap_or(Value::Null);
            shown["id"] = json!(id);
            shown["active"] = json!(active);
            shown
        })
        .collect();
    Ok(ok(&json!({"silences": silences})))
}

/// `POST /_logfleet/alerts/silences`: `{"matchers": [{"name", "value", "isRegex",
/// "isEqual"}], "starts_at_ms", "ends_at_ms", "comment", "created_by"}`; `201` with its id.
pub async fn create_silence(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_object(
        &state,
        &headers,
        body,
        "a silence is a JSON object with \"matchers\" and \"ends_at_ms\"",
    )
    .await?;
    let silence: logfleet_alerts::silence::Silence = serde_json::from_value(Value::Object(body))
        .map_err(|error| ApiError::illegal_argument(format!("silence: {error}")))?;
    let id = state
        .alerts
        .put_silence(silence, logfleet_store::now_millis())?;
    Ok(json_response(StatusCode::CREATED, &json!({"id": id})))
}

/// `DELETE /_logfleet/alerts/silences/{id}`.
pub async fn delete_silence(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state.alerts.delete_silence(&id)? {
        Ok(ok(&json!({"acknowledged": true})))
    } else {
        Err(not_found("silence", "alert_silence", &id))
    }
}
