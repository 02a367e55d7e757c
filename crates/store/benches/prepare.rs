//! What one `_bulk` item costs on a request thread before it reaches the write-ahead log:
//! decoding its source and preparing the store write to a data stream (dynamic mapping, typed values, the
//! `_source` skeleton, the tantivy document). `logfleet bench ingest` measures the whole
//! path; this isolates the part that runs per document on the HTTP threads.
//!
//! `cargo bench -p logfleet-store --bench prepare`

use divan::Bencher;
use divan::counter::ItemsCount;
use logfleet_model::json::JsonObject;
use logfleet_store::{DocumentOp, Store, StoreConfig, WriteRequest};

/// The server's allocator: allocation is a large part of this path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

/// One event of each category, as `logfleet bench ingest` generates them.
const EVENTS: &[&str] = &[
    r#"{"@timestamp":"2026-11-26T19:14:07.950000Z","log_category":"database","level":"debug","app_name":"auth","service_type":"proxy_service","environment":"production","host":"auth-1","service_version":"1.4.0","request_id":"bc6674d09f2b33fc00000001","message":"PAYMENT_READ took 47.8ms","db_operation":"PAYMENT_READ","db_entity":"PAYMENT","db_action":"read","duration_ms":47.79,"rows_affected":1,"slow_query":false,"username":"user2450"}"#,
    r#"{"@timestamp":"2026-11-26T19:14:07.959000Z","log_category":"inter_service","level":"info","app_name":"access_postgresql","service_type":"data_manager","environment":"production","host":"access_postgresql-0","service_version":"1.2.0","request_id":"641e8fdc4e04936200000002","message":"DELETE payments 200","target_service":"payments","target_url":"http://payments:4000/api/v2/prices/33239/items/","http_method":"DELETE","status_code":200,"response_category":"success","duration_ms":45.384,"retry_count":0}"#,
    r#"{"@timestamp":"2026-11-26T19:14:07.968000Z","log_category":"api_request","level":"info","app_name":"user_service","service_type":"proxy_service","environment":"production","host":"user_service-0","service_version":"1.2.0","request_id":"256e36e28b6f17ab00000003","message":"GET /api/v3/users/{id}/items/ 200 3.5ms","action_type":"ADDRESSES_GET","http_method":"GET","path":"/api/v3/users/81915/items/","endpoint_signature":"GET /api/v3/users/{id}/items/","status_code":200,"response_category":"success","duration_ms":3.475,"request_size":906,"response_size":1070,"client_ip":"96.21.245.238","user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36","user_id":"u111","user_name":"user111"}"#,
    r#"{"@timestamp":"2026-11-26T19:14:08.040000Z","log_category":"audit","level":"info","app_name":"checkout","service_type":"proxy_service","environment":"production","host":"checkout-1","service_version":"1.3.0","request_id":"f58d3dc95840c0ec0000000b","message":"LOGIN_SUCCESS user1164","user_action":"LOGIN_SUCCESS","user_id":"u1164","user_name":"user1164","success":true,"client_ip":"36.0.175.26","session_id":"s1f6f3a4321f"}"#,
    r#"{"@timestamp":"2026-11-26T19:14:08.166000Z","log_category":"performance","level":"info","app_name":"shipping","service_type":"proxy_service","environment":"production","host":"shipping-2","service_version":"1.3.0","request_id":"198e29f77f25041400000019","message":"performance sample","cpu_percent":41.27,"memory_rss_bytes":86809477,"requests_per_minute":630.2,"duration_ms_p50":8.95,"duration_ms_p95":26.86,"duration_ms_p99":62.67,"open_connections":123,"db_pool_in_use":0}"#,
];

/// A write of `source`, decoded in place as the API decodes a slice of the request body.
fn request(source: &'static str) -> WriteRequest<'static> {
    WriteRequest::Document {
        target: "logs-bench-default".to_owned(),
        op: DocumentOp::Create,
        id: None,
        source: bytes::Bytes::from_static(source.as_bytes()),
        parsed: JsonObject::from_slice(source.as_bytes()).unwrap(),
    }
}

#[divan::bench]
fn decode_and_prepare(bencher: Bencher<'_, '_>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _context = runtime.enter();
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::new(directory.path())).unwrap();
    // The first documents add their fields to the mapping; measure the steady state.
    for event in EVENTS {
        store.prepare(request(event)).unwrap();
    }
    let mut next = 0;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        let event = EVENTS[next % EVENTS.len()];
        next += 1;
        store.prepare(request(event)).unwrap()
    });
}
