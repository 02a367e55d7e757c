//! `kv`: `key=value` pairs in a string turned into fields.
//!
//! `field_split` and `value_split` are Java regular expressions in Elasticsearch, and real
//! pipelines use what Java has and Rust's `regex` lacks — Elastic's system auth pipeline splits
//! structured data with `(?<=\"); ` — so they are compiled with Oniguruma, as grok's patterns
//! are, and applied as Java's `Pattern.split` does: pairs split with no limit and trailing
//! empty ones dropped, a pair split in two at the first match of `value_split`.

use logfleet_model::json::JsonValue;
use onig::Regex;

use super::{expect_string, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Splits key-value pairs.
#[derive(Debug)]
pub struct Kv {
    field: String,
    target_field: Option<String>,
    field_split: Regex,
    value_split: Regex,
    /// `value_split` as written, for the error naming it.
    value_split_pattern: String,
    include_keys: Option<Vec<String>>,
    exclude_keys: Vec<String>,
    prefix: String,
    trim_key: Vec<char>,
    trim_value: Vec<char>,
    strip_brackets: bool,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Kv, ConfigError> {
    let field = config.string("field")?;
    let target_field = config.optional_string("target_field")?;
    let mut regex = |name: &str| -> Result<(Regex, String), ConfigError> {
        let pattern = config.string(name)?;
        let regex = Regex::new(&pattern)
            .map_err(|error| config.error(name, format!("Invalid regex pattern. {error}")))?;
        Ok((regex, pattern))
    };
    let (field_split, _) = regex("field_split")?;
    let (value_split, value_split_pattern) = regex("value_split")?;
    let include_keys = config.optional_strings("include_keys", false)?;
    let exclude_keys = config
        .optional_strings("exclude_keys", false)?
        .unwrap_or_default();
    let prefix = config.optional_string("prefix")?.unwrap_or_default();
    let trim_key = config
        .optional_string("trim_key")?
        .unwrap_or_default()
        .chars()
        .collect();
    let trim_value = config
        .optional_string("trim_value")?
        .unwrap_or_default()
        .chars()
        .collect();
    let strip_brackets = config.boolean("strip_brackets", false)?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    config.finish()?;
    Ok(Kv {
        field,
        target_field,
        field_split,
        value_split,
        value_split_pattern,
        include_keys,
        exclude_keys,
        prefix,
        trim_key,
        trim_value,
        strip_brackets,
        ignore_missing,
    })
}

impl Processor for Kv {
    fn kind(&self) -> &'static str {
        "kv"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, "kv")? else {
            return Ok(Flow::Continue);
        };
        let text = expect_string(&value, &self.field)?.to_owned();
        let mut pairs = Vec::new();
        for pair in java_split(&self.field_split, &text, None) {
            let mut halves = java_split(&self.value_split, pair, Some(2)).into_iter();
            let key = halves.next().unwrap_or_default();
            let Some(value) = halves.next() else {
                return Err(PipelineError::illegal_argument(format!(
                    "field [{}] does not contain value_split [{}]",
                    self.field, self.value_split_pattern
                )));
            };
            let key = key.trim_matches(self.trim_key.as_slice());
            let mut value = value.trim_matches(self.trim_value.as_slice());
            if self.strip_brackets {
                value = strip_brackets(value);
            }
            if self
                .include_keys
                .as_ref()
                .is_some_and(|keys| !keys.iter().any(|kept| kept == key))
                || self.exclude_keys.iter().any(|excluded| excluded == key)
            {
                continue;
            }
            pairs.push((format!("{}{key}", self.prefix), value.to_owned()));
        }
        for (key, value) in pairs {
            let path = match &self.target_field {
                Some(target) => format!("{target}.{key}"),
                None => key,
            };
            document.append(&path, JsonValue::from(value), true)?;
            // A single value stays a single value, as Elasticsearch's append of one does.
            if let Ok(Some(JsonValue::Array(items))) = document.get_mut(&path)
                && items.len() == 1
            {
                let single = items.pop().unwrap_or(JsonValue::Null);
                document.set(&path, single)?;
            }
        }
        Ok(Flow::Continue)
    }
}

/// `text` split around the matches of `separator` as Java's `Pattern.split(text, limit)`
/// splits it: a zero-width match at the start makes no empty first part; with a `limit` the
/// last part holds the rest of the text; without one, trailing empty parts are dropped.
fn java_split<'text>(separator: &Regex, text: &'text str, limit: Option<usize>) -> Vec<&'text str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (match_start, match_end) in separator.find_iter(text) {
        if limit.is_some_and(|limit| parts.len() + 1 >= limit) {
            break;
        }
        let zero_width_at_start = match_start == 0 && match_end == 0;
        if zero_width_at_start {
            continue;
        }
        parts.push(&text[start..match_start]);
        start = match_end;
    }
    parts.push(&text[start..]);
    if limit.is_none() {
        while parts.len() > 1 && parts.last().is_some_and(|part| part.is_empty()) {
            parts.pop();
        }
    }
    parts
}

fn strip_brackets(value: &str) -> &str {
    for (open, close) in [('(', ')'), ('<', '>'), ('[', ']'), ('"', '"'), ('\'', '\'')] {
        if value.len() >= 2 && value.starts_with(open) && value.ends_with(close) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::java_split;
    use crate::processors::testing::{run, run_error};
    use onig::Regex;
    use serde_json::json;

    #[test]
    fn splits_as_java_does() {
        let comma = Regex::new(",").unwrap();
        assert_eq!(java_split(&comma, "a,b,,", None), ["a", "b"]);
        assert_eq!(java_split(&comma, ",a", None), ["", "a"]);
        assert_eq!(java_split(&comma, "a,b,c", Some(2)), ["a", "b,c"]);
        assert_eq!(java_split(&comma, "", None), [""]);
        let before_b = Regex::new("(?=b)").unwrap();
        assert_eq!(java_split(&before_b, "bab", None), ["ba", "b"]);
    }

    /// Elastic's system auth pipeline splits RFC 5424 structured data on look-arounds, which
    /// are Java regular expressions and not Rust `regex` ones.
    #[test]
    fn splits_on_look_arounds() {
        let out = run(
            json!({"kv": {
                "field": "sd",
                "field_split": "(?<=\"); ",
                "value_split": "(?i)(?<=[a-z]):{1,2}(?=\")",
                "prefix": "system.auth.",
                "strip_brackets": true
            }}),
            json!({"sd": "Logon:\"ok\"; Account::\"a; b\"; Type:\"3\""}),
        );
        assert_eq!(
            out["system"]["auth"],
            json!({"Logon": "ok", "Account": "a; b", "Type": "3"})
        );
    }

    #[test]
    fn splits_pairs() {
        let out = run(
            json!({"kv": {"field": "m", "field_split": " ", "value_split": "=", "target_field": "kv", "exclude_keys": ["secret"]}}),
            json!({"m": "ip=1.2.3.4 user=ann user=bob secret=x"}),
        );
        assert_eq!(out["kv"], json!({"ip": "1.2.3.4", "user": ["ann", "bob"]}));
        let out = run(
            json!({"kv": {"field": "m", "field_split": "&", "value_split": "=", "prefix": "q_", "strip_brackets": true, "trim_key": " "}}),
            json!({"m": " a=<1>&b=\"two\""}),
        );
        assert_eq!(out["q_a"], "1");
        assert_eq!(out["q_b"], "two");
        assert!(
            run_error(
                json!({"kv": {"field": "m", "field_split": " ", "value_split": "="}}),
                json!({"m": "novalue"})
            )
            .contains("value_split")
        );
    }
}
