//! `kv`: `key=value` pairs in a string turned into fields.

use logfleet_model::json::JsonValue;
use regex::Regex;

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
    let mut regex = |name: &str| -> Result<Regex, ConfigError> {
        let pattern = config.string(name)?;
        Regex::new(&pattern)
            .map_err(|error| config.error(name, format!("Invalid regex pattern. {error}")))
    };
    let field_split = regex("field_split")?;
    let value_split = regex("value_split")?;
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
        for pair in self.field_split.split(&text) {
            let mut halves = self.value_split.splitn(pair, 2);
            let key = halves.next().unwrap_or_default();
            let Some(value) = halves.next() else {
                return Err(PipelineError::illegal_argument(format!(
                    "field [{}] does not contain value_split [{}]",
                    self.field,
                    self.value_split.as_str()
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
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

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
