//! `remove`: fields removed, or all but `keep`.

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};
use crate::template::Template;

/// Removes fields.
#[derive(Debug)]
pub struct Remove {
    fields: Vec<Template>,
    keep: Vec<Template>,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Remove, ConfigError> {
    let fields = config.optional_strings("field", true)?;
    let keep = config.optional_strings("keep", true)?;
    let (fields, keep) = match (fields, keep) {
        (Some(_), Some(_)) => {
            return Err(config.error(
                "keep",
                "Too many fields specified. Please specify either [field] or [keep].",
            ));
        }
        (None, None) => {
            return Err(config.error(
                "keep",
                "At least one of [field] or [keep] must be specified",
            ));
        }
        (fields, keep) => (fields.unwrap_or_default(), keep.unwrap_or_default()),
    };
    let compile = |names: Vec<String>, property: &str| {
        names
            .iter()
            .map(|name| Template::compile(name).map_err(|reason| config.error(property, reason)))
            .collect::<Result<Vec<_>, _>>()
    };
    let fields = compile(fields, "field")?;
    let keep = compile(keep, "keep")?;
    let ignore_missing = config.boolean("ignore_missing", false)?;
    config.finish()?;
    Ok(Remove {
        fields,
        keep,
        ignore_missing,
    })
}

impl Processor for Remove {
    fn kind(&self) -> &'static str {
        "remove"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        if !self.keep.is_empty() {
            let keep: Vec<String> = self
                .keep
                .iter()
                .map(|name| name.render(document).into_owned())
                .collect();
            let before = document.source.len();
            document.source.retain(|key, _| {
                keep.iter().any(|kept| {
                    kept == key
                        || kept
                            .strip_prefix(key)
                            .is_some_and(|rest| rest.starts_with('.'))
                })
            });
            document.source_modified |= document.source.len() != before;
            // Within kept objects, only the kept paths stay.
            for kept in &keep {
                if let Some((top, _)) = kept.split_once('.') {
                    prune(document, top, &keep);
                }
            }
            return Ok(Flow::Continue);
        }
        for field in &self.fields {
            let field = field.render(document).into_owned();
            if document.remove(&field)?.is_none() && !self.ignore_missing {
                return Err(not_present(&field));
            }
        }
        Ok(Flow::Continue)
    }
}

/// Removes the members of object `path` that no kept path reaches.
fn prune(document: &mut IngestDocument<'_>, path: &str, keep: &[String]) {
    if keep.iter().any(|kept| kept == path) {
        return;
    }
    let Ok(Some(logfleet_model::json::JsonValue::Object(object))) = document.get_mut(path) else {
        return;
    };
    let prefix = format!("{path}.");
    object.retain(|key, _| {
        keep.iter().any(|kept| {
            kept.strip_prefix(&prefix).is_some_and(|rest| {
                rest == key
                    || rest
                        .strip_prefix(key)
                        .is_some_and(|more| more.starts_with('.'))
            })
        })
    });
    let children: Vec<String> = object.keys().map(|key| format!("{prefix}{key}")).collect();
    for child in children {
        prune(document, &child, keep);
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn removes_fields_or_keeps_some() {
        let out = run(
            json!({"remove": {"field": ["a", "b.c"]}}),
            json!({"a": 1, "b": {"c": 2, "d": 3}}),
        );
        assert_eq!(out, json!({"b": {"d": 3}}));
        let error = run_error(json!({"remove": {"field": "x"}}), json!({}));
        assert_eq!(error, "field [x] not present as part of path [x]");
        let out = run(
            json!({"remove": {"field": "x", "ignore_missing": true}}),
            json!({"y": 1}),
        );
        assert_eq!(out, json!({"y": 1}));
        let out = run(
            json!({"remove": {"keep": ["a", "b.c"]}}),
            json!({"a": 1, "b": {"c": 2, "d": 3}, "e": 4}),
        );
        assert_eq!(out, json!({"a": 1, "b": {"c": 2}}));
    }
}
