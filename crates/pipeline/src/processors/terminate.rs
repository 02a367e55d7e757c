//! `terminate`: the current pipeline ends; a pipeline that called it goes on.

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Ends the current pipeline.
#[derive(Debug, Clone, Copy)]
pub struct Terminate;

/// Builds the processor from its options.
pub fn build(config: ProcessorConfig) -> Result<Terminate, ConfigError> {
    config.finish()?;
    Ok(Terminate)
}

impl Processor for Terminate {
    fn kind(&self) -> &'static str {
        "terminate"
    }

    fn process(
        &self,
        _document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        Ok(Flow::Stop)
    }
}

#[cfg(test)]
mod tests {
    use crate::Flow;
    use crate::processors::testing::try_run;
    use serde_json::json;

    #[test]
    fn stops() {
        let (flow, _) = try_run(json!({"terminate": {}}), json!({})).unwrap();
        assert_eq!(flow, Flow::Stop);
    }
}
