//! A stored ingest pipeline: its definition as Elasticsearch takes it, and its processors.

use logfleet_model::json::JsonValue;
use serde_json::{Map, Value};

use crate::PipelineError;
use crate::config::{ConfigError, type_name};
use crate::document::IngestDocument;
use crate::processor::{Flow, Run, Step, handle_failure};
use crate::resources::Resources;

/// The members a pipeline definition may have.
const DEFINITION_MEMBERS: [&str; 8] = [
    "description",
    "processors",
    "on_failure",
    "version",
    "_meta",
    "deprecated",
    "created_date_millis",
    "modified_date_millis",
];

/// The deepest chain of `pipeline` processors, as Elasticsearch limits it.
pub const MAX_NESTING: usize = 100;

/// A compiled pipeline.
#[derive(Debug)]
pub struct Pipeline {
    id: String,
    definition: Map<String, Value>,
    processors: Vec<Step>,
    on_failure: Vec<Step>,
}

impl Pipeline {
    /// Compiles the definition of pipeline `id` (`{"description", "processors": [...],
    /// "on_failure": [...], "version", "_meta"}`).
    pub fn compile(
        id: &str,
        definition: &Value,
        resources: &Resources,
    ) -> Result<Pipeline, ConfigError> {
        let Value::Object(definition) = definition else {
            return Err(ConfigError::parse(format!(
                "pipeline [{id}] must be an object, found [{}]",
                type_name(definition)
            )));
        };
        if let Some(unknown) = definition
            .keys()
            .find(|key| !DEFINITION_MEMBERS.contains(&key.as_str()))
        {
            return Err(ConfigError::parse(format!(
                "pipeline [{id}] doesn't support one or more provided configuration parameters \
                 [{unknown}]"
            )));
        }
        let processors = match definition.get("processors") {
            Some(Value::Array(definitions)) => Step::build_all(definitions, resources)?,
            None | Some(Value::Null) => {
                return Err(ConfigError {
                    property_name: Some("processors".to_owned()),
                    ..ConfigError::parse("[processors] required property is missing")
                });
            }
            Some(other) => {
                return Err(ConfigError::parse(format!(
                    "[processors] property isn't a list, but of type [{}]",
                    type_name(other)
                )));
            }
        };
        let on_failure = match definition.get("on_failure") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(definitions)) if definitions.is_empty() => {
                return Err(ConfigError::parse(
                    "pipeline [".to_owned()
                        + id
                        + "] cannot have an empty on-failure option defined",
                ));
            }
            Some(Value::Array(definitions)) => Step::build_all(definitions, resources)?,
            Some(other) => {
                return Err(ConfigError::parse(format!(
                    "[on_failure] property isn't a list, but of type [{}]",
                    type_name(other)
                )));
            }
        };
        match definition.get("version") {
            None | Some(Value::Null) | Some(Value::Number(_)) => {}
            Some(other) => {
                return Err(ConfigError::parse(format!(
                    "[version] property isn't an integer, but of type [{}]",
                    type_name(other)
                )));
            }
        }
        Ok(Pipeline {
            id: id.to_owned(),
            definition: definition.clone(),
            processors,
            on_failure,
        })
    }

    /// A pipeline made in code, with a description for listings.
    pub fn built_in(id: &str, description: &str, processors: Vec<Step>) -> Pipeline {
        let mut definition = Map::new();
        definition.insert("description".to_owned(), Value::from(description));
        let kinds: Vec<Value> = processors
            .iter()
            .map(|step| serde_json::json!({ step.kind(): {} }))
            .collect();
        definition.insert("processors".to_owned(), Value::Array(kinds));
        Pipeline {
            id: id.to_owned(),
            definition,
            processors,
            on_failure: Vec::new(),
        }
    }

    /// The pipeline's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The definition as it was given, for `GET /_ingest/pipeline`.
    pub fn definition(&self) -> &Map<String, Value> {
        &self.definition
    }

    /// The definition's `version`, if it has one.
    pub fn version(&self) -> Option<i64> {
        self.definition.get("version").and_then(Value::as_i64)
    }

    /// The types of its processors, in order.
    pub fn processor_kinds(&self) -> Vec<&'static str> {
        self.processors.iter().map(Step::kind).collect()
    }

    /// Runs the pipeline on `document`. [`Flow::Drop`] means the document is dropped.
    pub fn execute(
        &self,
        document: &mut IngestDocument<'_>,
        run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        if run.stack.contains(&self.id) {
            return Err(PipelineError::graph_structure(format!(
                "Cycle detected for pipeline: {}",
                self.id
            )));
        }
        if run.stack.len() >= MAX_NESTING {
            return Err(PipelineError::graph_structure(format!(
                "Too many nested pipelines: cannot exceed {MAX_NESTING}"
            )));
        }
        run.stack.push(self.id.clone());
        // `_ingest.pipeline` names the pipeline running, as templates and scripts see it.
        let caller = document
            .ingest
            .remove("pipeline")
            .unwrap_or(JsonValue::Null);
        document
            .ingest
            .insert("pipeline", JsonValue::from(self.id.as_str()));
        let outcome = self.execute_steps(document, run);
        document.ingest.remove("pipeline");
        if caller != JsonValue::Null {
            document.ingest.insert("pipeline", caller);
        }
        run.stack.pop();
        match outcome {
            Err(error) if !self.on_failure.is_empty() => {
                handle_failure(&self.on_failure, document, run, &self.id, &error).map(|flow| {
                    if flow == Flow::Drop {
                        Flow::Drop
                    } else {
                        Flow::Continue
                    }
                })
            }
            Ok(Flow::Stop) => Ok(Flow::Continue),
            other => other,
        }
    }

    fn execute_steps(
        &self,
        document: &mut IngestDocument<'_>,
        run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        for step in &self.processors {
            match step.run(document, run, &self.id)? {
                Flow::Continue => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Continue)
    }
}
