//! `GET /_license` and `GET /_xpack`: what shippers check before they send anything.
//!
//! Filebeat, Logstash and Elastic Agent refuse to connect unless `/_license` reports an
//! active license, and read `/_xpack` to learn whether index lifecycle management is there.
//! Logfleet has no paid tiers: it reports an active `basic` license, issued when its data
//! directory was created, and marks as available only the features it implements.

use axum::extract::{Query, State};
use axum::response::Response;
use logfleet_time::format_epoch_millis;
use serde_json::{Map, Value, json};

use super::root::BUILD_DATE;
use crate::AppState;
use crate::error::ApiError;
use crate::params::{self, Params};
use crate::response::ok;

/// Feature names `GET /_xpack` lists, with whether Logfleet implements them.
const FEATURES: &[(&str, bool)] = &[
    ("aggregate_metric", false),
    ("analytics", false),
    ("archive", false),
    ("ccr", false),
    ("data_streams", true),
    ("data_tiers", false),
    ("enrich", false),
    ("enterprise_search", false),
    ("eql", false),
    ("esql", false),
    ("frozen_indices", false),
    ("graph", false),
    ("ilm", true),
    ("logstash", false),
    ("ml", false),
    ("monitoring", false),
    ("rollup", false),
    ("searchable_snapshots", false),
    ("security", false),
    ("slm", false),
    ("spatial", false),
    ("sql", false),
    ("transform", false),
    ("universal_profiling", false),
    ("voting_only", false),
    ("watcher", false),
];

/// `GET /_license`.
pub async fn license(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_license", &["local", "accept_enterprise"])?;
    let config = &state.config;
    Ok(ok(&json!({
        "license": {
            "status": "active",
            "uid": config.cluster_uuid,
            "type": "basic",
            "issue_date": format_epoch_millis(config.cluster_created_ms),
            "issue_date_in_millis": config.cluster_created_ms,
            "max_nodes": 1000,
            "max_resource_units": null,
            "issued_to": config.cluster_name,
            "issuer": "elasticsearch",
            "start_date_in_millis": -1,
        }
    })))
}

/// `GET /_xpack`, with `?categories=build,license,features`.
pub async fn info(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    params::check(&params, "/_xpack", &["categories", "accept_enterprise"])?;
    let categories: Vec<&str> = match params.get("categories").map(String::as_str) {
        None | Some("") => vec!["build", "license", "features"],
        Some("_none") => Vec::new(),
        Some(list) => list.split(',').map(str::trim).collect(),
    };
    let mut body = Map::new();
    for category in categories {
        let section = match category {
            "build" => json!({
                "hash": env!("CARGO_PKG_VERSION"),
                "date": BUILD_DATE,
            }),
            "license" => json!({
                "uid": state.config.cluster_uuid,
                "type": "basic",
                "mode": "basic",
                "status": "active",
            }),
            "features" => Value::Object(
                FEATURES
                    .iter()
                    .map(|(name, implemented)| {
                        let flags = json!({"available": implemented, "enabled": implemented});
                        ((*name).to_owned(), flags)
                    })
                    .collect(),
            ),
            other => {
                return Err(ApiError::illegal_argument(format!(
                    "Unknown info category [{other}]"
                )));
            }
        };
        body.insert(category.to_owned(), section);
    }
    body.insert("tagline".to_owned(), json!("You know, for X"));
    Ok(ok(&Value::Object(body)))
}
