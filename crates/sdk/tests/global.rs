//! `init()`: the SDK as the process's global subscriber (its own test binary, since a global
//! subscriber can be installed once per process), with a multi-threaded runtime where a
//! handler may resume on another thread after an `.await`.

mod common;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use common::{assert_common_fields, builder};
use logfleet_model::{LogCategory, fields};
use logfleet_sdk::{ApiRequestLayer, Error, MemoryWriter};
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_installs_a_global_subscriber_that_follows_requests_across_threads() {
    let output = MemoryWriter::new();
    let guard = builder(&output).init().unwrap();
    assert!(matches!(
        builder(&MemoryWriter::new()).init(),
        Err(Error::GlobalSubscriberAlreadySet)
    ));

    let app = Router::new()
        .route(
            "/work",
            get(|| async {
                for step in 0..5 {
                    // Each sleep may resume on the other worker thread.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    tokio::task::yield_now().await;
                    tracing::info!(step, "step done");
                }
                "done"
            }),
        )
        .layer(ApiRequestLayer::new());
    let requests = (0..8).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            app.oneshot(Request::builder().uri("/work").body(Body::empty()).unwrap())
                .await
                .unwrap()
        })
    });
    for request in requests {
        assert!(request.await.unwrap().status().is_success());
    }
    // Handles work from any thread; this one is not the test's.
    let handle = logfleet_sdk::handle().expect("the global subscriber has the sdk");
    assert!(handle.flush_async(Duration::from_secs(10)).await);

    let events = output.events();
    let requests: Vec<_> = events
        .iter()
        .filter(|event| event.get(fields::STATUS_CODE).is_some())
        .collect();
    assert_eq!(requests.len(), 8);
    for request in &requests {
        assert_common_fields(request);
        let request_id = request.get_str(fields::REQUEST_ID).unwrap();
        let steps = events
            .iter()
            .filter(|event| {
                event.message() == Some("step done")
                    && event.get_str(fields::REQUEST_ID) == Some(request_id)
            })
            .count();
        assert_eq!(steps, 5, "every step of request {request_id}");
    }
    assert!(
        events
            .iter()
            .all(|event| event.log_category() == Some(LogCategory::ApiRequest))
    );
    assert!(guard.shutdown_async(Duration::from_secs(5)).await);
}
