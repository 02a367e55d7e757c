//! What the processors that change one string share (`lowercase`, `uppercase`, `trim`,
//! `urldecode`, `html_strip`, `gsub`): Elasticsearch's `AbstractStringProcessor`. The field
//! may hold a string or a list of strings; anything else is an error.

use logfleet_model::json::JsonValue;

use super::{expect_string, field_options, read_field};
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::Flow;

/// A string processor's options.
#[derive(Debug, Clone)]
pub struct StringField {
    field: String,
    target_field: String,
    ignore_missing: bool,
}

impl StringField {
    /// Reads `field`, `target_field` and `ignore_missing`.
    pub fn read(config: &mut ProcessorConfig) -> Result<StringField, ConfigError> {
        let (field, target_field, ignore_missing) = field_options(config)?;
        Ok(StringField {
            field,
            target_field,
            ignore_missing,
        })
    }

    /// Applies `change` to the string or to each string of the list, writing the result to
    /// the target field.
    pub fn apply(
        &self,
        document: &mut IngestDocument<'_>,
        kind: &str,
        change: impl Fn(&str) -> Result<String, PipelineError>,
    ) -> Result<Flow, PipelineError> {
        self.apply_value(document, kind, |text| change(text).map(JsonValue::from))
    }

    /// As [`StringField::apply`], for changes whose result is any value.
    pub fn apply_value(
        &self,
        document: &mut IngestDocument<'_>,
        kind: &str,
        change: impl Fn(&str) -> Result<JsonValue<'static>, PipelineError>,
    ) -> Result<Flow, PipelineError> {
        let Some(value) = read_field(document, &self.field, self.ignore_missing, kind)? else {
            return Ok(Flow::Continue);
        };
        let changed: JsonValue<'static> = match value.as_ref() {
            JsonValue::Array(items) => {
                let mut changed = Vec::with_capacity(items.len());
                for item in items {
                    let text = expect_string(item, &self.field)?;
                    changed.push(change(text)?);
                }
                JsonValue::Array(changed)
            }
            single => change(expect_string(single, &self.field)?)?,
        };
        // A value the change leaves as it was is not written back, so that a document
        // nothing changed keeps its source as sent.
        if self.target_field != self.field || changed != *value {
            document.set(&self.target_field, changed)?;
        }
        Ok(Flow::Continue)
    }
}

/// Declares a processor that changes strings with a function and has only the string
/// options.
macro_rules! string_processor {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $change:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name {
            field: crate::processors::strings::StringField,
        }

        /// Builds the processor from its options.
        pub fn build(
            mut config: crate::config::ProcessorConfig,
        ) -> Result<$name, crate::config::ConfigError> {
            let field = crate::processors::strings::StringField::read(&mut config)?;
            config.finish()?;
            Ok($name { field })
        }

        impl crate::processor::Processor for $name {
            fn kind(&self) -> &'static str {
                $kind
            }

            fn process(
                &self,
                document: &mut crate::document::IngestDocument<'_>,
                _run: &mut crate::processor::Run<'_>,
            ) -> Result<crate::processor::Flow, crate::PipelineError> {
                self.field.apply(document, $kind, $change)
            }
        }
    };
}

pub(crate) use string_processor;
