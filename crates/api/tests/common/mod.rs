//! The in-process harness: the router over a real store in a temporary directory, called
//! with `oneshot`.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use logfleet_api::{ApiConfig, AppState, router};
use logfleet_store::{Store, StoreConfig};
use serde_json::Value;
use tower::ServiceExt;

pub struct Harness {
    pub router: axum::Router,
    pub store: Store,
    max_content_length: usize,
    directory: tempfile::TempDir,
    configure: fn(&mut StoreConfig),
}

pub fn harness(max_content_length: usize) -> Harness {
    open(tempfile::tempdir().unwrap(), max_content_length, |_| {})
}

/// A harness whose store settings `configure` changes (at every restart too).
pub fn harness_with(max_content_length: usize, configure: fn(&mut StoreConfig)) -> Harness {
    open(tempfile::tempdir().unwrap(), max_content_length, configure)
}

fn open(
    directory: tempfile::TempDir,
    max_content_length: usize,
    configure: fn(&mut StoreConfig),
) -> Harness {
    let mut config = StoreConfig::new(directory.path());
    config.refresh_interval = None;
    configure(&mut config);
    let store = Store::open(config).unwrap();
    let api = ApiConfig {
        max_content_length,
        ..ApiConfig::default()
    };
    Harness {
        router: router(AppState::new(store.clone(), api)),
        store,
        max_content_length,
        directory,
        configure,
    }
}

impl Harness {
    /// Shuts the store down and opens the same data directory again.
    pub async fn restart(self) -> Harness {
        self.store.shutdown().await.unwrap();
        let Harness {
            router,
            store,
            max_content_length,
            directory,
            configure,
        } = self;
        drop((router, store));
        open(directory, max_content_length, configure)
    }
}

pub async fn call(
    harness: &Harness,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = harness.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value, headers)
}
