//! `_source` comes back byte for byte as it was sent, although the doc store keeps only what
//! the columns cannot give back: random documents — nested objects, arrays, escapes, odd
//! number spellings, whitespace — through a real store, before and after a restart. Keys
//! repeat across documents (so types clash) but not within one object, which is rejected as
//! Elasticsearch rejects it.

use std::fmt::Write as _;

use logfleet_model::json::JsonObject;
use logfleet_store::{DocumentOp, Store, StoreConfig, WriteRequest};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// One member value, spelled as a client might spell it.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-z]{1,8}".prop_map(|text| format!("\"{text}\"")),
        Just("\"\"".to_owned()),
        Just(r#""quote \" and \\ and \u00e9""#.to_owned()),
        Just("\"caf\u{e9} \u{1f600}\"".to_owned()),
        any::<i32>().prop_map(|number| number.to_string()),
        any::<i64>().prop_map(|number| number.to_string()),
        (0u32..100_000, 0u32..1000).prop_map(|(whole, fraction)| format!("{whole}.{fraction}")),
        (0u32..1000).prop_map(|whole| format!("{whole}.0")),
        Just("1e3".to_owned()),
        Just("-0.5".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec(("[a-e]{1,2}", inner), 1..4).prop_map(|members| {
                let mut seen = std::collections::HashSet::new();
                let body: Vec<String> = members
                    .into_iter()
                    .filter(|(key, _)| seen.insert(key.clone()))
                    .map(|(key, value)| format!("\"{key}\":{value}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

/// A document: members with keys drawn from a small set (so type clashes occur across
/// documents), random whitespace, sometimes a dotted key.
fn document() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        "[a-z]{1,2}",
        Just("a.b".to_owned()),
        Just("x\\ty".to_owned())
    ];
    let space = prop_oneof![Just(""), Just(" "), Just("\n  ")];
    prop::collection::vec((key, value(), space.clone(), space), 1..8).prop_map(|members| {
        let mut text = String::from("{");
        let mut seen = std::collections::HashSet::new();
        let members = members
            .into_iter()
            .filter(|(key, ..)| seen.insert(key.clone()));
        for (index, (key, value, space, after)) in members.enumerate() {
            if index > 0 {
                text.push(',');
            }
            let _ = write!(text, "{space}\"{key}\"{space}:{space}{value}{after}");
        }
        text.push('}');
        text
    })
}

#[test]
fn sources_read_back_byte_for_byte() {
    let directory = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = StoreConfig::new(directory.path());
    config.refresh_interval = None;
    let store = Store::open(config.clone()).unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 40,
        ..Config::default()
    });
    let written: std::cell::RefCell<Vec<(String, String, String)>> = Default::default();
    let cases = std::cell::Cell::new(0);
    runner
        .run(&prop::collection::vec(document(), 1..20), |documents| {
            // Each case writes to indexes of its own, so that clashes stay within a case and
            // the number of documents accepted does not hang on the first cases' luck.
            let case = cases.replace(cases.get() + 1);
            for (index, text) in documents.into_iter().enumerate() {
                // Plain indexes map strings as `text` (inline), data streams as `keyword`
                // (from the column).
                let (target, op, text) = if index % 2 == 0 {
                    (format!("docs-{case}"), DocumentOp::Index, text)
                } else {
                    let text =
                        text.replacen('{', r#"{"@timestamp":"2026-11-26T10:00:00.123456Z","#, 1);
                    (format!("logs-test-{case}"), DocumentOp::Create, text)
                };
                // Decoded from the bytes that are stored, as the API does.
                let source = bytes::Bytes::from(text.clone().into_bytes());
                let Ok(parsed) = JsonObject::from_slice(&source) else {
                    continue;
                };
                let id = format!("d{}", written.borrow().len());
                let request = WriteRequest::Document {
                    target: target.clone(),
                    op,
                    id: Some(id.clone()),
                    source: source.clone(),
                    parsed,
                };
                // Type clashes with earlier documents are rejected, as they should be.
                let Ok(prepared) = store.prepare(request) else {
                    continue;
                };
                let outcome = runtime.block_on(store.execute(vec![prepared])).unwrap();
                if outcome[0].is_ok() {
                    written.borrow_mut().push((target, id, text));
                }
            }
            Ok(())
        })
        .unwrap();
    let written = written.into_inner();
    assert!(
        written.len() > 50,
        "the test wrote too little: {}",
        written.len()
    );
    let check = |store: &Store, moment: &str| {
        for (target, id, text) in &written {
            let stored = runtime.block_on(store.get(target, id)).unwrap().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&stored.source),
                text.as_str(),
                "{moment}: {id}"
            );
        }
    };
    check(&store, "fresh");
    runtime.block_on(store.shutdown()).unwrap();

    let store = Store::open(config).unwrap();
    check(&store, "after a restart");
    runtime.block_on(store.shutdown()).unwrap();
}
