//! `pipeline`: another stored pipeline run on the document.

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

/// Calls a pipeline.
#[derive(Debug)]
pub struct CallPipeline {
    name: Template,
    ignore_missing_pipeline: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<CallPipeline, ConfigError> {
    let name = config.string("name")?;
    let name = Template::compile(&name).map_err(|reason| config.error("name", reason))?;
    let ignore_missing_pipeline = config.boolean("ignore_missing_pipeline", false)?;
    config.finish()?;
    Ok(CallPipeline {
        name,
        ignore_missing_pipeline,
    })
}

impl Processor for CallPipeline {
    fn kind(&self) -> &'static str {
        "pipeline"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let name = self.name.render(document).into_owned();
        let Some(pipeline) = run.pipelines.pipeline(&name) else {
            if self.ignore_missing_pipeline {
                return Ok(Flow::Continue);
            }
            return Err(PipelineError::illegal_argument(format!(
                "Pipeline processor configured for non-existent pipeline [{name}]"
            )));
        };
        let flow = pipeline.execute(document, run)?;
        Ok(if flow == Flow::Drop {
            Flow::Drop
        } else {
            Flow::Continue
        })
    }
}
