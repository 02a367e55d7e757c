//! A processor's `if`: a Painless condition over the document, compiled when the pipeline is
//! stored.

use logfleet_model::json::JsonObject;
use serde_json::Value;

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::script::Script;

/// A compiled condition and its source, which `_simulate` shows.
#[derive(Debug)]
pub struct Condition {
    source: String,
    script: Script,
    params: JsonObject<'static>,
}

impl Condition {
    /// Compiles the `if` option: a source string, or a script object with `source`, `lang`
    /// `painless` and `params`.
    pub fn compile(config: &ProcessorConfig, option: Value) -> Result<Condition, ConfigError> {
        let (source, params) = match option {
            Value::String(source) => (source, serde_json::Map::new()),
            Value::Object(mut script) => {
                if let Some(lang) = script.remove("lang")
                    && lang != "painless"
                {
                    return Err(config.error("if", format!("unsupported script language [{lang}]")));
                }
                let params = match script.remove("params") {
                    None => serde_json::Map::new(),
                    Some(Value::Object(params)) => params,
                    Some(_) => return Err(config.error("if", "[params] must be an object")),
                };
                match script.remove("source") {
                    Some(Value::String(source)) => (source, params),
                    _ => return Err(config.error("if", "a script needs a [source]")),
                }
            }
            _ => return Err(config.error("if", "must be a script source or a script object")),
        };
        let script = Script::compile(&source).map_err(|error| ConfigError {
            kind: "script_exception",
            reason: error.reason().to_owned(),
            processor_type: Some(config.kind().to_owned()),
            processor_tag: config.tag().map(str::to_owned),
            property_name: Some("if".to_owned()),
        })?;
        Ok(Condition {
            source,
            script,
            params: JsonObject::from_map(params),
        })
    }

    /// The condition as it was written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the condition holds for `document`.
    pub fn test(&self, document: &IngestDocument<'_>) -> Result<bool, PipelineError> {
        self.script.test(document, &self.params)
    }
}
