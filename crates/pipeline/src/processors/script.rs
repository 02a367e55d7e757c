//! `script`: a Painless script (the subset of [`crate::script`]) that reads and changes the
//! document. A script outside the subset is refused when the pipeline is stored.

use logfleet_model::json::JsonObject;
use serde_json::Value;

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};
use crate::script::Script;

/// Runs a script.
#[derive(Debug)]
pub struct ScriptProcessor {
    script: Script,
    params: JsonObject<'static>,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<ScriptProcessor, ConfigError> {
    if config.optional_string("id")?.is_some() {
        return Err(config.error(
            "id",
            "stored scripts are not supported: give the script's [source]",
        ));
    }
    let language = config
        .optional_string("lang")?
        .unwrap_or_else(|| "painless".to_owned());
    if language != "painless" {
        return Err(config.error("lang", format!("script_lang not supported [{language}]")));
    }
    let source = match config.take("source").or_else(|| config.take("inline")) {
        Some(Value::String(source)) => source,
        Some(_) => return Err(config.error("source", "property isn't a string")),
        None => return Err(config.error("source", "required property is missing")),
    };
    let params = config.optional_map("params")?.unwrap_or_default();
    config.take("options");
    let script = Script::compile(&source).map_err(|error| ConfigError {
        kind: "script_exception",
        reason: error.reason().to_owned(),
        processor_type: Some("script".to_owned()),
        processor_tag: config.tag().map(str::to_owned),
        property_name: Some("source".to_owned()),
    })?;
    config.finish()?;
    Ok(ScriptProcessor {
        script,
        params: JsonObject::from_map(params),
    })
}

impl Processor for ScriptProcessor {
    fn kind(&self) -> &'static str {
        "script"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        self.script.execute(document, &self.params)?;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{build_error, run, run_error};
    use serde_json::json;

    #[test]
    fn runs_scripts_with_params() {
        let out = run(
            json!({"script": {"source": "ctx.total = ctx.a + params.b; if (ctx.total > 5) { ctx.big = true }", "params": {"b": 4}}}),
            json!({"a": 3}),
        );
        assert_eq!(out, json!({"a": 3, "total": 7, "big": true}));
        let out = run(
            json!({"script": "ctx.tags = [ctx.tag]; ctx.remove('tag')"}),
            json!({"tag": "x"}),
        );
        assert_eq!(out, json!({"tags": ["x"]}));
    }

    #[test]
    fn refuses_scripts_outside_the_subset() {
        assert!(
            build_error(json!({"script": {"source": "ctx.a = new TreeMap()"}}))
                .contains("unsupported construct")
        );
        assert!(
            build_error(json!({"script": {"source": "x", "lang": "mustache"}}))
                .contains("script_lang not supported")
        );
        assert!(
            run_error(
                json!({"script": {"source": "ctx.missing.field = 1"}}),
                json!({})
            )
            .contains("null")
        );
    }

    #[test]
    fn conditions_choose_what_runs() {
        let definition = json!({"set": {"field": "flag", "value": true, "if": "ctx.level == 'error' && ctx.http?.status != null && ctx.http.status >= 500"}});
        assert_eq!(
            run(
                definition.clone(),
                json!({"level": "error", "http": {"status": 503}})
            )["flag"],
            true
        );
        assert!(
            run(definition.clone(), json!({"level": "error"}))
                .get("flag")
                .is_none()
        );
        assert!(
            run(
                definition,
                json!({"level": "info", "http": {"status": 503}})
            )
            .get("flag")
            .is_none()
        );
        assert!(
            build_error(json!({"set": {"field": "a", "value": 1, "if": "ctx.a ==="}}))
                .contains("at 1:")
        );
        // As in Painless, comparing null with `>=` is an error, not false.
        let careless =
            json!({"set": {"field": "flag", "value": true, "if": "ctx.http?.status >= 500"}});
        assert!(run_error(careless, json!({})).contains("null"));
    }
}
