//! Any JSON a client may send as a search body: the query and aggregation parsers must
//! answer with a value or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logfleet_query::{SearchRequest, SearchUrlParameters, parse_aggregations, parse_query};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = parse_query(&body);
    let _ = parse_aggregations(&body);
    let _ = SearchRequest::parse(Some(&body), &SearchUrlParameters::default());
});
