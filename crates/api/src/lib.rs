//! Logfleet's Elasticsearch-compatible HTTP API, at the root path.
//!
//! Handlers are thin: they read and limit the body ([`body`]), decode parameters, call the
//! ingest/pipeline/store/query crates and render Elasticsearch's response shapes. Every
//! error goes through [`ApiError`], whose conversions are the single mapping from the other
//! crates' errors to HTTP statuses and Elasticsearch's error bodies. A middleware adds
//! `X-Elastic-Product: Elasticsearch` to every response.

mod body;
mod date_math;
mod error;
mod filter_path;
mod handlers;
mod logfleet;
mod params;
mod response;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use logfleet_pipeline::{Pipelines, Resources};
use logfleet_store::Store;

pub use error::ApiError;
pub use logfleet::dashboards::install_prebuilt as install_prebuilt_dashboards;
pub use logfleet::ui::{CONTENT_SECURITY_POLICY, UiAsset, UiSource};
pub use response::PRODUCT_HEADER;

/// Elasticsearch's default `http.max_content_length`.
pub const DEFAULT_MAX_CONTENT_LENGTH: usize = 100 * 1024 * 1024;
/// The Elasticsearch version Logfleet reports, which decides the official clients' behaviour.
pub const ELASTICSEARCH_VERSION: &str = "8.17.0";

/// Settings of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `cluster_name` in `GET /`.
    pub cluster_name: String,
    /// Node `name` in `GET /`.
    pub node_name: String,
    /// `cluster_uuid` in `GET /`.
    pub cluster_uuid: String,
    /// When the data directory was initialised, epoch milliseconds (the license's issue date).
    pub cluster_created_ms: i64,
    /// Largest accepted request body, after decompression.
    pub max_content_length: usize,
    /// The address clients reach the API at, which `GET /_nodes` publishes for sniffing.
    pub publish_address: Option<std::net::SocketAddr>,
    /// Where the web UI's files come from.
    pub ui: UiSource,
    /// Where the `geoip` processor finds its databases; `None` for none.
    pub geoip_directory: Option<std::path::PathBuf>,
    /// How alerts send email (`[alerts.smtp]`); `None` for not at all.
    pub smtp: Option<logfleet_alerts::notify::SmtpConfig>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            cluster_name: "logfleet".to_owned(),
            node_name: "logfleet".to_owned(),
            cluster_uuid: "_na_".to_owned(),
            cluster_created_ms: 0,
            max_content_length: DEFAULT_MAX_CONTENT_LENGTH,
            publish_address: None,
            ui: UiSource::default(),
            geoip_directory: None,
            smtp: None,
        }
    }
}

/// What handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The write path every input shares.
    pub ingest: logfleet_ingest::Ingest,
    /// The stored ingest pipelines.
    pub pipelines: Arc<Pipelines>,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// Open scrolls.
    pub scrolls: Arc<handlers::search::Scrolls>,
    /// Per-partition aggregation results.
    pub request_cache: Arc<logfleet_query::RequestCache>,
    /// Open points in time.
    pub points_in_time: Arc<handlers::pit::PointsInTime>,
    /// Alert rules and their alerts.
    pub alerts: logfleet_alerts::Alerts,
}

impl AppState {
    /// State over `store`, with the ingest pipelines stored in it.
    pub fn new(store: Store, config: ApiConfig) -> AppState {
        let resources = match &config.geoip_directory {
            Some(directory) => Resources::with_geoip_directory(directory),
            None => Resources::default(),
        };
        let pipelines = Arc::new(Pipelines::new(resources));
        handlers::ingest::install_builtin(&store);
        handlers::ingest::load_pipelines(&store, &pipelines);
        let ingest = logfleet_ingest::Ingest::new(store.clone(), pipelines.clone());
        let request_cache: Arc<logfleet_query::RequestCache> = Arc::default();
        let options = logfleet_alerts::Options {
            smtp: config.smtp.clone(),
            request_cache: Some(request_cache.clone()),
            ..logfleet_alerts::Options::default()
        };
        let alerts = logfleet_alerts::Alerts::open(store.clone(), ingest.clone(), options)
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "alerting could not start; starting with no rules");
                logfleet_alerts::Alerts::empty(store.clone(), ingest.clone())
            });
        AppState {
            alerts,
            ingest,
            store,
            pipelines,
            config: Arc::new(config),
            scrolls: Arc::default(),
            request_cache,
            points_in_time: Arc::default(),
        }
    }
}

impl AppState {
    /// Stores the pipelines the configuration defines (`[ingest.pipelines.<id>]`), replacing
    /// stored ones of the same ids; one that does not compile is an error naming it.
    pub fn install_configured_pipelines(
        &self,
        configured: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Result<(), ApiError> {
        handlers::ingest::install_configured(&self.store, &self.pipelines, configured)
    }
}

/// The router for the whole API.
pub fn router(state: AppState) -> Router {
    use handlers::{
        aliases, bulk, by_query, cat, cluster, data_streams, documents, ilm, indices, ingest, pit,
        root, search, stats, templates, update, xpack,
    };
    use logfleet::{alerts, dashboards, export, saved_searches, tail, ui};
    let routes = Router::new()
        .route("/", get(root::info).head(root::head))
        .route("/_ui", get(ui::serve))
        .route("/_ui/", get(ui::serve))
        .route("/_ui/{*path}", get(ui::serve))
        .route(
            "/_logfleet/saved-searches",
            get(saved_searches::list).post(saved_searches::create),
        )
        .route(
            "/_logfleet/saved-searches/{id}",
            get(saved_searches::get)
                .put(saved_searches::put)
                .delete(saved_searches::delete),
        )
        .route(
            "/_logfleet/dashboards",
            get(dashboards::list).post(dashboards::create),
        )
        .route(
            "/_logfleet/dashboards/{id}",
            get(dashboards::get)
                .put(dashboards::put)
                .delete(dashboards::delete),
        )
        .route("/_logfleet/export", post(export::export))
        .route("/_logfleet/alerts", get(alerts::active))
        .route("/_logfleet/alerts/rules", get(alerts::list_rules))
        .route("/_logfleet/alerts/rules/_preview", post(alerts::preview))
        .route(
            "/_logfleet/alerts/rules/{id}/_preview",
            get(alerts::preview_stored),
        )
        .route(
            "/_logfleet/alerts/silences",
            get(alerts::list_silences).post(alerts::create_silence),
        )
        .route(
            "/_logfleet/alerts/silences/{id}",
            delete(alerts::delete_silence),
        )
        .route(
            "/_logfleet/alerts/rules/{id}",
            get(alerts::get_rule)
                .put(alerts::put_rule)
                .delete(alerts::delete_rule),
        )
        .route("/_logfleet/tail", get(tail::tail))
        .route("/_otlp/v1/logs", post(handlers::otlp::logs))
        .route("/_ingest/pipeline", get(ingest::get_all_pipelines))
        .route(
            "/_ingest/pipeline/_simulate",
            get(ingest::simulate_inline).post(ingest::simulate_inline),
        )
        .route(
            "/_ingest/pipeline/{id}",
            get(ingest::get_pipelines)
                .put(ingest::put_pipeline)
                .delete(ingest::delete_pipeline),
        )
        .route(
            "/_ingest/pipeline/{id}/_simulate",
            get(ingest::simulate_stored).post(ingest::simulate_stored),
        )
        .route("/_ingest/processor/grok", get(ingest::grok_patterns))
        .route(
            "/_ingest/_simulate",
            get(ingest::simulate_ingest_all).post(ingest::simulate_ingest_all),
        )
        .route(
            "/_ingest/{index}/_simulate",
            get(ingest::simulate_ingest_index).post(ingest::simulate_ingest_index),
        )
        .route("/_bulk", post(bulk::bulk).put(bulk::bulk))
        .route(
            "/{index}/_bulk",
            post(bulk::bulk_index).put(bulk::bulk_index),
        )
        .route("/_search", get(search::search_all).post(search::search_all))
        .route(
            "/{index}/_search",
            get(search::search_index).post(search::search_index),
        )
        .route("/{index}/_pit", post(pit::open))
        .route("/_pit", delete(pit::close))
        .route(
            "/_search/scroll",
            get(search::scroll_next)
                .post(search::scroll_next)
                .delete(search::clear_scroll),
        )
        .route(
            "/_search/scroll/{scroll_id}",
            get(search::scroll_next_by_path)
                .post(search::scroll_next_by_path)
                .delete(search::clear_scroll_by_path),
        )
        .route(
            "/_msearch",
            get(search::msearch_all).post(search::msearch_all),
        )
        .route(
            "/{index}/_msearch",
            get(search::msearch_index).post(search::msearch_index),
        )
        .route("/_count", get(search::count_all).post(search::count_all))
        .route(
            "/{index}/_count",
            get(search::count_index).post(search::count_index),
        )
        .route(
            "/_refresh",
            post(indices::refresh_all).get(indices::refresh_all),
        )
        .route(
            "/{index}/_refresh",
            post(indices::refresh_index).get(indices::refresh_index),
        )
        .route("/_mapping", get(indices::get_mapping_all))
        .route("/_mappings", get(indices::get_mapping_all))
        .route("/{index}/_mappings", get(indices::get_mapping))
        .route(
            "/_settings",
            get(indices::get_settings_all).put(indices::put_settings_all),
        )
        .route("/_settings/{name}", get(indices::get_settings_all_named))
        .route(
            "/{index}/_settings",
            get(indices::get_settings).put(indices::put_settings),
        )
        .route(
            "/{index}/_settings/{name}",
            get(indices::get_settings_named),
        )
        .route(
            "/_field_caps",
            get(indices::field_caps_all).post(indices::field_caps_all),
        )
        .route(
            "/{index}/_field_caps",
            get(indices::field_caps_index).post(indices::field_caps_index),
        )
        .route("/_resolve/index/{name}", get(indices::resolve_index))
        .route(
            "/{index}/_mapping",
            get(indices::get_mapping)
                .put(indices::put_mapping)
                .post(indices::put_mapping),
        )
        .route("/{index}/_doc", post(documents::index_auto_id))
        .route(
            "/{index}/_doc/{id}",
            put(documents::index_with_id)
                .post(documents::index_with_id)
                .get(documents::get_document)
                .head(documents::head_document)
                .delete(documents::delete_document),
        )
        .route(
            "/{index}/_create/{id}",
            put(documents::create_with_id).post(documents::create_with_id),
        )
        .route(
            "/{index}/_source/{id}",
            get(documents::get_source).head(documents::head_source),
        )
        .route("/{index}/_update/{id}", post(update::update_document))
        .route("/_mget", get(documents::mget_all).post(documents::mget_all))
        .route(
            "/{index}/_mget",
            get(documents::mget_index).post(documents::mget_index),
        )
        .route("/_cat/indices", get(cat::indices_all))
        .route("/_cat/indices/{index}", get(cat::indices))
        .route("/_cat/health", get(cat::health))
        .route("/_cat/aliases", get(cat::aliases_all))
        .route("/_cat/count", get(cat::count_all).post(cat::count_all))
        .route("/_cat/count/{index}", get(cat::count).post(cat::count))
        .route("/_cat/templates", get(cat::templates_all))
        .route("/_cat/templates/{name}", get(cat::templates))
        .route("/_cat/aliases/{name}", get(cat::aliases))
        .route("/_aliases", post(aliases::update).get(aliases::get_all))
        .route("/_alias", get(aliases::get_all))
        .route("/{index}/_rollover", post(aliases::rollover))
        .route("/{index}/_delete_by_query", post(by_query::delete_by_query))
        .route("/{index}/_update_by_query", post(by_query::update_by_query))
        .route("/{index}/_rollover/{new_index}", post(aliases::rollover_to))
        .route(
            "/_alias/{name}",
            get(aliases::get_named).head(aliases::exists),
        )
        .route("/{index}/_alias", get(aliases::get_for_index))
        .route("/{index}/_aliases", get(aliases::get_for_index))
        .route(
            "/{index}/_alias/{name}",
            put(aliases::put)
                .post(aliases::put)
                .get(aliases::get_named_for_index)
                .head(aliases::exists_for_index)
                .delete(aliases::delete),
        )
        .route(
            "/{index}/_aliases/{name}",
            put(aliases::put)
                .post(aliases::put)
                .get(aliases::get_named_for_index)
                .head(aliases::exists_for_index)
                .delete(aliases::delete),
        )
        .route("/_license", get(xpack::license))
        .route("/_xpack", get(xpack::info))
        .route("/_ilm/status", get(ilm::status))
        .route("/{index}/_ilm/explain", get(ilm::explain))
        .route("/_ilm/policy", get(ilm::get_all))
        .route(
            "/_ilm/policy/{name}",
            put(ilm::put).get(ilm::get).delete(ilm::delete),
        )
        .route("/_cluster/health", get(cluster::health))
        .route(
            "/_cluster/settings",
            get(cluster::get_settings).put(cluster::put_settings),
        )
        .route("/_stats", get(stats::stats_all))
        .route("/_stats/{metric}", get(stats::stats_all_metric))
        .route("/{index}/_stats", get(stats::stats_index))
        .route("/{index}/_stats/{metric}", get(stats::stats_index_metric))
        .route("/_nodes/stats", get(stats::nodes_stats))
        .route("/_nodes/stats/{metric}", get(stats::nodes_stats_metric))
        .route("/_nodes/{node_id}/stats", get(stats::node_stats_by_id))
        .route(
            "/_nodes/{node_id}/stats/{metric}",
            get(stats::node_stats_by_id_metric),
        )
        .route("/_cluster/stats", get(stats::cluster_stats))
        .route("/_nodes", get(cluster::nodes))
        .route("/_nodes/{filter}", get(cluster::nodes_filtered))
        .route(
            "/_nodes/{nodes}/{metrics}",
            get(cluster::nodes_filtered_twice),
        )
        .route("/_component_template", get(templates::get_all_components))
        .route(
            "/_component_template/{name}",
            put(templates::put_component)
                .post(templates::put_component)
                .get(templates::get_component)
                .head(templates::head_component)
                .delete(templates::delete_component),
        )
        .route("/_template", get(templates::get_all_legacy))
        .route(
            "/_template/{name}",
            put(templates::put_legacy)
                .post(templates::put_legacy)
                .get(templates::get_legacy)
                .head(templates::head_legacy)
                .delete(templates::delete_legacy),
        )
        .route("/_cluster/health/{index}", get(cluster::health_index))
        .route("/_index_template", get(templates::get_all))
        .route(
            "/_index_template/_simulate_index/{name}",
            post(templates::simulate_index).get(templates::simulate_index),
        )
        .route(
            "/_index_template/{name}",
            put(templates::put)
                .post(templates::put)
                .get(templates::get)
                .delete(templates::delete)
                .head(templates::head),
        )
        .route("/_data_stream", get(data_streams::get_all))
        .route(
            "/_data_stream/{name}",
            put(data_streams::create)
                .get(data_streams::get)
                .delete(data_streams::delete),
        )
        .route(
            "/_data_stream/{name}/_lifecycle",
            put(data_streams::put_lifecycle)
                .get(data_streams::get_lifecycle)
                .delete(data_streams::delete_lifecycle),
        )
        .route(
            "/{index}",
            put(indices::create)
                .get(indices::get)
                .head(indices::exists)
                .delete(indices::delete),
        )
        .fallback(no_handler)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    // Date math in the path's index expression is resolved before routing, so it wraps the
    // routes; Elasticsearch's headers go on everything, date math errors included.
    let resolving = tower::Layer::layer(
        &axum::middleware::from_fn(date_math::resolve_in_path),
        routes,
    );
    Router::new()
        .fallback_service(resolving)
        .layer(axum::middleware::from_fn(response::elasticsearch_headers))
}

/// The router of the OTLP/HTTP port (`[inputs.otlp]`): `POST /v1/logs`, as OpenTelemetry
/// exporters send it.
pub fn otlp_router(state: AppState) -> Router {
    Router::new()
        .route("/v1/logs", post(handlers::otlp::logs))
        .with_state(state)
}

/// A path no endpoint answers; in the error object every error has, for the tools that read
/// `error.type`.
async fn no_handler(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "resource_not_found_exception",
        format!("no handler found for uri [{uri}] and method [{method}]"),
    )
    .into_response()
}

/// An endpoint asked with a method it does not answer (the router adds `Allow`).
async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "illegal_argument_exception",
        format!("Incorrect HTTP method for uri [{uri}] and method [{method}]"),
    )
    .into_response()
}
