//! `grok`: named patterns matched against a field, captures becoming fields.
//!
//! A grok expression is a regular expression with `%{PATTERN}`, `%{PATTERN:field}` and
//! `%{PATTERN:field:type}` references (`int`, `long`, `float`, `double`, `boolean`), expanded
//! from a pattern bank when the pipeline is stored. The bank is Logstash's standard library
//! (the `legacy` names); `ecs_compatibility: "v1"` swaps in the forms of the compound patterns
//! that capture into Elastic Common Schema fields. Patterns need what Oniguruma gives them —
//! atomic groups, look-behind — and Elasticsearch runs them on Joni, a port of Oniguruma;
//! here they run on Oniguruma itself, so that a pattern matches here exactly what it matches
//! there.

use std::collections::HashMap;
use std::sync::Arc;

use logfleet_model::json::JsonValue;
use onig::Regex;
use serde_json::{Number, Value};

use super::{expect_string, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::resources::Resources;

/// The compound patterns whose ECS form (`ecs_compatibility: "v1"`) captures into ECS fields.
const ECS_V1: &str = include_str!("grok/ecs-v1.patterns");

/// How deep pattern references may nest.
const MAX_DEPTH: usize = 64;

/// The named patterns grok expressions refer to.
#[derive(Debug, Clone, Default)]
pub struct PatternBank {
    legacy: HashMap<String, String>,
    ecs_v1: HashMap<String, String>,
}

impl PatternBank {
    /// Logstash's standard library, with the ECS forms beside it.
    pub fn builtin() -> PatternBank {
        let legacy: HashMap<String, String> = grok::patterns()
            .iter()
            .map(|(name, pattern)| ((*name).to_owned(), (*pattern).to_owned()))
            .collect();
        let ecs_v1 = parse_definitions(ECS_V1);
        PatternBank { legacy, ecs_v1 }
    }

    /// The definition of `name` in the chosen form.
    pub fn get(&self, name: &str, ecs: bool) -> Option<&str> {
        let ecs_form = if ecs { self.ecs_v1.get(name) } else { None };
        ecs_form
            .or_else(|| self.legacy.get(name))
            .map(String::as_str)
    }

    /// Every name and definition in the chosen form, sorted by name, for
    /// `GET /_ingest/processor/grok`.
    pub fn all(&self, ecs: bool) -> Vec<(&str, &str)> {
        let mut names: Vec<&str> = self.legacy.keys().map(String::as_str).collect();
        if ecs {
            names.extend(self.ecs_v1.keys().map(String::as_str));
        }
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| self.get(name, ecs).map(|pattern| (name, pattern)))
            .collect()
    }
}

/// `NAME definition` lines; `#` starts a comment line.
fn parse_definitions(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(' '))
        .map(|(name, pattern)| (name.to_owned(), pattern.trim().to_owned()))
        .collect()
}

/// The type a capture is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    Text,
    Integer,
    Float,
    Boolean,
}

/// One capture group of a compiled expression: which field it fills, as what.
#[derive(Debug, Clone)]
struct Capture {
    group: String,
    /// The group's number in the compiled regex.
    index: usize,
    field: String,
    conversion: Conversion,
}

/// A compiled grok expression.
pub struct Expression {
    regex: Regex,
    captures: Vec<Capture>,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Expression")
            .field("captures", &self.captures)
            .finish_non_exhaustive()
    }
}

impl Expression {
    /// Expands and compiles `expression` against `bank` and the pipeline's own
    /// `definitions`.
    pub fn compile(
        expression: &str,
        bank: &PatternBank,
        definitions: &HashMap<String, String>,
        ecs: bool,
    ) -> Result<Expression, String> {
        let mut compiler = Compiler {
            bank,
            definitions,
            ecs,
            captures: Vec::new(),
            stack: Vec::new(),
        };
        let source = compiler.expand(expression, 0)?;
        let regex = Regex::new(&source)
            .map_err(|error| format!("Invalid regex pattern found in: [{expression}]. {error}"))?;
        let mut groups = HashMap::new();
        regex.foreach_name(|name, numbers| {
            if let Some(number) = numbers.first() {
                groups.insert(name.to_owned(), *number as usize);
            }
            true
        });
        let mut captures = compiler.captures;
        for capture in &mut captures {
            capture.index = groups.get(&capture.group).copied().ok_or_else(|| {
                format!(
                    "Invalid regex pattern found in: [{expression}]: lost group [{}]",
                    capture.group
                )
            })?;
        }
        Ok(Expression { regex, captures })
    }

    /// Every span of `text` a named capture matched, as `(start, end, field)`, over all the
    /// matches of the expression, in order.
    pub(crate) fn capture_spans(
        &self,
        text: &str,
    ) -> Result<Vec<(usize, usize, &str)>, PipelineError> {
        let mut spans = Vec::new();
        for captures in self.regex.captures_iter(text) {
            for capture in &self.captures {
                if let Some((start, end)) = captures.pos(capture.index)
                    && end > start
                {
                    spans.push((start, end, capture.field.as_str()));
                }
            }
        }
        Ok(spans)
    }

    /// The fields and values of a match of `text`, or `None`.
    fn extract(
        &self,
        text: &str,
    ) -> Result<Option<Vec<(String, JsonValue<'static>)>>, PipelineError> {
        let Some(captures) = self.regex.captures(text) else {
            return Ok(None);
        };
        let mut fields: Vec<(String, JsonValue<'static>)> = Vec::new();
        for capture in &self.captures {
            let Some(matched) = captures.at(capture.index) else {
                continue;
            };
            // Alternatives may capture one field in several groups: the one that matched wins.
            if fields.iter().any(|(field, _)| *field == capture.field) {
                continue;
            }
            let value = convert(matched, capture.conversion);
            fields.push((capture.field.clone(), value));
        }
        Ok(Some(fields))
    }
}

fn convert(text: &str, conversion: Conversion) -> JsonValue<'static> {
    match conversion {
        Conversion::Text => JsonValue::from(text),
        Conversion::Integer => text.trim().parse::<i64>().map_or_else(
            |_| JsonValue::from(text),
            |number| JsonValue::Number(Number::from(number)),
        ),
        Conversion::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| JsonValue::from(text), JsonValue::Number),
        Conversion::Boolean => JsonValue::Bool(text.eq_ignore_ascii_case("true")),
    }
}

struct Compiler<'c> {
    bank: &'c PatternBank,
    definitions: &'c HashMap<String, String>,
    ecs: bool,
    captures: Vec<Capture>,
    stack: Vec<String>,
}

impl Compiler<'_> {
    fn expand(&mut self, pattern: &str, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "pattern references nest deeper than {MAX_DEPTH}: [{pattern}]"
            ));
        }
        let mut out = String::with_capacity(pattern.len());
        let mut rest = pattern;
        while let Some(start) = find_reference_or_group(rest) {
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            if let Some(body) = rest.strip_prefix("%{") {
                let end = body
                    .find('}')
                    .ok_or_else(|| format!("unclosed %{{ in [{pattern}]"))?;
                let reference = &body[..end];
                rest = &body[end + 1..];
                out.push_str(&self.reference(reference, depth)?);
            } else {
                // An inline named group `(?<name>…)` captures into field `name`.
                let body = &rest[3..];
                let end = body
                    .find('>')
                    .ok_or_else(|| format!("unclosed named group in [{pattern}]"))?;
                let field = &body[..end];
                let group = format!("g{}", self.captures.len());
                self.captures.push(Capture {
                    group: group.clone(),
                    index: 0,
                    field: field_path(field),
                    conversion: Conversion::Text,
                });
                out.push_str(&format!("(?<{group}>"));
                rest = &body[end + 1..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn reference(&mut self, reference: &str, depth: usize) -> Result<String, String> {
        let mut parts = reference.splitn(3, ':');
        let name = parts.next().unwrap_or_default();
        let field = parts.next().filter(|field| !field.is_empty());
        let conversion = match parts.next() {
            None => Conversion::Text,
            Some("int" | "long") => Conversion::Integer,
            Some("float" | "double") => Conversion::Float,
            Some("boolean") => Conversion::Boolean,
            Some("string" | "keyword") => Conversion::Text,
            Some(other) => {
                return Err(format!(
                    "Unsupported conversion type [{other}] in [%{{{reference}}}]"
                ));
            }
        };
        let definition = self
            .definitions
            .get(name)
            .map(String::as_str)
            .or_else(|| self.bank.get(name, self.ecs))
            .ok_or_else(|| {
                format!("Unable to find pattern [{name}] in Grok's pattern dictionary")
            })?;
        if self.stack.iter().any(|open| open == name) {
            let mut chain = self.stack.clone();
            chain.push(name.to_owned());
            return Err(format!(
                "circular reference in pattern [{}]",
                chain.join("][")
            ));
        }
        self.stack.push(name.to_owned());
        let expanded = self.expand(definition, depth + 1);
        self.stack.pop();
        let expanded = expanded?;
        Ok(match field {
            Some(field) => {
                let group = format!("g{}", self.captures.len());
                self.captures.push(Capture {
                    group: group.clone(),
                    index: 0,
                    field: field_path(field),
                    conversion,
                });
                format!("(?<{group}>{expanded})")
            }
            None => format!("(?:{expanded})"),
        })
    }
}

/// The next `%{` reference or `(?<name>` named group (not a `(?<=`/`(?<!` look-behind).
fn find_reference_or_group(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'%' if bytes.get(index + 1) == Some(&b'{') => return Some(index),
            b'(' if text[index..].starts_with("(?<")
                && !matches!(bytes.get(index + 3), Some(b'=' | b'!')) =>
            {
                return Some(index);
            }
            _ => index += 1,
        }
    }
    None
}

/// Logstash's `[a][b]` field references, written as the path `a.b`.
fn field_path(field: &str) -> String {
    if field.starts_with('[') {
        field
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split("][")
            .collect::<Vec<_>>()
            .join(".")
    } else {
        field.to_owned()
    }
}

/// Matches a field against expressions.
#[derive(Debug)]
pub struct Grok {
    field: String,
    expressions: Vec<Expression>,
    trace_match: bool,
    ignore_missing: bool,
}

/// Reads the `patterns` (at least one) and `pattern_definitions` options that `grok` and
/// `redact` share.
pub(crate) fn read_patterns(
    config: &mut ProcessorConfig,
) -> Result<(Vec<String>, HashMap<String, String>), ConfigError> {
    let patterns = config.strings("patterns", false)?;
    if patterns.is_empty() {
        return Err(config.error("patterns", "List of patterns must not be empty"));
    }
    let definitions: HashMap<String, String> = config
        .optional_map("pattern_definitions")?
        .unwrap_or_default()
        .into_iter()
        .map(|(name, pattern)| match pattern {
            Value::String(pattern) => Ok((name, pattern)),
            other => Err(config.error(
                "pattern_definitions",
                format!("pattern [{name}] isn't a string: [{other}]"),
            )),
        })
        .collect::<Result<_, _>>()?;
    Ok((patterns, definitions))
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig, resources: &Resources) -> Result<Grok, ConfigError> {
    let field = config.string("field")?;
    let (patterns, definitions) = read_patterns(&mut config)?;
    let ecs = config
        .optional_choice("ecs_compatibility", &["disabled", "v1"])?
        .is_some_and(|mode| mode == "v1");
    let trace_match = config.boolean("trace_match", false)?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    let bank: &Arc<PatternBank> = &resources.grok_patterns;
    let expressions = patterns
        .iter()
        .map(|pattern| {
            Expression::compile(pattern, bank, &definitions, ecs)
                .map_err(|reason| config.error("patterns", reason))
        })
        .collect::<Result<Vec<_>, _>>()?;
    config.finish()?;
    Ok(Grok {
        field,
        expressions,
        trace_match,
        ignore_missing,
    })
}

impl Processor for Grok {
    fn kind(&self) -> &'static str {
        "grok"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "grok")? else {
            return Ok(Flow::Continue);
        };
        let text = expect_string(&value, &self.field)?;
        let mut found = None;
        for (index, expression) in self.expressions.iter().enumerate() {
            if let Some(fields) = expression.extract(text)? {
                found = Some((index, fields));
                break;
            }
        }
        let Some((index, fields)) = found else {
            return Err(PipelineError::illegal_argument(format!(
                "Provided Grok expressions do not match field value: [{text}]"
            )));
        };
        for (field, value) in fields {
            document.set(&field, value)?;
        }
        if self.trace_match {
            let index = if self.expressions.len() > 1 {
                index.to_string()
            } else {
                "0".to_owned()
            };
            document.set("_ingest._grok_match_index", JsonValue::from(index))?;
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run, run_error, try_run};
    use serde_json::json;

    #[test]
    fn matches_standard_patterns_with_types() {
        let out = run(
            json!({"grok": {"field": "message", "patterns": ["%{IP:client} %{WORD:method} %{URIPATHPARAM:request} %{NUMBER:bytes:int} %{NUMBER:duration:float}"]}}),
            json!({"message": "55.3.244.1 GET /index.html 15824 0.043"}),
        );
        assert_eq!(out["client"], "55.3.244.1");
        assert_eq!(out["method"], "GET");
        assert_eq!(out["request"], "/index.html");
        assert_eq!(out["bytes"], 15824);
        assert_eq!(out["duration"], 0.043);
    }

    #[test]
    fn parses_an_apache_access_line_in_both_forms() {
        let line = r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash.png HTTP/1.1" 200 203023 "http://semicomplete.com/" "Mozilla/5.0 (Macintosh)""#;
        let legacy = run(
            json!({"grok": {"field": "m", "patterns": ["%{COMBINEDAPACHELOG}"]}}),
            json!({"m": line}),
        );
        assert_eq!(legacy["clientip"], "83.149.9.216");
        assert_eq!(legacy["verb"], "GET");
        assert_eq!(legacy["response"], "200");
        assert_eq!(legacy["timestamp"], "17/May/2015:10:05:03 +0000");
        let ecs = run(
            json!({"grok": {"field": "m", "patterns": ["%{COMBINEDAPACHELOG}"], "ecs_compatibility": "v1"}}),
            json!({"m": line}),
        );
        assert_eq!(ecs["source"]["address"], "83.149.9.216");
        assert_eq!(ecs["http"]["request"]["method"], "GET");
        assert_eq!(ecs["http"]["response"]["status_code"], 200);
        assert_eq!(ecs["http"]["response"]["body"]["bytes"], 203023);
        assert_eq!(ecs["url"]["original"], "/presentations/logstash.png");
        assert_eq!(ecs["user_agent"]["original"], "Mozilla/5.0 (Macintosh)");
    }

    #[test]
    fn custom_definitions_inline_groups_and_trace() {
        let (_, document) = try_run(
            json!({"grok": {
                "field": "m",
                "patterns": ["^nope$", "%{PET:[pet][kind]} (?<pet.name>\\w+)"],
                "pattern_definitions": {"PET": "dog|cat"},
                "trace_match": true
            }}),
            json!({"m": "cat Tom"}),
        )
        .unwrap();
        let out = serde_json::Value::Object(document.source.to_map());
        assert_eq!(out["pet"], json!({"kind": "cat", "name": "Tom"}));
        assert_eq!(
            document.ingest.get("_grok_match_index").unwrap().as_str(),
            Some("1")
        );
    }

    #[test]
    fn failures_say_why() {
        let error = run_error(
            json!({"grok": {"field": "m", "patterns": ["%{INT:n}"]}}),
            json!({"m": "abc"}),
        );
        assert_eq!(
            error,
            "Provided Grok expressions do not match field value: [abc]"
        );
        assert_eq!(
            build_error(json!({"grok": {"field": "m", "patterns": ["%{NOPE:x}"]}})),
            "[patterns] Unable to find pattern [NOPE] in Grok's pattern dictionary"
        );
        assert!(build_error(json!({"grok": {"field": "m", "patterns": ["%{A}"], "pattern_definitions": {"A": "%{B}", "B": "%{A}"}}}))
            .contains("circular reference in pattern [A][B][A]"));
        assert!(
            build_error(json!({"grok": {"field": "m", "patterns": []}}))
                .contains("must not be empty")
        );
    }
}
