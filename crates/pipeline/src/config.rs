//! Reading a processor's configuration, with the errors Elasticsearch gives.
//!
//! Each processor's `build` takes a [`ProcessorConfig`] — the options object of one entry of a
//! pipeline's `processors` array — and reads its options with the typed readers here. What a
//! processor did not read is an error when the pipeline is stored, so a misspelt option is
//! found then, never at ingest time. Errors are `parse_exception`s naming the processor type,
//! its tag and the property, as Elasticsearch's `ConfigurationUtils` reports them.

use std::fmt;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::document::java_type;

/// A pipeline or processor definition that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct ConfigError {
    /// Elasticsearch's error `type`: `parse_exception`, or `script_exception` for a script
    /// that does not compile.
    pub kind: &'static str,
    /// What is wrong.
    pub reason: String,
    /// The processor's type, e.g. `set`.
    pub processor_type: Option<String>,
    /// The processor's `tag`.
    pub processor_tag: Option<String>,
    /// The option at fault.
    pub property_name: Option<String>,
}

impl ConfigError {
    /// A `parse_exception` about the definition as a whole.
    pub fn parse(reason: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: "parse_exception",
            reason: reason.into(),
            processor_type: None,
            processor_tag: None,
            property_name: None,
        }
    }
}

/// The options of one processor, consumed as they are read.
#[derive(Clone)]
pub struct ProcessorConfig {
    kind: String,
    tag: Option<String>,
    options: Map<String, Value>,
}

impl fmt::Debug for ProcessorConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProcessorConfig")
            .field("kind", &self.kind)
            .field("tag", &self.tag)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ProcessorConfig {
    /// The options of a processor of type `kind`.
    pub fn new(kind: &str, options: Map<String, Value>) -> ProcessorConfig {
        let tag = options
            .get("tag")
            .and_then(Value::as_str)
            .map(str::to_owned);
        ProcessorConfig {
            kind: kind.to_owned(),
            tag,
            options,
        }
    }

    /// The processor's type.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The processor's `tag`, if it has one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// An error about option `property`, as Elasticsearch words it: `[property] reason`.
    pub fn error(&self, property: &str, reason: impl fmt::Display) -> ConfigError {
        ConfigError {
            kind: "parse_exception",
            reason: format!("[{property}] {reason}"),
            processor_type: Some(self.kind.clone()),
            processor_tag: self.tag.clone(),
            property_name: Some(property.to_owned()),
        }
    }

    /// An error about the processor as a whole.
    pub fn processor_error(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            kind: "parse_exception",
            reason: reason.into(),
            processor_type: Some(self.kind.clone()),
            processor_tag: self.tag.clone(),
            property_name: None,
        }
    }

    /// Whether option `name` is given (and not yet read).
    pub fn has(&self, name: &str) -> bool {
        self.options.contains_key(name)
    }

    /// Takes option `name` as it is, if given.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.options.remove(name)
    }

    /// A required string option.
    pub fn string(&mut self, name: &str) -> Result<String, ConfigError> {
        self.optional_string(name)?
            .ok_or_else(|| self.error(name, "required property is missing"))
    }

    /// An optional string option.
    pub fn optional_string(&mut self, name: &str) -> Result<Option<String>, ConfigError> {
        match self.options.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.error(
                name,
                format!(
                    "property isn't a string, but of type [{}]",
                    type_name(&other)
                ),
            )),
        }
    }

    /// An optional option that may be a string or a number, read as text (Elasticsearch's
    /// `readStringOrIntProperty`).
    pub fn optional_string_or_number(&mut self, name: &str) -> Result<Option<String>, ConfigError> {
        match self.options.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(other) => Err(self.error(
                name,
                format!(
                    "property isn't a string or int, but of type [{}]",
                    type_name(&other)
                ),
            )),
        }
    }

    /// A boolean option with a default. Elasticsearch also takes `"true"` and `"false"`.
    pub fn boolean(&mut self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.options.remove(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(flag)) => Ok(flag),
            Some(Value::String(text)) if text == "true" => Ok(true),
            Some(Value::String(text)) if text == "false" => Ok(false),
            Some(other) => Err(self.error(
                name,
                format!(
                    "property isn't a boolean, but of type [{}]",
                    type_name(&other)
                ),
            )),
        }
    }

    /// An optional non-negative integer option (a number or a numeric string).
    pub fn optional_integer(&mut self, name: &str) -> Result<Option<i64>, ConfigError> {
        match self.options.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) if number.as_i64().is_some() => Ok(number.as_i64()),
            Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| {
                self.error(
                    name,
                    format!("property cannot be parsed as an integer [{text}]"),
                )
            }),
            Some(other) => Err(self.error(
                name,
                format!(
                    "property isn't an integer, but of type [{}]",
                    type_name(&other)
                ),
            )),
        }
    }

    /// A required list of strings; a single string counts as a list of one when `lenient`.
    pub fn strings(&mut self, name: &str, lenient: bool) -> Result<Vec<String>, ConfigError> {
        self.optional_strings(name, lenient)?
            .ok_or_else(|| self.error(name, "required property is missing"))
    }

    /// An optional list of strings; a single string counts as a list of one when `lenient`.
    pub fn optional_strings(
        &mut self,
        name: &str,
        lenient: bool,
    ) -> Result<Option<Vec<String>>, ConfigError> {
        match self.options.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if lenient => Ok(Some(vec![text])),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text),
                    Value::Number(number) => Ok(number.to_string()),
                    other => Err(self.error(
                        name,
                        format!(
                            "property isn't a list of strings, found [{}]",
                            type_name(&other)
                        ),
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(other) => Err(self.error(
                name,
                format!("property isn't a list, but of type [{}]", type_name(&other)),
            )),
        }
    }

    /// An optional object option.
    pub fn optional_map(&mut self, name: &str) -> Result<Option<Map<String, Value>>, ConfigError> {
        match self.options.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.error(
                name,
                format!("property isn't a map, but of type [{}]", type_name(&other)),
            )),
        }
    }

    /// An optional string option that must be one of `allowed`.
    pub fn optional_choice(
        &mut self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, ConfigError> {
        let Some(value) = self.optional_string(name)? else {
            return Ok(None);
        };
        if allowed.contains(&value.as_str()) {
            Ok(Some(value))
        } else {
            Err(self.error(
                name,
                format!(
                    "property does not contain a supported value [{value}], expected one of [{}]",
                    allowed.join(", ")
                ),
            ))
        }
    }

    /// Fails if options remain that no reader took: Elasticsearch's check that finds
    /// misspelt options when the pipeline is stored.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.options.is_empty() {
            return Ok(());
        }
        let mut unknown: Vec<&str> = self.options.keys().map(String::as_str).collect();
        unknown.sort_unstable();
        Err(self.processor_error(format!(
            "processor [{}] doesn't support one or more provided configuration parameters [{}]",
            self.kind,
            unknown.join(", ")
        )))
    }
}

/// The Java class Elasticsearch names for a configuration value.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(number) => match number.as_i64() {
            Some(integer) if i32::try_from(integer).is_ok() => "java.lang.Integer",
            Some(_) => "java.lang.Long",
            None => "java.lang.Double",
        },
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

/// The Java class of a document value, for messages about values met at ingest.
pub fn value_type_name(value: &logfleet_model::json::JsonValue<'_>) -> &'static str {
    java_type(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(options: Value) -> ProcessorConfig {
        let Value::Object(options) = options else {
            panic!("an object")
        };
        ProcessorConfig::new("set", options)
    }

    #[test]
    fn errors_name_the_processor_and_the_property() {
        let mut set = config(json!({"tag": "t1", "value": 1}));
        let error = set.string("field").unwrap_err();
        assert_eq!(error.reason, "[field] required property is missing");
        assert_eq!(error.processor_type.as_deref(), Some("set"));
        assert_eq!(error.processor_tag.as_deref(), Some("t1"));
        assert_eq!(error.property_name.as_deref(), Some("field"));
        let error = set.string("value").unwrap_err();
        assert_eq!(
            error.reason,
            "[value] property isn't a string, but of type [java.lang.Integer]"
        );
    }

    #[test]
    fn unread_options_are_refused() {
        let mut set = config(json!({"field": "a", "valeu": 1, "other": true}));
        set.string("field").unwrap();
        let error = set.finish().unwrap_err();
        assert_eq!(
            error.reason,
            "processor [set] doesn't support one or more provided configuration parameters \
             [other, valeu]"
        );
    }

    #[test]
    fn lenient_readers() {
        let mut set = config(json!({"a": "true", "b": "x", "c": ["x", 2], "d": "5"}));
        assert!(set.boolean("a", false).unwrap());
        assert_eq!(set.strings("b", true).unwrap(), ["x"]);
        assert_eq!(set.strings("c", false).unwrap(), ["x", "2"]);
        assert_eq!(set.optional_integer("d").unwrap(), Some(5));
        assert!(set.boolean("missing", true).unwrap());
    }
}
