//! What the alerting tests share: a store with an ingest path and the engine over it, a
//! local HTTP receiver, and the seed's request events.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use logfleet_alerts::state::Transition;
use logfleet_alerts::{Alerts, HISTORY_STREAM, Options};
use logfleet_ingest::{Event, Ingest};
use logfleet_pipeline::{Pipelines, Resources};
use logfleet_store::{Store, StoreConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// 2026-12-07T12:00:00Z.
pub const NOON: i64 = 1_796_644_800_000;
pub const MINUTE: i64 = 60_000;

/// A local HTTP receiver: records each JSON body, answers with the queued statuses (then 200).
#[derive(Clone, Default)]
pub struct Receiver {
    pub bodies: Arc<Mutex<Vec<Value>>>,
    pub statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    pub async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let receiver = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let receiver = receiver.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0_u8; 8192];
                    let body = loop {
                        let read = stream.read(&mut buffer).await.unwrap_or(0);
                        if read == 0 {
                            return;
                        }
                        request.extend_from_slice(&buffer[..read]);
                        let text = String::from_utf8_lossy(&request).to_string();
                        if let Some((head, body)) = text.split_once("\r\n\r\n") {
                            let length: usize = head
                                .lines()
                                .find_map(|line| {
                                    let (name, value) = line.split_once(':')?;
                                    name.eq_ignore_ascii_case("content-length")
                                        .then(|| value.trim().parse().ok())?
                                })
                                .unwrap_or(0);
                            if body.len() >= length {
                                break body[..length].to_owned();
                            }
                        }
                    };
                    receiver
                        .bodies
                        .lock()
                        .unwrap()
                        .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                    let status = receiver.statuses.lock().unwrap().pop_front().unwrap_or(200);
                    let answer = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        format!("http://{address}/hook")
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..100 {
            if self.bodies().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.bodies()
    }
}

pub struct Harness {
    pub store: Store,
    pub ingest: Ingest,
    pub alerts: Alerts,
    pub _directory: tempfile::TempDir,
}

pub fn open(directory: tempfile::TempDir) -> Harness {
    open_with(directory, Options::default())
}

/// As [`open`], with `options` (deliveries retried after 20 ms).
pub fn open_with(directory: tempfile::TempDir, options: Options) -> Harness {
    let mut config = StoreConfig::new(directory.path().join("data"));
    config.refresh_interval = None;
    let store = Store::open(config).unwrap();
    let ingest = Ingest::new(
        store.clone(),
        Arc::new(Pipelines::new(Resources::default())),
    );
    let options = Options {
        first_retry: Duration::from_millis(20),
        ..options
    };
    let alerts = Alerts::open(store.clone(), ingest.clone(), options).unwrap();
    Harness {
        store,
        ingest,
        alerts,
        _directory: directory,
    }
}

impl Harness {
    pub async fn send(&self, events: &[Value]) {
        let events = events
            .iter()
            .map(|event| Event {
                index: "logs-api_request-default".into(),
                source: Bytes::from(event.to_string()),
            })
            .collect();
        let outcome = self.ingest.write_events(events).await;
        assert_eq!(outcome.rejected + outcome.retry, 0, "{outcome:?}");
        self.store.refresh().await.unwrap();
    }

    pub async fn history(&self) -> Vec<Value> {
        self.store.refresh().await.unwrap();
        let shards = self
            .store
            .search_shards(HISTORY_STREAM, true)
            .await
            .unwrap();
        let request = logfleet_query::SearchRequest::parse(
            Some(&json!({"size": 100, "sort": [{"@timestamp": "asc"}]})),
            &Default::default(),
        )
        .unwrap();
        let context = logfleet_query::SearchContext {
            fields: self.store.fields(),
            now_millis: NOON,
            request_cache: None,
        };
        let found = logfleet_query::search(&shards, &request, &context).unwrap();
        found["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["_source"].clone())
            .collect()
    }
}

pub fn request(at: i64, app: &str, status: u16, duration_ms: f64) -> Value {
    json!({
        "@timestamp": logfleet_time::format_epoch_millis(at),
        "app_name": app,
        "status_code": status,
        "duration_ms": duration_ms,
        "level": "info",
    })
}

pub fn transitions(notices: &[logfleet_alerts::notify::Notice]) -> Vec<(String, Transition)> {
    notices
        .iter()
        .map(|notice| {
            let app = notice
                .alert
                .group
                .get("app_name")
                .and_then(Value::as_str)
                .unwrap_or("-")
                .to_owned();
            (app, notice.transition)
        })
        .collect()
}
