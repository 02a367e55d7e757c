//! Any text in `q=` or a `query_string` query: Lucene syntax parsing must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logfleet_query::{QueryStringOptions, parse_lucene};

fuzz_target!(|text: &str| {
    let _ = parse_lucene(text, &QueryStringOptions::default());
});
