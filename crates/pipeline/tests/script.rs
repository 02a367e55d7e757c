//! The Painless subset end to end: conditions and scripts from Elastic's integration
//! pipelines, each operator and method, and the limits.

use logfleet_model::json::{JsonObject, JsonValue};
use logfleet_pipeline::script::Script;
use logfleet_pipeline::{IngestDocument, PipelineError};

fn document(json: &str) -> IngestDocument<'static> {
    let source = JsonObject::from_slice(json.as_bytes())
        .expect("test documents are JSON objects")
        .into_owned();
    IngestDocument::new("logs-test-default", source)
}

fn no_params() -> JsonObject<'static> {
    JsonObject::default()
}

/// Evaluates `condition` against `json`.
fn condition(source: &str, json: &str) -> Result<bool, PipelineError> {
    let script = Script::compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
    script.test(&document(json), &no_params())
}

fn holds(source: &str, json: &str) -> bool {
    condition(source, json).unwrap_or_else(|error| panic!("{source}: {error:?}"))
}

/// Runs `source` as a script processor on `json`; the document afterwards.
fn run(source: &str, json: &str) -> IngestDocument<'static> {
    let script = Script::compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
    let mut doc = document(json);
    script
        .execute(&mut doc, &no_params())
        .unwrap_or_else(|error| panic!("{source}: {error:?}"));
    doc
}

fn run_error(source: &str, json: &str) -> PipelineError {
    let script = Script::compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
    let mut doc = document(json);
    match script.execute(&mut doc, &no_params()) {
        Ok(()) => panic!(
            "{source} succeeded: {}",
            serde_json::to_string(&doc.source).unwrap()
        ),
        Err(error) => error,
    }
}

fn source_of(doc: &IngestDocument<'_>) -> String {
    serde_json::to_string(&doc.source).unwrap()
}

/// The JSON of `expression`, evaluated by a script.
fn value(expression: &str) -> String {
    let doc = run(&format!("ctx.result = {expression}"), "{}");
    doc.source
        .get("result")
        .map(JsonValue::to_string)
        .unwrap_or_default()
}

fn value_error(expression: &str) -> PipelineError {
    run_error(&format!("ctx.result = {expression}"), "{}")
}

#[test]
fn conditions_from_integration_pipelines() {
    let url = "ctx?.url?.original != null && ctx.url.original.contains('?')";
    assert!(holds(url, r#"{"url":{"original":"/a?b=1"}}"#));
    assert!(!holds(url, r#"{"url":{"original":"/a"}}"#));
    assert!(!holds(url, r#"{"url":{}}"#));
    assert!(!holds(url, "{}"));

    let failure = "ctx.event?.outcome == 'failure' || (ctx.http?.response?.status_code != null && ctx.http.response.status_code >= 400)";
    assert!(holds(failure, r#"{"event":{"outcome":"failure"}}"#));
    assert!(holds(
        failure,
        r#"{"http":{"response":{"status_code":503}}}"#
    ));
    assert!(!holds(
        failure,
        r#"{"http":{"response":{"status_code":200}}}"#
    ));
    assert!(!holds(failure, r#"{"event":{"outcome":"success"}}"#));
    assert!(!holds(failure, "{}"));

    let tags = "ctx.tags == null || !(ctx.tags instanceof List)";
    assert!(holds(tags, "{}"));
    assert!(holds(tags, r#"{"tags":"one"}"#));
    assert!(!holds(tags, r#"{"tags":["one"]}"#));

    assert!(holds(
        "ctx.event?.dataset == 'nginx.access' && ctx.source?.ip != null",
        r#"{"event":{"dataset":"nginx.access"},"source":{"ip":"10.0.0.1"}}"#
    ));
    assert!(holds(
        "ctx.error?.message != null && ctx.error.message.startsWith('timeout')",
        r#"{"error":{"message":"timeout after 5s"}}"#
    ));
    assert!(holds(
        "ctx._index.startsWith('logs-') && ctx._index != 'logs-other'",
        "{}"
    ));
    assert!(holds(
        "ctx.containsKey('message') && ctx.message instanceof String",
        r#"{"message":"x"}"#
    ));
    assert!(holds(
        "ctx.process?.args?.size() > 1 && ctx.process.args[0] == 'sh'",
        r#"{"process":{"args":["sh","-c"]}}"#
    ));
}

#[test]
fn a_condition_must_return_a_boolean() {
    let error = condition("ctx.a", r#"{"a":"x"}"#).unwrap_err();
    assert_eq!(error.kind, "illegal_argument_exception");
    assert_eq!(
        error.reason,
        "condition script must return a boolean, but returned [java.lang.String]"
    );
    assert!(condition("ctx.missing", "{}").is_err());
    assert!(holds("return ctx.a == 1", r#"{"a":1}"#));
    assert!(holds(
        "def a = ctx.a; if (a > 1) { return true } return false",
        r#"{"a":2}"#
    ));
}

#[test]
fn a_condition_cannot_change_the_document() {
    for source in [
        "ctx.a = 1; true",
        "ctx.list.add(1); true",
        "ctx.remove('a'); true",
        "ctx.map.x = 1; true",
        "ctx['a'] = 1; true",
    ] {
        let error = condition(source, r#"{"a":1,"list":[],"map":{}}"#).unwrap_err();
        assert_eq!(error.kind, "unsupported_operation_exception", "{source}");
    }
    // Its own collections it may change.
    assert!(holds(
        "def seen = []; for (def tag : ctx.tags) { seen.add(tag) } seen.size() == 2",
        r#"{"tags":["a","b"]}"#
    ));
}

#[test]
fn scripts_from_integration_pipelines() {
    let wrap = "if (ctx.tags == null || !(ctx.tags instanceof List)) { ctx.tags = ctx.tags == null ? [] : [ctx.tags]; } ctx.tags.add('preserve_original_event')";
    assert_eq!(
        source_of(&run(wrap, r#"{"tags":"one"}"#)),
        r#"{"tags":["one","preserve_original_event"]}"#
    );
    assert_eq!(
        source_of(&run(wrap, r#"{"tags":["one"]}"#)),
        r#"{"tags":["one","preserve_original_event"]}"#
    );
    assert_eq!(
        source_of(&run(wrap, "{}")),
        r#"{"tags":["preserve_original_event"]}"#
    );

    let drop_empty = "for (def key : new ArrayList(ctx.keySet())) { if (ctx[key] == null || ctx[key] == '') { ctx.remove(key); } }";
    let doc = run(
        drop_empty,
        r#"{"a":"","b":null,"c":"kept","d":0,"e":{"f":""}}"#,
    );
    assert_eq!(source_of(&doc), r#"{"c":"kept","d":0,"e":{"f":""}}"#);
    assert!(doc.source_modified);
    assert_eq!(doc.target, "logs-test-default", "_index is not empty");

    let ssh = "if (ctx.system?.auth?.ssh?.event != null) { ctx.event.action = 'ssh_login'; }";
    assert_eq!(
        source_of(&run(
            ssh,
            r#"{"system":{"auth":{"ssh":{"event":"Accepted"}}},"event":{}}"#
        )),
        r#"{"system":{"auth":{"ssh":{"event":"Accepted"}}},"event":{"action":"ssh_login"}}"#
    );
    let untouched = run(ssh, r#"{"event":{}}"#);
    assert_eq!(source_of(&untouched), r#"{"event":{}}"#);
    assert!(!untouched.source_modified);

    // A recursive clean-up as in the `system` integration, with an explicit stack.
    let nested = r#"
        def stack = [ctx];
        while (!stack.isEmpty()) {
            Map current = stack.remove(stack.size() - 1);
            for (def key : new ArrayList(current.keySet())) {
                def child = current[key];
                if (child instanceof Map) { stack.add(child) }
                else if (child == null || (child instanceof String && child.trim().isEmpty())) { current.remove(key) }
            }
        }"#;
    assert_eq!(
        source_of(&run(
            nested,
            r#"{"a":{"b":" ","c":{"d":null,"e":1}},"f":"x"}"#
        )),
        r#"{"a":{"c":{"e":1}},"f":"x"}"#
    );

    // Splitting a field, as the `apache` and `haproxy` integrations do.
    let split = "String[] parts = ctx.raw.splitOnToken(':'); ctx.host = parts[0]; ctx.port = Integer.parseInt(parts[1]); ctx.count = parts.length";
    assert_eq!(
        source_of(&run(split, r#"{"raw":"example.com:8080"}"#)),
        r#"{"raw":"example.com:8080","host":"example.com","port":8080,"count":2}"#
    );

    // Renaming keys of a map while iterating over its entries.
    let rename = "def renamed = [:]; for (def entry : ctx.labels.entrySet()) { renamed[entry.getKey().toLowerCase()] = entry.getValue() } ctx.labels = renamed";
    assert_eq!(
        source_of(&run(rename, r#"{"labels":{"Env":"prod","Team":"a"}}"#)),
        r#"{"labels":{"env":"prod","team":"a"}}"#
    );

    // Converting units, with a typed local and an integer/double mix.
    let duration = "if (ctx.event?.duration != null) { long nanos = ctx.event.duration; ctx.event.duration_ms = nanos / 1000000; ctx.event.duration_s = nanos / 1e9 }";
    assert_eq!(
        source_of(&run(duration, r#"{"event":{"duration":2500000000}}"#)),
        r#"{"event":{"duration":2500000000,"duration_ms":2500,"duration_s":2.5}}"#
    );
}

#[test]
fn assignments_reach_nested_ctx_paths_and_literal_dotted_keys() {
    let doc = run(
        "ctx.a.b = 1; ctx['c'] = ['d': 2]; ctx.c.e = ctx.a.b + 1; ctx['x.y'] = 'literal'",
        r#"{"a":{}}"#,
    );
    assert_eq!(
        source_of(&doc),
        r#"{"a":{"b":1},"c":{"d":2,"e":2},"x.y":"literal"}"#
    );
    // A dotted key is one key when read, too.
    assert!(holds("ctx['a.b'] == 1 && ctx.a == null", r#"{"a.b":1}"#));
    assert!(holds("ctx['a']['b'] == 2", r#"{"a":{"b":2},"a.b":1}"#));
    // Painless does not create the maps on the way.
    let error = run_error("ctx.missing.field = 1", "{}");
    assert_eq!(error.kind, "null_pointer_exception");
    assert_eq!(error.reason, "cannot assign [field] of a null value at 1:1");
    // Compound assignments and increments on ctx paths and list items.
    let doc = run(
        "ctx.n += 2; ctx.n++; ++ctx.n; ctx.s += '!'; ctx.list[0] *= 10; ctx.list[-1]--; ctx.m['k'] -= 1",
        r#"{"n":1,"s":"hi","list":[1,2,3],"m":{"k":5}}"#,
    );
    assert_eq!(
        source_of(&doc),
        r#"{"n":5,"s":"hi!","list":[10,2,2],"m":{"k":4}}"#
    );
}

#[test]
fn maps_and_lists_are_shared_by_reference() {
    let doc = run(
        "def m = ctx.a; m.b = 1; def l = []; ctx.l = l; l.add('x'); ctx.copy = new HashMap(ctx.a); ctx.copy.c = 2",
        r#"{"a":{}}"#,
    );
    assert_eq!(
        source_of(&doc),
        r#"{"a":{"b":1},"l":["x"],"copy":{"b":1,"c":2}}"#
    );
    // The rename idiom: the value outlives its removal.
    let doc = run(
        "def old = ctx.remove('a'); ctx.b = old",
        r#"{"a":{"x":1},"z":0}"#,
    );
    assert_eq!(source_of(&doc), r#"{"z":0,"b":{"x":1}}"#);
}

#[test]
fn metadata_members_of_ctx() {
    let script = Script::compile(
        "ctx._index = 'logs-' + ctx.kind + '-default'; ctx._id = ctx._ingest.timestamp + '-1'",
    )
    .unwrap();
    let mut doc = document(r#"{"kind":"nginx"}"#);
    doc.ingest
        .insert("timestamp", JsonValue::from("2024-01-01T00:00:00Z"));
    script.execute(&mut doc, &no_params()).unwrap();
    assert_eq!(doc.target, "logs-nginx-default");
    assert_eq!(
        doc.metadata.get("_id").and_then(JsonValue::as_str),
        Some("2024-01-01T00:00:00Z-1")
    );
    assert_eq!(source_of(&doc), r#"{"kind":"nginx"}"#);
    assert!(!doc.source_modified, "only metadata changed");
    assert_eq!(
        doc.ingest.get("timestamp").and_then(JsonValue::as_str),
        Some("2024-01-01T00:00:00Z")
    );

    let mut doc = document("{}");
    doc.metadata.insert("_routing", JsonValue::from("r1"));
    let script = Script::compile(
        "ctx._routing == 'r1' && ctx._index == 'logs-test-default' && ctx._id == null",
    )
    .unwrap();
    assert!(script.test(&doc, &no_params()).unwrap());
    assert!(holds(
        "ctx.keySet().contains('_index') && !ctx.containsKey('_id')",
        "{}"
    ));
}

#[test]
fn params_are_readable() {
    let params = JsonObject::from_slice(br#"{"field":"a","limit":3,"tags":["x"]}"#).unwrap();
    let script =
        Script::compile("ctx[params.field].length() <= params.limit && params.tags.contains('x')")
            .unwrap();
    assert!(script.test(&document(r#"{"a":"abc"}"#), &params).unwrap());
    let script = Script::compile("ctx.copied = params.tags; ctx.copied.add(params.field)").unwrap();
    let mut doc = document("{}");
    script.execute(&mut doc, &params).unwrap();
    assert_eq!(source_of(&doc), r#"{"copied":["x","a"]}"#);
    assert_eq!(
        params.get("tags").map(JsonValue::to_string).as_deref(),
        Some(r#"["x"]"#)
    );
}

#[test]
fn null_safety() {
    let error = condition("ctx.missing.field == null", "{}").unwrap_err();
    assert_eq!(error.kind, "null_pointer_exception");
    assert_eq!(
        error.reason,
        "cannot access field [field] of a null value at 1:1"
    );
    assert!(holds("ctx.missing?.field == null", "{}"));
    assert!(holds("ctx.missing?.field?.deeper == null", "{}"));
    assert!(holds("ctx.missing?.size() == null", "{}"));
    assert!(holds("ctx.a?.size() == 2", r#"{"a":[1,2]}"#));
    assert!(holds("ctx.missing == null && ctx['missing'] == null", "{}"));
    assert!(holds("(ctx.missing ?: 'fallback') == 'fallback'", "{}"));
    assert!(holds(
        "(ctx.present ?: 'fallback') == 'here'",
        r#"{"present":"here"}"#
    ));
    assert!(holds("ctx.n != null", r#"{"n":0}"#));
    assert_eq!(
        condition("ctx.missing.size() > 0", "{}").unwrap_err().kind,
        "null_pointer_exception"
    );
    assert_eq!(
        condition("ctx.n < 1", r#"{"n":null}"#).unwrap_err().kind,
        "null_pointer_exception"
    );
    assert!(!holds("ctx.n == 1", r#"{"n":null}"#));
    assert!(holds("ctx.n != 1", r#"{"n":null}"#));
    assert_eq!(
        condition("ctx.flag", r#"{"flag":null}"#).unwrap_err().kind,
        "illegal_argument_exception"
    );
    assert_eq!(
        condition("ctx.flag && true", r#"{"flag":null}"#)
            .unwrap_err()
            .kind,
        "null_pointer_exception"
    );
}

#[test]
fn arithmetic_and_numeric_promotion() {
    assert_eq!(value("1 + 2"), "3");
    assert_eq!(value("7 / 2"), "3");
    assert_eq!(value("-7 / 2"), "-3");
    assert_eq!(value("7 % 3"), "1");
    assert_eq!(value("-7 % 3"), "-1");
    assert_eq!(value("7 / 2.0"), "3.5");
    assert_eq!(value("7.5 % 2"), "1.5");
    assert_eq!(value("2 * 3L"), "6");
    assert_eq!(value("2147483647 + 1"), "-2147483648");
    assert_eq!(value("2147483647 + 1L"), "2147483648");
    assert_eq!(value("-2147483648 / -1"), "-2147483648");
    assert_eq!(value("9223372036854775807L * 2"), "-2");
    assert_eq!(value("10 - 2 * 3"), "4");
    assert_eq!(value("(10 - 2) * 3"), "24");
    assert_eq!(value("-(3)"), "-3");
    assert_eq!(value("+3"), "3");
    assert_eq!(value("1.5e3"), "1500.0");
    assert_eq!(value("0x10 + 010"), "24");
    assert_eq!(value("'n=' + 1 + 2"), r#""n=12""#);
    assert_eq!(value("1 + 2 + 'n'"), r#""3n""#);
    assert_eq!(value("'v' + 1.0 + null + true"), r#""v1.0nulltrue""#);
    assert_eq!(value("'v' + [1, 'a'] + ['k': 2]"), r#""v[1, a]{k=2}""#);
    assert_eq!(value("1 / 0.0 > 1"), "true");
    let error = value_error("1 / 0");
    assert_eq!(error.kind, "arithmetic_exception");
    assert_eq!(error.reason, "/ by zero at 1:14");
    assert_eq!(value_error("5L % 0L").kind, "arithmetic_exception");
    let error = value_error("'a' - 1");
    assert_eq!(error.kind, "class_cast_exception");
    assert_eq!(
        error.reason,
        "Cannot apply [-] operation to types [java.lang.String] and [java.lang.Integer] at 1:14"
    );
    assert_eq!(value_error("null + 1").kind, "null_pointer_exception");
    assert_eq!(value_error("-'a'").kind, "class_cast_exception");
    let error = value_error("1 / 0.0");
    assert_eq!(
        error.reason,
        "cannot store the non-finite number [Infinity] in a document"
    );
}

#[test]
fn comparison_and_equality() {
    assert_eq!(value("1 < 2"), "true");
    assert_eq!(value("2 <= 2"), "true");
    assert_eq!(value("3 > 2L"), "true");
    assert_eq!(value("2 >= 2.5"), "false");
    assert_eq!(value("1 == 1.0"), "true");
    assert_eq!(value("1 == 1L"), "true");
    assert_eq!(value("1 != 2"), "true");
    assert_eq!(value("'a' == 'a'"), "true");
    assert_eq!(value("'a' == 'b'"), "false");
    assert_eq!(value("'1' == 1"), "false");
    assert_eq!(value("null == null"), "true");
    assert_eq!(value("[1, 'a'] == [1, 'a']"), "true");
    assert_eq!(value("['a': 1, 'b': 2] == ['b': 2, 'a': 1]"), "true");
    assert_eq!(value("[1] == [1L]"), "false");
    assert_eq!(value("true == false"), "false");
    assert!(holds(
        "ctx.s == 'text' && ctx.s.equals('text')",
        r#"{"s":"text"}"#
    ));
    assert!(holds("ctx.list == [1, 2]", r#"{"list":[1,2]}"#));
    assert!(holds("ctx.map == ['a': 'b']", r#"{"map":{"a":"b"}}"#));
    assert!(holds(
        "ctx.big == 5000000000L && ctx.big > 2147483647",
        r#"{"big":5000000000}"#
    ));
    assert_eq!(value_error("'a' < 'b'").kind, "class_cast_exception");
}

#[test]
fn logical_operators_short_circuit() {
    assert!(holds("true && !false", "{}"));
    assert!(holds("false || true", "{}"));
    assert!(holds("!(true && false)", "{}"));
    // The right side is not evaluated when the left decides.
    assert!(holds("ctx.a == null || ctx.a.b == 1", "{}"));
    assert!(!holds("ctx.a != null && ctx.a.b == 1", "{}"));
    assert_eq!(
        condition("1 && true", "{}").unwrap_err().kind,
        "class_cast_exception"
    );
    assert_eq!(value("true ? 1 : 2"), "1");
    assert_eq!(value("false ? 1 : true ? 2 : 3"), "2");
    assert_eq!(value("null ?: null ?: 3"), "3");
}

#[test]
fn instanceof_and_casts() {
    let json = r#"{"s":"x","i":1,"l":5000000000,"d":1.5,"b":true,"m":{},"a":[]}"#;
    for (source, expected) in [
        ("ctx.s instanceof String", true),
        ("ctx.s instanceof Object", true),
        ("ctx.i instanceof Integer", true),
        ("ctx.i instanceof Long", false),
        ("ctx.l instanceof Long", true),
        ("ctx.d instanceof Double", true),
        ("ctx.i instanceof Number && ctx.d instanceof Number", true),
        ("ctx.b instanceof Boolean", true),
        ("ctx.m instanceof Map && ctx.m instanceof HashMap", true),
        ("ctx.a instanceof List && ctx.a instanceof ArrayList", true),
        ("ctx.a instanceof Collection", true),
        ("ctx.m instanceof List", false),
        ("ctx.missing instanceof Object", false),
        (
            "new HashSet() instanceof Collection && !(new HashSet() instanceof List)",
            true,
        ),
        ("ctx.keySet() instanceof Set", true),
    ] {
        assert_eq!(holds(source, json), expected, "{source}");
    }
    assert_eq!(value("(int) 2.7"), "2");
    assert_eq!(value("(int) -2.7"), "-2");
    assert_eq!(value("(long) 1e10"), "10000000000");
    assert_eq!(value("(double) 1"), "1.0");
    assert_eq!(value("(int) 5000000000L"), "705032704");
    assert_eq!(value("(String) 'a'"), r#""a""#);
    assert_eq!(value("(def) 1"), "1");
    assert_eq!(value("(String) null"), "null");
    let error = value_error("(String) 1");
    assert_eq!(error.kind, "class_cast_exception");
    assert_eq!(
        error.reason,
        "Cannot cast java.lang.Integer to java.lang.String at 1:14"
    );
    assert_eq!(value_error("(int) 'a'").kind, "class_cast_exception");
    assert_eq!(value_error("(Map) [1]").kind, "class_cast_exception");
}

#[test]
fn typed_locals_are_checked_loosely() {
    assert_eq!(
        source_of(&run(
            "int i = 1; long l = i; double d = l; ctx.r = [i, l, d]",
            "{}"
        )),
        r#"{"r":[1,1,1.0]}"#
    );
    assert_eq!(
        source_of(&run("int i = 10; i += 1.9; i /= 4; ctx.r = i", "{}")),
        r#"{"r":2}"#
    );
    assert_eq!(
        source_of(&run("String s; int i; boolean b; ctx.r = [s, i, b]", "{}")),
        r#"{"r":[null,0,false]}"#
    );
    let error = run_error("String s = ctx.n", r#"{"n":1}"#);
    assert_eq!(error.kind, "class_cast_exception");
    assert_eq!(
        error.reason,
        "Cannot cast java.lang.Integer to java.lang.String at 1:8"
    );
    assert_eq!(
        run_error("int i = ctx.missing", "{}").kind,
        "null_pointer_exception"
    );
    assert_eq!(run_error("int i = 1.5", "{}").kind, "class_cast_exception");
    assert_eq!(run_error("Map m = []", "{}").kind, "class_cast_exception");
    assert_eq!(run_error("List l = [:]", "{}").kind, "class_cast_exception");
    assert_eq!(
        run_error("def x = 1; String s = 'a'; s = x", "{}").kind,
        "class_cast_exception"
    );
}

#[test]
fn string_methods() {
    for (expression, expected) in [
        ("'abc'.contains('b')", "true"),
        ("'abc'.startsWith('ab')", "true"),
        ("'abc'.startsWith('c', 2)", "true"),
        ("'abc'.endsWith('bc')", "true"),
        ("''.isEmpty()", "true"),
        ("'abc'.length()", "3"),
        ("'héllo'.length()", "5"),
        ("'😀a'.length()", "3"),
        ("'AbC'.toLowerCase()", r#""abc""#),
        ("'AbC'.toUpperCase()", r#""ABC""#),
        ("'  a b \t'.trim()", r#""a b""#),
        ("'abcdef'.substring(2)", r#""cdef""#),
        ("'abcdef'.substring(1, 3)", r#""bc""#),
        ("'héllo'.substring(1, 3)", r#""él""#),
        ("'abcabc'.indexOf('c')", "2"),
        ("'abcabc'.indexOf('c', 3)", "5"),
        ("'abcabc'.indexOf('x')", "-1"),
        ("'héllo'.indexOf('l')", "2"),
        ("'abcabc'.lastIndexOf('b')", "4"),
        ("'abcabc'.lastIndexOf('b', 3)", "1"),
        ("'a.b.c'.replace('.', '/')", r#""a/b/c""#),
        ("'a,,b,'.splitOnToken(',')", r#"["a","","b",""]"#),
        ("'a,b,c'.splitOnToken(',', 2)", r#"["a","b,c"]"#),
        ("'abc'.equals('abc')", "true"),
        ("'abc'.equals(null)", "false"),
        ("'ABC'.equalsIgnoreCase('abc')", "true"),
        ("'abc'.charAt(1)", r#""b""#),
        ("'abc'.charAt(1) == 'b'", "true"),
        ("'abc'.toString()", r#""abc""#),
    ] {
        assert_eq!(value(expression), expected, "{expression}");
    }
    let error = value_error("'abc'.substring(2, 5)");
    assert_eq!(error.kind, "string_index_out_of_bounds_exception");
    assert_eq!(error.reason, "begin 2, end 5, length 3 at 1:14");
    assert_eq!(
        value_error("'abc'.charAt(3)").kind,
        "string_index_out_of_bounds_exception"
    );
    assert_eq!(
        value_error("'abc'.contains(null)").kind,
        "null_pointer_exception"
    );
    assert_eq!(
        value_error("'abc'.contains(1)").kind,
        "class_cast_exception"
    );
    let error = value_error("'abc'.size()");
    assert_eq!(error.kind, "illegal_argument_exception");
    assert_eq!(
        error.reason,
        "dynamic method [java.lang.String, size/0] not found at 1:14"
    );
    assert_eq!(
        value_error("'a'.splitOnToken('')").kind,
        "illegal_argument_exception"
    );
}

#[test]
fn list_and_set_methods() {
    for (expression, expected) in [
        ("[1, 2].contains(2)", "true"),
        ("[1, 2].contains(3)", "false"),
        ("[1, 2].size()", "2"),
        ("[].isEmpty()", "true"),
        ("['a', 'b'].get(1)", r#""b""#),
        ("['a', 'b'].indexOf('b')", "1"),
        ("['a', 'b'].indexOf('c')", "-1"),
        ("[1, 2, 3][-1]", "3"),
        ("[1, 2].toString()", r#""[1, 2]""#),
    ] {
        assert_eq!(value(expression), expected, "{expression}");
    }
    let doc = run(
        "def l = ['a']; l.add('b'); l.add(0, 'z'); l.addAll(['c', 'd']); l.remove(1); l.set(0, 'y'); ctx.l = l; \
         def s = new HashSet(['a', 'a', 'b']); s.add('b'); s.add('c'); s.remove('a'); ctx.s = s; \
         def copy = new ArrayList(l); copy.clear(); ctx.copy = copy; ctx.self = [1]; ctx.self.addAll(ctx.self)",
        "{}",
    );
    assert_eq!(
        source_of(&doc),
        r#"{"l":["y","b","c","d"],"s":["b","c"],"copy":[],"self":[1,1]}"#
    );
    assert_eq!(
        value_error("[1].get(1)").kind,
        "index_out_of_bounds_exception"
    );
    assert_eq!(
        value_error("[1].get(-1)").reason,
        "Index -1 out of bounds for length 1 at 1:14"
    );
    assert_eq!(value_error("[1][5]").kind, "index_out_of_bounds_exception");
    assert_eq!(value_error("[1].remove('x')").kind, "class_cast_exception");
    assert_eq!(
        value_error("[1].put(1, 2)").kind,
        "illegal_argument_exception"
    );
}

#[test]
fn map_methods() {
    let doc = run(
        "def m = ['a': 1, 'b': null]; \
         ctx.r = [m.containsKey('b'), m.containsKey('z'), m.get('a'), m.get('z'), m.getOrDefault('z', 9), \
                  m.size(), m.isEmpty(), [:].isEmpty(), m.put('c', 3), m.put('a', 10), m.remove('b'), m.remove('z'), \
                  m.keySet(), m.values(), m.containsValue(3), m.a, m['c']]; \
         def keys = []; for (def entry : m.entrySet()) { keys.add(entry.getKey() + '=' + entry.getValue()) } ctx.keys = keys; \
         def n = [:]; n.putAll(m); n.clear(); ctx.n = n; ctx.m = m",
        "{}",
    );
    assert_eq!(
        source_of(&doc),
        r#"{"r":[true,false,1,null,9,2,false,true,null,1,null,null,["a","c"],[10,3],true,10,3],"keys":["a=10","c=3"],"n":{},"m":{"a":10,"c":3}}"#
    );
    assert!(holds(
        "ctx.m.keySet().contains('a') && ctx.m.values().contains(1) && ctx.m.entrySet().size() == 1",
        r#"{"m":{"a":1}}"#
    ));
    assert!(holds(
        "for (def e : ctx.m.entrySet()) { return e.key == 'a' && e.value == 1 } false",
        r#"{"m":{"a":1}}"#
    ));
    assert!(holds(
        "ctx.m.toString() == '{a=1, b=[x]}'",
        r#"{"m":{"a":1,"b":["x"]}}"#
    ));
}

#[test]
fn static_helpers() {
    for (expression, expected) in [
        ("Integer.parseInt('42')", "42"),
        ("Integer.parseInt('-7')", "-7"),
        ("Long.parseLong('5000000000')", "5000000000"),
        ("Double.parseDouble(' 1.5 ')", "1.5"),
        ("Double.parseDouble('2')", "2.0"),
        ("Boolean.parseBoolean('TRUE')", "true"),
        ("String.valueOf(12)", r#""12""#),
        ("String.valueOf(1.0)", r#""1.0""#),
        ("String.valueOf(null)", r#""null""#),
        ("String.join('-', ['a', 'b'])", r#""a-b""#),
        ("Math.max(1, 2)", "2"),
        ("Math.max(1, 2L)", "2"),
        ("Math.min(1.5, 2)", "1.5"),
        ("Math.abs(-3)", "3"),
        ("Math.abs(-2.5)", "2.5"),
        ("Math.round(2.5)", "3"),
        ("Math.round(-2.5)", "-2"),
        ("Math.floor(2.7)", "2.0"),
        ("Math.ceil(2.1)", "3.0"),
        ("Math.sqrt(16)", "4.0"),
        ("Math.pow(2, 10)", "1024.0"),
        ("12.toString()", r#""12""#),
        ("(1.5).intValue()", "1"),
    ] {
        assert_eq!(value(expression), expected, "{expression}");
    }
    let error = value_error("Integer.parseInt('x1')");
    assert_eq!(error.kind, "number_format_exception");
    assert_eq!(error.reason, r#"For input string: "x1" at 1:14"#);
    assert_eq!(
        value_error("Integer.parseInt('5000000000')").kind,
        "number_format_exception"
    );
    assert_eq!(
        value_error("Double.parseDouble('inf')").kind,
        "number_format_exception"
    );
    assert_eq!(
        value_error("Math.max(null, 1)").kind,
        "null_pointer_exception"
    );
}

#[test]
fn loops_and_control_flow() {
    let doc = run(
        "int sum = 0; for (int i = 0; i < 10; i++) { if (i % 2 == 0) { continue } if (i > 7) { break } sum += i } ctx.sum = sum; \
         def n = 0; while (n < 5) { n++ } ctx.n = n; \
         def d = 0; do { d += 2 } while (d < 5); ctx.d = d; \
         def items = []; for (def x : [3, 4]) { items.add(x * 2) } for (y in ctx.src) { items.add(y) } ctx.items = items; \
         def keys = []; for (def k : ctx.map) { keys.add(k) } ctx.keys = keys; \
         for (int i = 0, j = 10; i < j; i += 4, j--) { ctx.last = [i, j] }",
        r#"{"src":["s"],"map":{"x":1,"y":2}}"#,
    );
    assert_eq!(
        source_of(&doc),
        r#"{"src":["s"],"map":{"x":1,"y":2},"sum":16,"n":5,"d":6,"items":[6,8,"s"],"keys":["x","y"],"last":[4,9]}"#
    );
    // `return` ends the script, even inside loops.
    let doc = run(
        "for (def x : [1, 2, 3]) { ctx.seen = x; if (x == 2) { return; } } ctx.after = true",
        "{}",
    );
    assert_eq!(source_of(&doc), r#"{"seen":2}"#);
    assert!(holds(
        "if (ctx.a == 1) { return false } else if (ctx.a == 2) { return true } else { return false }",
        r#"{"a":2}"#
    ));
    assert_eq!(
        run_error("for (def x : 'abc') {}", "{}").kind,
        "illegal_argument_exception"
    );
    assert_eq!(
        run_error("for (def x : ctx.missing) {}", "{}").kind,
        "null_pointer_exception"
    );
}

#[test]
fn loops_are_bounded() {
    let error = run_error("while (true) {}", "{}");
    assert_eq!(error.kind, "script_exception");
    assert_eq!(
        error.reason,
        "The maximum number of statements that can be executed in a loop has been reached."
    );
    assert!(condition("for (;;) {} true", "{}").is_err());
    assert!(
        run_error("do {} while (true)", "{}")
            .reason
            .contains("maximum number")
    );
    // The budget is per run and shared by all loops: 1,000 × 1,000 is exactly the limit.
    run(
        "for (int i = 0; i < 999; i++) { for (int j = 0; j < 1000; j++) {} }",
        "{}",
    );
    assert!(
        run_error(
            "for (int i = 0; i < 1000; i++) { for (int j = 0; j < 1000; j++) {} }",
            "{}"
        )
        .reason
        .contains("maximum number")
    );
    // Exponential growth hits a size limit instead of exhausting memory.
    assert_eq!(
        run_error("def l = [1]; while (true) { l.addAll(l) }", "{}").kind,
        "script_exception"
    );
    assert_eq!(
        run_error("def s = 'ab'; while (true) { s += s }", "{}").kind,
        "script_exception"
    );
}

#[test]
fn errors_keep_the_changes_made_before_them() {
    let script = Script::compile("ctx.a = 1; ctx.missing.x = 2").unwrap();
    let mut doc = document(r#"{"b":2}"#);
    let error = script.execute(&mut doc, &no_params()).unwrap_err();
    assert_eq!(error.kind, "null_pointer_exception");
    assert_eq!(source_of(&doc), r#"{"b":2,"a":1}"#);
    assert!(doc.source_modified);
    // A map that contains itself cannot be stored; the rest of the document survives.
    let script = Script::compile("def m = [:]; m.self = m; ctx.loop = m").unwrap();
    let mut doc = document(r#"{"b":2}"#);
    assert!(script.execute(&mut doc, &no_params()).is_err());
    assert_eq!(source_of(&doc), r#"{"b":2,"loop":null}"#);
}

#[test]
fn strings_read_from_the_document_stay_borrowed() {
    let bytes = br#"{"message":"hello","other":"x"}"#;
    let source = JsonObject::from_slice(bytes).unwrap();
    let mut doc = IngestDocument::new("logs", source);
    let script = Script::compile("ctx.copy = ctx.message; ctx.remove('other')").unwrap();
    script.execute(&mut doc, &no_params()).unwrap();
    for key in ["message", "copy"] {
        assert!(
            matches!(
                doc.source.get(key),
                Some(JsonValue::String(std::borrow::Cow::Borrowed("hello")))
            ),
            "{key}"
        );
    }
}

#[test]
fn compile_errors_name_the_construct_and_position() {
    for (source, reason) in [
        ("ctx.a == ", "unexpected token [<EOF>] at 1:10"),
        (
            "ctx.a = new TreeMap()",
            "unsupported construct [new TreeMap()] at 1:9",
        ),
        (
            "ctx.a ==~ /x/",
            "unsupported construct [regex operator ==~] at 1:7",
        ),
        (
            "if (ctx.a =~ /x/) {}",
            "unsupported construct [regex operator =~] at 1:11",
        ),
        ("def m = /a+b/", "unsupported construct [/a+b/] at 1:9"),
        (
            "ctx.l.stream().count()",
            "unsupported construct [stream()] at 1:7",
        ),
        (
            "ctx.l.forEach(x -> x)",
            "unsupported construct [lambda ->] at 1:15",
        ),
        (
            "ctx.l.sort((a, b) -> a - b)",
            "unsupported construct [lambda ->] at 1:12",
        ),
        (
            "Debug.explain(ctx)",
            "unsupported construct [Debug.explain] at 1:1",
        ),
        (
            "def d = java.time.Instant.now()",
            "unsupported construct [java.time.Instant.now] at 1:9",
        ),
        (
            "ctx.a = 1; def f() { 1 }",
            "function [f] must be declared before the statements at 1:12",
        ),
        (
            "nope(1)",
            "unsupported construct [function call nope()] at 1:1",
        ),
        (
            "int f(def a) { a } f(1, 2)",
            "function [f] takes [1] arguments, not [2] at 1:20",
        ),
        (
            "try { ctx.a = 1 } catch (IOException e) {}",
            "unsupported construct [catch (IOException)] at 1:26",
        ),
        (
            "try { ctx.a = 1 } finally { ctx.b = 2 }",
            "unsupported construct [finally] at 1:19",
        ),
        ("try { ctx.a = 1 }", "[try] without [catch] at 1:1"),
        (
            "ctx.l.removeIf(x -> { return x == null })",
            "unsupported construct [lambda with a block body] at 1:21",
        ),
        (
            "ctx.a = String::valueOf",
            "unsupported construct [method reference ::] at 1:15",
        ),
        ("ctx.a\n  .b ==\n  ", "unexpected token [<EOF>] at 3:3"),
    ] {
        match Script::compile(source) {
            Ok(_) => panic!("{source} compiled"),
            Err(error) => assert_eq!(error.reason(), reason, "{source}"),
        }
    }
    let error: PipelineError = Script::compile("ctx.").unwrap_err().into();
    assert_eq!(error.kind, "script_exception");
}

#[test]
fn semicolons_are_optional_at_the_end_of_a_block() {
    let doc = run(
        "if (true) { ctx.a = 1 } for (def x : [1]) { ctx.b = x } { ctx.c = 3 }",
        "{}",
    );
    assert_eq!(source_of(&doc), r#"{"a":1,"b":1,"c":3}"#);
    assert!(Script::compile("ctx.a = 1 ctx.b = 2").is_err());
}

#[test]
fn deep_but_legal_nesting_evaluates() {
    // Near the parser's limits, each kind of nesting still evaluates on a test thread's stack
    // in a debug build, whose frames are the largest.
    let sum = format!("ctx.r = 0{}", " + 1".repeat(250));
    assert_eq!(source_of(&run(&sum, "{}")), r#"{"r":250}"#);
    let alternatives = format!(
        "{}ctx.r = false{}{}",
        "if (true) {".repeat(25),
        " || ctx.x == 1".repeat(120),
        "}".repeat(25)
    );
    assert_eq!(source_of(&run(&alternatives, "{}")), r#"{"r":false}"#);
    let parentheses = format!("ctx.r = {}1{}", "(1 + ".repeat(60), ")".repeat(60));
    assert_eq!(source_of(&run(&parentheses, "{}")), r#"{"r":61}"#);
    let calls = format!(
        "ctx.r = 'a'{}{}",
        ".equals(String.valueOf('a'".repeat(30),
        "))".repeat(30)
    );
    assert_eq!(source_of(&run(&calls, "{}")), r#"{"r":false}"#);
    let blocks = format!("{}ctx.r = 2{}", "if (true) {".repeat(30), "}".repeat(30));
    assert_eq!(source_of(&run(&blocks, "{}")), r#"{"r":2}"#);
    let chain = (0..200)
        .map(|index| format!("if (ctx.n == {index}) {{ ctx.r = {index} }}"))
        .collect::<Vec<_>>()
        .join(" else ");
    assert_eq!(
        source_of(&run(&chain, r#"{"n":199}"#)),
        r#"{"n":199,"r":199}"#
    );
    // Values nested by a loop: as deep as allowed they are stored, deeper is an error.
    let nest = |depth: usize| {
        format!(
            "def l = []; for (int i = 1; i < {depth}; i++) {{ l = [l] }} ctx.same = l == l; ctx.text = l.toString().length(); ctx.l = l"
        )
    };
    let doc = run(&nest(250), "{}");
    assert_eq!(
        doc.source.get("same").map(JsonValue::to_string).as_deref(),
        Some("true")
    );
    assert_eq!(run_error(&nest(300), "{}").kind, "script_exception");
}

/// A small deterministic generator, so that the fuzz test below needs no dependency and
/// fails the same way every time.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

#[test]
fn arbitrary_input_never_panics() {
    const PIECES: [&str; 64] = [
        "ctx",
        "params",
        ".",
        "?.",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        ";",
        ",",
        ":",
        "?",
        "?:",
        "=",
        "==",
        "!=",
        "<",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "+=",
        "++",
        "--",
        "!",
        "&&",
        "||",
        "a",
        "b",
        "x",
        "'s'",
        "\"t\"",
        "0",
        "1",
        "-1",
        "2147483648",
        "1L",
        "1.5",
        "null",
        "true",
        "def",
        "int",
        "String",
        "Map",
        "List",
        "if",
        "else",
        "for",
        "while",
        "return",
        "break",
        "new",
        "ArrayList",
        "HashMap",
        "instanceof",
        "size()",
        "add",
        "remove",
        "keySet()",
        "(String)",
    ];
    let seeds = [
        "for (def key : new ArrayList(ctx.keySet())) { if (ctx[key] == null || ctx[key] == '') { ctx.remove(key); } }",
        "if (ctx.tags == null || !(ctx.tags instanceof List)) { ctx.tags = [ctx.tags] } ctx.tags.add('x')",
        "ctx.event?.outcome == 'failure' || (ctx.http?.response?.status_code != null && ctx.http.response.status_code >= 400)",
        "def m = ['a': [1, 2.5, 'x']]; for (int i = 0; i < 3; i++) { m.a.add(i * 2 / 1) } ctx.m = m",
    ];
    let json = r#"{"a":{"b":[1,"x",null]},"tags":"t","s":"héllo","n":-3,"d":2.5}"#;
    let mut random = Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut compiled = 0;
    for round in 0..6000 {
        let source: String = if round % 2 == 0 {
            let length = 1 + random.below(24);
            (0..length)
                .map(|_| PIECES[random.below(PIECES.len())])
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            // A real script with characters dropped, repeated or swapped in.
            let mut characters: Vec<char> = seeds[random.below(seeds.len())].chars().collect();
            for _ in 0..1 + random.below(4) {
                let position = random.below(characters.len());
                match random.below(3) {
                    0 => {
                        characters.remove(position);
                    }
                    1 => characters.insert(position, characters[position]),
                    _ => {
                        characters[position] = "()[]{};.'\"?:!=+-0x"
                            .chars()
                            .nth(random.below(19))
                            .unwrap_or('x')
                    }
                }
            }
            characters.into_iter().collect()
        };
        let Ok(script) = Script::compile(&source) else {
            continue;
        };
        compiled += 1;
        let doc = document(json);
        let _ = script.test(&doc, &no_params());
        let mut doc = document(json);
        let _ = script.execute(&mut doc, &no_params());
    }
    assert!(compiled > 300, "only {compiled} inputs compiled");
}

#[test]
fn functions_declared_before_the_statements() {
    // Nginx's Filebeat pipeline: a function, a try/catch and a StringTokenizer.
    let nginx = "boolean isPrivate(def dot, def ip) {
          try {
            StringTokenizer tok = new StringTokenizer(ip, dot);
            int firstByte = Integer.parseInt(tok.nextToken());
            int secondByte = Integer.parseInt(tok.nextToken());
            if (firstByte == 10) { return true; }
            if (firstByte == 192 && secondByte == 168) { return true; }
            if (firstByte == 172 && secondByte >= 16 && secondByte <= 31) { return true; }
            if (firstByte == 127) { return true; }
            return false;
          }
          catch (Exception e) {
            return false;
          }
        }
        def found = [];
        for (def item : ctx.ips) { found.add(isPrivate('.', item)); }
        ctx.private = found;";
    let doc = run(
        nginx,
        r#"{"ips":["10.0.0.2","81.2.69.143","172.20.1.1","192.168.1.1","localhost","2a02:cf40::1","7"]}"#,
    );
    assert_eq!(
        doc.source.get("private").map(JsonValue::to_string).unwrap(),
        "[true,false,true,true,false,false,false]"
    );

    // Functions call each other in any order, and themselves, each call with its own locals.
    let doc = run(
        "long factorial(int n) { if (n <= 1) { return 1L } def rest = factorial(n - 1); return n * rest }
         String twice(def s) { return join(s, s) }
         String join(String a, String b) { return a + b }
         ctx.f = factorial(10); ctx.t = twice('ab')",
        "{}",
    );
    assert_eq!(source_of(&doc), r#"{"f":3628800,"t":"abab"}"#);

    // A void function that walks the document, as Filebeat's pipelines do to drop nulls.
    let walker = "void handleMap(Map map) {
          for (def x : map.values()) {
            if (x instanceof Map) { handleMap(x); } else if (x instanceof List) { handleList(x); }
          }
          map.values().removeIf(v -> v == null);
        }
        void handleList(List list) {
          for (def x : list) {
            if (x instanceof Map) { handleMap(x); } else if (x instanceof List) { handleList(x); }
          }
        }
        handleMap(ctx);";
    let doc = run(
        walker,
        r#"{"a":null,"b":{"c":null,"d":1},"e":[{"f":null,"g":[{"h":null}]}, null]}"#,
    );
    assert_eq!(source_of(&doc), r#"{"b":{"d":1},"e":[{"g":[{}]},null]}"#);
    assert!(doc.source_modified);
}

#[test]
fn function_arguments_and_results_are_typed() {
    let error = run_error("int f(Map m) { return 1 } ctx.r = f('text')", "{}");
    assert_eq!(error.kind, "class_cast_exception");
    let error = run_error("boolean f() { } ctx.r = f()", "{}");
    assert_eq!(error.kind, "null_pointer_exception", "no return value");
    assert_eq!(
        value_of("long f(int a) { return a } ctx.r = f(2) instanceof Long"),
        "true"
    );
    assert_eq!(value_of("void f() { return } ctx.r = f()"), "null");
}

#[test]
fn recursion_is_bounded() {
    let error = run_error("int down(int n) { return down(n + 1) } down(0)", "{}");
    assert_eq!(error.kind, "script_exception");
    assert!(
        error.reason.contains("more than [20] calls deep"),
        "{}",
        error.reason
    );
    // The limit is an error, not an exception: no catch takes it.
    let error = run_error(
        "int down(int n) { return down(n + 1) } try { down(0) } catch (Exception e) { ctx.caught = true }",
        "{}",
    );
    assert_eq!(error.kind, "script_exception");
}

#[test]
fn try_catches_what_its_clauses_name() {
    let doc = run(
        "try { ctx.a = 1; ctx.n = Integer.parseInt(ctx.text) } catch (NumberFormatException e) { ctx.why = e }",
        r#"{"text":"x1"}"#,
    );
    assert!(
        source_of(&doc).contains(r#""a":1"#),
        "changes before the error stay"
    );
    assert!(source_of(&doc).contains(r#""why":"#), "{}", source_of(&doc));
    assert!(!source_of(&doc).contains(r#""n":"#));

    // The first clause whose class matches runs; IllegalArgumentException takes number formats.
    let doc = run(
        "try { Integer.parseInt('x') } catch (NullPointerException e) { ctx.c = 'npe' } catch (IllegalArgumentException e) { ctx.c = 'iae' } catch (Exception e) { ctx.c = 'any' }",
        "{}",
    );
    assert_eq!(source_of(&doc), r#"{"c":"iae"}"#);
    let doc = run(
        "try { ctx.missing.x = 1 } catch (RuntimeException e) { ctx.c = 'caught' }",
        "{}",
    );
    assert_eq!(source_of(&doc), r#"{"c":"caught"}"#);
    // No clause matches: the error goes on.
    let error = run_error(
        "try { ctx.missing.x = 1 } catch (ArithmeticException e) { ctx.c = 1 }",
        "{}",
    );
    assert_eq!(error.kind, "null_pointer_exception");
    // The loop budget cannot be caught.
    let error = run_error(
        "try { while (true) {} } catch (Exception e) { ctx.c = 1 }",
        "{}",
    );
    assert_eq!(error.kind, "script_exception");
    // A return inside try returns from the script.
    let doc = run(
        "try { ctx.a = 1; return } catch (Exception e) {} ctx.b = 2",
        "{}",
    );
    assert_eq!(source_of(&doc), r#"{"a":1}"#);
}

#[test]
fn string_tokenizer() {
    assert_eq!(
        value_of(
            "def t = new StringTokenizer('a,,b;c', ',;'); def out = [t.countTokens()]; \
             while (t.hasMoreTokens()) { out.add(t.nextToken()) } ctx.r = out"
        ),
        r#"[3,"a","b","c"]"#
    );
    assert_eq!(
        value_of(
            "def t = new StringTokenizer(' one \\t two '); ctx.r = t.nextToken() + t.nextToken()"
        ),
        r#""onetwo""#
    );
    let error = run_error("def t = new StringTokenizer(''); t.nextToken()", "{}");
    assert_eq!(error.kind, "no_such_element_exception");
    let error = run_error("def t = new StringTokenizer(ctx.none, '.')", "{}");
    assert_eq!(error.kind, "null_pointer_exception");
    let error = run_error("ctx.t = new StringTokenizer('a')", "{}");
    assert!(error.reason.contains("StringTokenizer"), "{}", error.reason);
}

#[test]
fn remove_if_on_lists_sets_and_map_views() {
    assert_eq!(
        value_of(
            "def l = [1, null, 2, null]; boolean changed = l.removeIf(x -> x == null); ctx.r = [changed, l]"
        ),
        "[true,[1,2]]"
    );
    assert_eq!(
        value_of("def s = new HashSet([1, 2, 3]); s.removeIf((x) -> x > 1); ctx.r = s"),
        "[1]"
    );
    assert_eq!(
        value_of("def l = ['a']; ctx.r = l.removeIf(x -> x == 'b')"),
        "false"
    );
    let doc = run(
        "ctx.m.keySet().removeIf(k -> k.startsWith('_')); ctx.n.entrySet().removeIf(e -> e.getValue() == 0)",
        r#"{"m":{"_a":1,"b":2},"n":{"x":0,"y":1}}"#,
    );
    assert_eq!(source_of(&doc), r#"{"m":{"b":2},"n":{"y":1}}"#);
    // The lambda's parameter is its own; locals of the script stay readable in it.
    assert_eq!(
        value_of("def limit = 2; def l = [1, 2, 3]; l.removeIf(x -> x >= limit); ctx.r = l"),
        "[1]"
    );
    assert!(ctx_null_safe_remove_if_is_null());
    let error = condition("ctx.l.removeIf(x -> true)", r#"{"l":[1]}"#).unwrap_err();
    assert_eq!(error.kind, "unsupported_operation_exception");
    let error = run_error("ctx.s = 'abc'; ctx.s.removeIf(x -> true)", "{}");
    assert_eq!(error.kind, "illegal_argument_exception");
    let error = run_error("def l = [1]; l.removeIf(x -> 'yes')", "{}");
    assert_eq!(error.kind, "class_cast_exception");
}

fn ctx_null_safe_remove_if_is_null() -> bool {
    let doc = run("ctx.r = ctx.missing?.removeIf(x -> true)", "{}");
    source_of(&doc) == r#"{"r":null}"#
}

/// The JSON of `ctx.r` after running `source`.
fn value_of(source: &str) -> String {
    let doc = run(source, "{}");
    doc.source
        .get("r")
        .map(JsonValue::to_string)
        .unwrap_or_else(|| "<unset>".to_owned())
}
