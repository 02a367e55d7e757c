//! Elasticsearch's ingest processors, one file each. Every file has the same shape: a
//! `build(config, resources)` that reads and checks the options when the pipeline is stored,
//! and a processor type whose `process` does the work on each document.

pub mod append;
pub mod bytes;
pub mod community_id;
pub mod convert;
pub mod csv;
pub mod date;
pub mod date_index_name;
pub mod dissect;
pub mod dot_expander;
pub mod drop;
pub mod fail;
pub mod fingerprint;
pub mod foreach;
pub mod geoip;
pub mod grok;
pub mod gsub;
pub mod html_strip;
pub mod join;
pub mod json;
pub mod kv;
pub mod lowercase;
pub mod network_direction;
pub mod pipeline;
pub mod redact;
pub mod redact_secrets;
pub mod registered_domain;
pub mod remove;
pub mod rename;
pub mod reroute;
pub mod script;
pub mod set;
pub mod split;
mod strings;
pub mod terminate;
pub mod trim;
pub mod uppercase;
pub mod uri_parts;
pub mod urldecode;
pub mod user_agent;

use std::borrow::Cow;

use logfleet_model::json::JsonValue;

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::Processor;
use crate::resources::Resources;

/// The processor types this build knows, in the order `GET /_nodes` would list them.
pub const KINDS: [&str; 39] = [
    "append",
    "bytes",
    "community_id",
    "convert",
    "csv",
    "date",
    "date_index_name",
    "dissect",
    "dot_expander",
    "drop",
    "fail",
    "fingerprint",
    "foreach",
    "geoip",
    "grok",
    "gsub",
    "html_strip",
    "ip_location",
    "join",
    "json",
    "kv",
    "lowercase",
    "network_direction",
    "pipeline",
    "redact",
    "redact_secrets",
    "registered_domain",
    "remove",
    "rename",
    "reroute",
    "script",
    "set",
    "split",
    "terminate",
    "trim",
    "uppercase",
    "uri_parts",
    "urldecode",
    "user_agent",
];

/// Builds the processor of type `config.kind()`.
pub fn build(
    config: ProcessorConfig,
    resources: &Resources,
) -> Result<Box<dyn Processor>, ConfigError> {
    let processor: Box<dyn Processor> = match config.kind() {
        "append" => Box::new(append::build(config)?),
        "bytes" => Box::new(bytes::build(config)?),
        "community_id" => Box::new(community_id::build(config)?),
        "convert" => Box::new(convert::build(config)?),
        "csv" => Box::new(csv::build(config)?),
        "date" => Box::new(date::build(config)?),
        "date_index_name" => Box::new(date_index_name::build(config)?),
        "dissect" => Box::new(dissect::build(config)?),
        "dot_expander" => Box::new(dot_expander::build(config)?),
        "drop" => Box::new(drop::build(config)?),
        "fail" => Box::new(fail::build(config)?),
        "fingerprint" => Box::new(fingerprint::build(config)?),
        "foreach" => Box::new(foreach::build(config, resources)?),
        "geoip" => Box::new(geoip::build(config, resources, "geoip")?),
        "grok" => Box::new(grok::build(config, resources)?),
        "gsub" => Box::new(gsub::build(config)?),
        "html_strip" => Box::new(html_strip::build(config)?),
        "ip_location" => Box::new(geoip::build(config, resources, "ip_location")?),
        "join" => Box::new(join::build(config)?),
        "json" => Box::new(json::build(config)?),
        "kv" => Box::new(kv::build(config)?),
        "lowercase" => Box::new(lowercase::build(config)?),
        "network_direction" => Box::new(network_direction::build(config)?),
        "pipeline" => Box::new(pipeline::build(config)?),
        "redact" => Box::new(redact::build(config, resources)?),
        "redact_secrets" => Box::new(redact_secrets::build(config)?),
        "registered_domain" => Box::new(registered_domain::build(config)?),
        "remove" => Box::new(remove::build(config)?),
        "rename" => Box::new(rename::build(config)?),
        "reroute" => Box::new(reroute::build(config)?),
        "script" => Box::new(script::build(config)?),
        "set" => Box::new(set::build(config)?),
        "split" => Box::new(split::build(config)?),
        "terminate" => Box::new(terminate::build(config)?),
        "trim" => Box::new(trim::build(config)?),
        "uppercase" => Box::new(uppercase::build(config)?),
        "uri_parts" => Box::new(uri_parts::build(config)?),
        "urldecode" => Box::new(urldecode::build(config)?),
        "user_agent" => Box::new(user_agent::build(config, resources)?),
        unknown => {
            return Err(ConfigError {
                processor_type: Some(unknown.to_owned()),
                property_name: None,
                ..ConfigError::parse(format!("No processor type exists with name [{unknown}]"))
            });
        }
    };
    Ok(processor)
}

/// The value of `field` for a processor that needs one: `None` when it is missing or null
/// and `ignore_missing` is set; an error in Elasticsearch's words otherwise.
pub(crate) fn read_field<'d, 'a>(
    document: &'d IngestDocument<'a>,
    field: &str,
    ignore_missing: bool,
    kind: &str,
) -> Result<Option<Cow<'d, JsonValue<'a>>>, PipelineError> {
    match document.get(field)? {
        Some(value) if *value != JsonValue::Null => Ok(Some(value)),
        _ if ignore_missing => Ok(None),
        Some(_) => Err(PipelineError::illegal_argument(format!(
            "field [{field}] is null, cannot {kind} it."
        ))),
        None => Err(not_present(field)),
    }
}

/// The string of a value that must be one, or Elasticsearch's cast error.
pub(crate) fn expect_string<'v>(
    value: &'v JsonValue<'_>,
    field: &str,
) -> Result<&'v str, PipelineError> {
    value.as_str().ok_or_else(|| {
        PipelineError::illegal_argument(format!(
            "field [{field}] of type [{}] cannot be cast to [java.lang.String]",
            crate::document::java_type(value)
        ))
    })
}

/// The common `field`, `target_field` (defaulting to `field`) and `ignore_missing` options.
pub(crate) fn field_options(
    config: &mut ProcessorConfig,
) -> Result<(String, String, bool), ConfigError> {
    let field = config.string("field")?;
    let target = config
        .optional_string("target_field")?
        .unwrap_or_else(|| field.clone());
    let ignore_missing = config.boolean("ignore_missing", false)?;
    Ok((field, target, ignore_missing))
}

/// Helpers for the processors' tests: one processor, one document.
#[cfg(test)]
pub(crate) mod testing {
    use logfleet_model::json::JsonObject;
    use serde_json::Value;

    use crate::processor::{NoPipelines, Run, Step};
    use crate::resources::Resources;
    use crate::{Flow, IngestDocument, PipelineError};

    /// Runs the processor defined by `definition` (`{"type": {options}}`) on `source`.
    pub fn try_run(
        definition: Value,
        source: Value,
    ) -> Result<(Flow, IngestDocument<'static>), PipelineError> {
        let Value::Object(entry) = definition else {
            panic!("a processor definition")
        };
        let (kind, options) = entry.into_iter().next().expect("one processor");
        let step = Step::build(&kind, options, &Resources::default()).expect("a valid processor");
        let Value::Object(source) = source else {
            panic!("an object")
        };
        let mut document = IngestDocument::new("index", JsonObject::from_map(source));
        let flow = step.run(&mut document, &mut Run::new(&NoPipelines), "test")?;
        Ok((flow, document))
    }

    /// The source after the processor ran.
    pub fn run(definition: Value, source: Value) -> Value {
        let (_, document) = try_run(definition, source).expect("the processor succeeds");
        Value::Object(document.source.to_map())
    }

    /// The reason the processor failed.
    pub fn run_error(definition: Value, source: Value) -> String {
        try_run(definition, source)
            .expect_err("the processor fails")
            .reason
    }

    /// The reason a processor definition is refused.
    pub fn build_error(definition: Value) -> String {
        let Value::Object(entry) = definition else {
            panic!("a processor definition")
        };
        let (kind, options) = entry.into_iter().next().expect("one processor");
        Step::build(&kind, options, &Resources::default())
            .expect_err("refused")
            .reason
    }
}
