//! `redact_secrets` (Logfleet's own): the SDKs' redaction applied again at ingest, to the
//! whole document, so that what reaches the server from a shipper or an older service is
//! held to the same rules — sensitive keys at any depth, and card numbers, bearer tokens,
//! JWTs and `password=…` pairs in any string (see [`logfleet_model::redact`]).

use logfleet_model::redact::Redactor;

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Redacts secrets anywhere in the document.
#[derive(Debug)]
pub struct RedactSecrets {
    redactor: Redactor,
}

/// Builds the processor from its options: `keys`, more key fragments to treat as sensitive.
pub fn build(mut config: ProcessorConfig) -> Result<RedactSecrets, ConfigError> {
    let keys = config.optional_strings("keys", true)?.unwrap_or_default();
    config.finish()?;
    Ok(RedactSecrets {
        redactor: Redactor::new(true, &keys),
    })
}

impl Processor for RedactSecrets {
    fn kind(&self) -> &'static str {
        "redact_secrets"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let changed = self.redactor.redact_object(&mut document.source);
        document.source_modified |= changed;
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, try_run};
    use serde_json::json;

    #[test]
    fn secrets_never_reach_storage() {
        let out = run(
            json!({"redact_secrets": {"keys": ["ssn"]}}),
            json!({
                "message": "login with Authorization: Bearer abc.def-123 for card 4111 1111 1111 1111",
                "request": {"headers": {"X-Api-Key": "k-123", "Cookie": "sid=1", "accept": "json"}},
                "users": [{"name": "ann", "password": "hunter2"}, {"name": "bob", "user_ssn": "123-45-6789"}],
                "path": "/login?user=ann&token=s3cr3t",
                "card": 4_111_111_111_111_111_u64,
                "duration_ms": 1_733_580_000_000_u64,
                "token": null
            }),
        );
        assert_eq!(out["request"]["headers"]["X-Api-Key"], "[REDACTED]");
        assert_eq!(out["request"]["headers"]["Cookie"], "[REDACTED]");
        assert_eq!(out["request"]["headers"]["accept"], "json");
        assert_eq!(out["users"][0]["password"], "[REDACTED]");
        assert_eq!(out["users"][1]["user_ssn"], "[REDACTED]");
        assert_eq!(out["path"], "/login?user=ann&token=[REDACTED]");
        assert_eq!(out["card"], "[REDACTED]");
        assert_eq!(
            out["duration_ms"], 1_733_580_000_000_u64,
            "timestamps are not cards"
        );
        assert_eq!(out["token"], serde_json::Value::Null);
        let message = out["message"].as_str().unwrap();
        assert!(
            !message.contains("abc.def") && !message.contains("4111"),
            "{message}"
        );
    }

    #[test]
    fn clean_documents_are_left_as_sent() {
        let (_, document) = try_run(
            json!({"redact_secrets": {}}),
            json!({"message": "all fine", "status_code": 200}),
        )
        .unwrap();
        assert!(
            !document.source_modified,
            "the stored source stays byte for byte"
        );
    }
}
