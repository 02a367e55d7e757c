//! `fail`: the document fails with a message (a template).

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

/// Fails the document.
#[derive(Debug)]
pub struct Fail {
    message: Template,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Fail, ConfigError> {
    let message = config.string("message")?;
    let message = Template::compile(&message).map_err(|reason| config.error("message", reason))?;
    config.finish()?;
    Ok(Fail { message })
}

impl Processor for Fail {
    fn kind(&self) -> &'static str {
        "fail"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        Err(PipelineError::new(
            "fail_processor_exception",
            self.message.render(document),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::run_error;
    use serde_json::json;

    #[test]
    fn fails_with_the_message() {
        let error = run_error(
            json!({"fail": {"message": "no {{x}}"}}),
            json!({"x": "way"}),
        );
        assert_eq!(error, "no way");
    }
}
