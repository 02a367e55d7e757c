//! Processors, the options every processor has, and how one runs.
//!
//! A processor is built once, when its pipeline is stored, from a [`ProcessorConfig`]; each
//! lives in its own file under `processors/` as `build(config) -> impl Processor`. A [`Step`]
//! wraps it with the options Elasticsearch gives every processor — `if`, `tag`,
//! `description`, `ignore_failure`, `on_failure` — so that processors only do their own work.

use std::fmt;
use std::sync::Arc;

use logfleet_model::json::JsonValue;
use serde_json::{Map, Value, json};

use crate::condition::Condition;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::pipeline::Pipeline;
use crate::resources::Resources;
use crate::{PipelineError, processors};

/// What the pipeline does after a processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next processor.
    Continue,
    /// The document is dropped: nothing more runs and nothing is written.
    Drop,
    /// The current pipeline ends here (`terminate`, `reroute`); a calling pipeline goes on.
    Stop,
}

/// One kind of processing.
pub trait Processor: Send + Sync + fmt::Debug {
    /// The processor's type, as written in pipelines: `set`, `grok`…
    fn kind(&self) -> &'static str;
    /// Transforms the document.
    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError>;
}

/// Where the `pipeline` processor finds the pipelines it calls.
pub trait PipelineSource: Send + Sync {
    /// The stored pipeline `id`.
    fn pipeline(&self, id: &str) -> Option<Arc<Pipeline>>;
}

/// No pipelines: for running a single pipeline that calls none.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPipelines;

impl PipelineSource for NoPipelines {
    fn pipeline(&self, _id: &str) -> Option<Arc<Pipeline>> {
        None
    }
}

/// The state of one document's run through pipelines.
pub struct Run<'r> {
    /// The pipelines `pipeline` processors can call.
    pub pipelines: &'r dyn PipelineSource,
    /// The pipelines being run, outermost first, to refuse cycles.
    pub stack: Vec<String>,
    /// Each processor's outcome, when `_simulate` asked for `verbose`.
    pub trace: Option<Vec<Value>>,
}

impl fmt::Debug for Run<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Run")
            .field("stack", &self.stack)
            .field("tracing", &self.trace.is_some())
            .finish()
    }
}

impl<'r> Run<'r> {
    /// A run that can call the pipelines of `pipelines`.
    pub fn new(pipelines: &'r dyn PipelineSource) -> Run<'r> {
        Run {
            pipelines,
            stack: Vec::new(),
            trace: None,
        }
    }

    /// A run that records each processor's outcome, for `_simulate?verbose`.
    pub fn traced(pipelines: &'r dyn PipelineSource) -> Run<'r> {
        Run {
            trace: Some(Vec::new()),
            ..Run::new(pipelines)
        }
    }

    fn record(&mut self, result: impl FnOnce() -> Value) {
        if let Some(trace) = &mut self.trace {
            trace.push(result());
        }
    }
}

/// A processor with its common options.
#[derive(Debug)]
pub struct Step {
    processor: Box<dyn Processor>,
    tag: Option<String>,
    description: Option<String>,
    condition: Option<Condition>,
    ignore_failure: bool,
    on_failure: Vec<Step>,
}

impl Step {
    /// A processor without options: for built-in pipelines.
    pub fn plain(processor: Box<dyn Processor>) -> Step {
        Step {
            processor,
            tag: None,
            description: None,
            condition: None,
            ignore_failure: false,
            on_failure: Vec::new(),
        }
    }

    /// Builds the steps of a `processors` or `on_failure` array.
    pub fn build_all(
        definitions: &[Value],
        resources: &Resources,
    ) -> Result<Vec<Step>, ConfigError> {
        let mut steps = Vec::with_capacity(definitions.len());
        for definition in definitions {
            let Value::Object(entry) = definition else {
                return Err(ConfigError::parse(format!(
                    "processor definitions must be objects, found [{definition}]"
                )));
            };
            for (kind, options) in entry {
                steps.push(Step::build(kind, options.clone(), resources)?);
            }
        }
        Ok(steps)
    }

    /// Builds one processor of type `kind` from its options.
    pub fn build(kind: &str, options: Value, resources: &Resources) -> Result<Step, ConfigError> {
        let options = match options {
            Value::Object(options) => options,
            // `"script": "ctx.x = 1"` is short for `{"source": "ctx.x = 1"}`.
            Value::String(source) if kind == "script" => {
                let mut options = Map::new();
                options.insert("source".to_owned(), Value::String(source));
                options
            }
            other => {
                return Err(ConfigError {
                    processor_type: Some(kind.to_owned()),
                    ..ConfigError::parse(format!(
                        "[{kind}] processor config isn't a map, but of type [{}]",
                        crate::config::type_name(&other)
                    ))
                });
            }
        };
        let mut config = ProcessorConfig::new(kind, options);
        let tag = config.optional_string("tag")?;
        let description = config.optional_string("description")?;
        let ignore_failure = config.boolean("ignore_failure", false)?;
        let condition = match config.take("if") {
            None | Some(Value::Null) => None,
            Some(source) => Some(Condition::compile(&config, source)?),
        };
        let on_failure = match config.take("on_failure") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(definitions)) if definitions.is_empty() => {
                return Err(config.error("on_failure", "processors list cannot be empty"));
            }
            Some(Value::Array(definitions)) => Step::build_all(&definitions, resources)?,
            Some(other) => {
                return Err(config.error(
                    "on_failure",
                    format!(
                        "property isn't a list, but of type [{}]",
                        crate::config::type_name(&other)
                    ),
                ));
            }
        };
        let processor = processors::build(config, resources)?;
        Ok(Step {
            processor,
            tag,
            description,
            condition,
            ignore_failure,
            on_failure,
        })
    }

    /// The processor's type.
    pub fn kind(&self) -> &'static str {
        self.processor.kind()
    }

    /// Runs the processor on `document` if its condition holds, handling its failure as its
    /// options say. `pipeline` is the id of the pipeline it belongs to.
    pub fn run(
        &self,
        document: &mut IngestDocument<'_>,
        run: &mut Run<'_>,
        pipeline: &str,
    ) -> Result<Flow, PipelineError> {
        if let Some(condition) = &self.condition {
            let holds = condition
                .test(document)
                .map_err(|error| self.attribute(error, pipeline, &run.stack))?;
            if !holds {
                run.record(|| {
                    let mut result = self.result_head("skipped");
                    result.insert(
                        "if".to_owned(),
                        json!({"condition": condition.source(), "result": false}),
                    );
                    Value::Object(result)
                });
                return Ok(Flow::Continue);
            }
        }
        // The `pipeline` processor records its callee's processors after its own line.
        let position = run.trace.as_ref().map(Vec::len);
        match self.processor.process(document, run) {
            Ok(flow) => {
                let status = if flow == Flow::Drop {
                    "dropped"
                } else {
                    "success"
                };
                if let (Some(trace), Some(position)) = (&mut run.trace, position) {
                    let mut result = self.result_head(status);
                    self.add_condition(&mut result);
                    if flow != Flow::Drop {
                        result.insert("doc".to_owned(), document.to_simulated());
                    }
                    trace.insert(position, Value::Object(result));
                }
                Ok(flow)
            }
            Err(error) => {
                let error = self.attribute(error, pipeline, &run.stack);
                if self.ignore_failure {
                    if let (Some(trace), Some(position)) = (&mut run.trace, position) {
                        let mut result = self.result_head("error_ignored");
                        self.add_condition(&mut result);
                        result.insert(
                            "ignored_error".to_owned(),
                            json!({ "error": error.to_json() }),
                        );
                        result.insert("doc".to_owned(), document.to_simulated());
                        trace.insert(position, Value::Object(result));
                    }
                    return Ok(Flow::Continue);
                }
                if let (Some(trace), Some(position)) = (&mut run.trace, position) {
                    let mut result = self.result_head("error");
                    self.add_condition(&mut result);
                    result.insert("error".to_owned(), error.to_json());
                    trace.insert(position, Value::Object(result));
                }
                if self.on_failure.is_empty() {
                    return Err(error);
                }
                handle_failure(&self.on_failure, document, run, pipeline, &error)
            }
        }
    }

    fn result_head(&self, status: &str) -> Map<String, Value> {
        let mut result = Map::new();
        result.insert("processor_type".to_owned(), json!(self.kind()));
        result.insert("status".to_owned(), json!(status));
        if let Some(tag) = &self.tag {
            result.insert("tag".to_owned(), json!(tag));
        }
        if let Some(description) = &self.description {
            result.insert("description".to_owned(), json!(description));
        }
        result
    }

    fn add_condition(&self, result: &mut Map<String, Value>) {
        if let Some(condition) = &self.condition {
            result.insert(
                "if".to_owned(),
                json!({"condition": condition.source(), "result": true}),
            );
        }
    }

    /// Names this processor, and the pipelines running (`stack`, outermost first), in an
    /// error that does not name them yet.
    fn attribute(
        &self,
        mut error: PipelineError,
        pipeline: &str,
        stack: &[String],
    ) -> PipelineError {
        if error.processor_type.is_none() {
            error.processor_type = Some(self.kind());
            error.processor_tag.clone_from(&self.tag);
            error.pipeline = Some(pipeline.to_owned());
            error.pipeline_trace = stack.into();
        }
        error
    }
}

/// Runs `handlers` (a processor's or a pipeline's `on_failure`) with the failure's details
/// in `_ingest.on_failure_*`, removed again afterwards as Elasticsearch does.
pub fn handle_failure(
    handlers: &[Step],
    document: &mut IngestDocument<'_>,
    run: &mut Run<'_>,
    pipeline: &str,
    error: &PipelineError,
) -> Result<Flow, PipelineError> {
    let details = [
        ("on_failure_message", Some(error.reason.clone())),
        (
            "on_failure_processor_type",
            error.processor_type.map(str::to_owned),
        ),
        ("on_failure_processor_tag", error.processor_tag.clone()),
        ("on_failure_pipeline", error.pipeline.clone()),
    ];
    let saved: Vec<_> = details
        .iter()
        .map(|(key, _)| document.ingest.remove(key))
        .collect();
    for (key, value) in &details {
        if let Some(value) = value {
            document
                .ingest
                .insert(*key, JsonValue::from(value.as_str()));
        }
    }
    let mut outcome = Ok(Flow::Continue);
    for handler in handlers {
        match handler.run(document, run, pipeline) {
            Ok(Flow::Continue) => {}
            other => {
                outcome = other;
                break;
            }
        }
    }
    for ((key, _), previous) in details.iter().zip(saved) {
        document.ingest.remove(key);
        if let Some(previous) = previous {
            document.ingest.insert(*key, previous);
        }
    }
    outcome
}
