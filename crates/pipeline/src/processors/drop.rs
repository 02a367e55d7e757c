//! `drop`: the document is not written, and nothing after this runs.

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Drops the document.
#[derive(Debug, Clone, Copy)]
pub struct Drop;

/// Builds the processor from its options.
pub fn build(config: ProcessorConfig) -> Result<Drop, ConfigError> {
    config.finish()?;
    Ok(Drop)
}

impl Processor for Drop {
    fn kind(&self) -> &'static str {
        "drop"
    }

    fn process(
        &self,
        _document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        Ok(Flow::Drop)
    }
}

#[cfg(test)]
mod tests {
    use crate::Flow;
    use crate::processors::testing::try_run;
    use serde_json::json;

    #[test]
    fn drops() {
        let (flow, _) = try_run(json!({"drop": {}}), json!({"a": 1})).unwrap();
        assert_eq!(flow, Flow::Drop);
    }
}
