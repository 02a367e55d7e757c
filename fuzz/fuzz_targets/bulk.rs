//! Any `_bulk` body: NDJSON decoding must answer with items or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = logfleet_ingest::parse_bulk(body, Some("logs"), None);
});
