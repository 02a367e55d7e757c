//! `GET /`: who we are, in Elasticsearch's words.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::response::ok;
use crate::{AppState, ELASTICSEARCH_VERSION};

/// The build date reported in `GET /` and `GET /_xpack`.
pub const BUILD_DATE: &str = "2026-11-26T00:00:00.000Z";

/// `GET /`: Elasticsearch's greeting for clients; a browser is sent to the web UI.
pub async fn info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if crate::logfleet::ui::wants_html(&headers) {
        return (StatusCode::FOUND, [(header::LOCATION, "/_ui/")]).into_response();
    }
    let config = &state.config;
    ok(&json!({
        "name": config.node_name,
        "cluster_name": config.cluster_name,
        "cluster_uuid": config.cluster_uuid,
        "version": {
            "number": ELASTICSEARCH_VERSION,
            "build_flavor": "default",
            "build_type": "logfleet",
            "build_hash": env!("CARGO_PKG_VERSION"),
            "build_date": BUILD_DATE,
            "build_snapshot": false,
            "lucene_version": "9.12.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    }))
}

/// `HEAD /`.
pub async fn head() -> Response {
    StatusCode::OK.into_response()
}
