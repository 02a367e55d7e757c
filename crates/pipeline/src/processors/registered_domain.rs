//! `registered_domain`: a fully qualified domain name split along the Public Suffix List into
//! `domain`, `registered_domain`, `top_level_domain` and `subdomain`.
//!
//! The list is Mozilla's, compiled into the binary by the `psl` crate (ICANN and private
//! sections both). The split follows Elasticsearch, whose answers come from Apache
//! HttpClient's `PublicSuffixMatcher`, including its one surprise: when the longest matching
//! rule comes from the list's private section (`github.io`, `global.ssl.fastly.net`), that
//! suffix itself is the registered domain, and `top_level_domain` is what follows its first
//! dot. So `a.b.github.io` registers `github.io` under `io` with subdomain `a.b`, as it does
//! in Elasticsearch. A name under no known suffix (`foo.bar.baz`) has no information.

use logfleet_model::json::JsonValue;

use super::expect_string;
use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::{IngestDocument, not_present};
use crate::processor::{Flow, Processor, Run};

/// Splits a domain name along the Public Suffix List.
#[derive(Debug)]
pub struct RegisteredDomain {
    field: String,
    /// Where the four fields go; empty for the document's root, Elasticsearch's default.
    target_field: String,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<RegisteredDomain, ConfigError> {
    let field = config.string("field")?;
    let target_field = config.optional_string("target_field")?.unwrap_or_default();
    // Unlike most processors, Elasticsearch defaults this one to ignoring missing fields.
    let ignore_missing = config.boolean("ignore_missing", true)?;
    config.finish()?;
    Ok(RegisteredDomain {
        field,
        target_field,
        ignore_missing,
    })
}

impl Processor for RegisteredDomain {
    fn kind(&self) -> &'static str {
        "registered_domain"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let parts = match document.get(&self.field) {
            Ok(Some(value)) => match value.as_ref() {
                JsonValue::Null => None,
                other => split(expect_string(other, &self.field)?),
            },
            // Elasticsearch reads the field leniently when missing fields are ignored: a path
            // that cannot be followed counts as missing too.
            Ok(None) | Err(_) if self.ignore_missing => return Ok(Flow::Continue),
            Ok(None) => return Err(not_present(&self.field)),
            Err(error) => return Err(error),
        };
        let Some(parts) = parts else {
            if self.ignore_missing {
                return Ok(Flow::Continue);
            }
            return Err(PipelineError::illegal_argument(
                "unable to set domain information for document",
            ));
        };
        let fields = [
            ("domain", parts.domain),
            ("registered_domain", parts.registered_domain),
            ("top_level_domain", parts.top_level_domain),
            ("subdomain", parts.subdomain),
        ];
        for (name, value) in fields {
            let Some(value) = value else { continue };
            let path = if self.target_field.is_empty() {
                name.to_owned()
            } else {
                format!("{}.{name}", self.target_field)
            };
            document.set(&path, JsonValue::from(value))?;
        }
        Ok(Flow::Continue)
    }
}

/// A domain name's parts, as Elasticsearch's `DomainInfo` has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainParts {
    /// The name as given.
    pub domain: Option<String>,
    /// The registrable part: the public suffix and one more label.
    pub registered_domain: Option<String>,
    /// The effective top-level domain (the public suffix).
    pub top_level_domain: Option<String>,
    /// What comes before the registered domain.
    pub subdomain: Option<String>,
}

/// Splits `fqdn`, or `None` when it is under no known public suffix.
pub fn split(fqdn: &str) -> Option<DomainParts> {
    // HttpClient finds no rule for a name with an empty label, so neither does this.
    if fqdn.trim().is_empty() || fqdn.starts_with('.') || fqdn.ends_with('.') {
        return None;
    }
    let normalized = fqdn.to_lowercase();
    let Some(root) = domain_root(&normalized) else {
        // The name is itself a public suffix (`com`, `co.uk`).
        return Some(DomainParts {
            domain: Some(fqdn.to_owned()),
            registered_domain: None,
            top_level_domain: Some(fqdn.to_owned()),
            subdomain: None,
        });
    };
    let after_first_dot = root.find('.')? + 1;
    let subdomain = fqdn
        .rfind(&format!(".{root}"))
        .filter(|&index| index > 0)
        .map(|index| fqdn[..index].to_owned());
    Some(DomainParts {
        domain: Some(fqdn.to_owned()),
        registered_domain: Some(root.to_owned()),
        top_level_domain: Some(root[after_first_dot..].to_owned()),
        subdomain,
    })
}

/// HttpClient's `getDomainRoot`: the public suffix plus one label for an ICANN rule, the
/// suffix itself for a private one, the last label when no rule matches, and `None` when the
/// name is an ICANN suffix itself.
fn domain_root(name: &str) -> Option<&str> {
    let known = psl::suffix(name.as_bytes())
        .and_then(|suffix| suffix.typ().map(|typ| (suffix.as_bytes().len(), typ)));
    let Some((suffix_length, typ)) = known else {
        // No rule matched: HttpClient ends its walk on the last label.
        return Some(name.rsplit('.').next().unwrap_or(name));
    };
    let suffix_start = name.len() - suffix_length;
    if typ == psl::Type::Private {
        return Some(&name[suffix_start..]);
    }
    if suffix_start == 0 {
        return None;
    }
    // One more label to the left of the suffix; the dot before the suffix is skipped.
    let label_start = name[..suffix_start - 1].rfind('.').map_or(0, |dot| dot + 1);
    Some(&name[label_start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::testing::{build_error, run, run_error};
    use serde_json::json;

    fn expect(fqdn: &str, registered: Option<&str>, top_level: &str, subdomain: Option<&str>) {
        let expected = DomainParts {
            domain: Some(fqdn.to_owned()),
            registered_domain: registered.map(str::to_owned),
            top_level_domain: Some(top_level.to_owned()),
            subdomain: subdomain.map(str::to_owned),
        };
        assert_eq!(split(fqdn), Some(expected), "{fqdn}");
    }

    #[test]
    fn splits_as_elasticsearch_does() {
        expect(
            "www.example.co.uk",
            Some("example.co.uk"),
            "co.uk",
            Some("www"),
        );
        expect("example.com", Some("example.com"), "com", None);
        expect("www.google.com", Some("google.com"), "com", Some("www"));
        expect(
            "www.books.amazon.co.uk",
            Some("amazon.co.uk"),
            "co.uk",
            Some("www.books"),
        );
        expect(
            "www.example.ac.uk",
            Some("example.ac.uk"),
            "ac.uk",
            Some("www"),
        );
        expect("com", None, "com", None);
        expect("co.uk", None, "co.uk", None);
    }

    #[test]
    fn private_suffixes_register_themselves() {
        expect("a.b.github.io", Some("github.io"), "io", Some("a.b"));
        expect("googleapis.com", Some("googleapis.com"), "com", None);
        expect(
            "content-autofill.googleapis.com",
            Some("googleapis.com"),
            "com",
            Some("content-autofill"),
        );
        expect(
            "global.ssl.fastly.net",
            Some("global.ssl.fastly.net"),
            "ssl.fastly.net",
            None,
        );
        expect(
            "1.www.global.ssl.fastly.net",
            Some("global.ssl.fastly.net"),
            "ssl.fastly.net",
            Some("1.www"),
        );
    }

    #[test]
    fn names_without_a_known_suffix_have_no_parts() {
        for fqdn in [
            "",
            " ",
            ".",
            "$",
            "foo.bar.baz",
            "localhost",
            ".example.com",
            "example.com.",
        ] {
            assert_eq!(split(fqdn), None, "{fqdn:?}");
        }
    }

    #[test]
    fn writes_at_the_root_or_under_the_target() {
        let out = run(
            json!({"registered_domain": {"field": "fqdn"}}),
            json!({"fqdn": "www.example.co.uk"}),
        );
        assert_eq!(
            out,
            json!({
                "fqdn": "www.example.co.uk",
                "domain": "www.example.co.uk",
                "registered_domain": "example.co.uk",
                "top_level_domain": "co.uk",
                "subdomain": "www"
            })
        );
        let out = run(
            json!({"registered_domain": {"field": "fqdn", "target_field": "url"}}),
            json!({"fqdn": "example.com"}),
        );
        assert_eq!(
            out["url"],
            json!({
                "domain": "example.com",
                "registered_domain": "example.com",
                "top_level_domain": "com"
            })
        );
    }

    #[test]
    fn invalid_and_missing_input() {
        // Missing fields and unknown names are ignored by default, as in Elasticsearch.
        let out = run(
            json!({"registered_domain": {"field": "fqdn"}}),
            json!({"fqdn": "foo.bar.baz"}),
        );
        assert_eq!(out, json!({"fqdn": "foo.bar.baz"}));
        let out = run(json!({"registered_domain": {"field": "fqdn"}}), json!({}));
        assert_eq!(out, json!({}));
        let strict = json!({"registered_domain": {"field": "fqdn", "ignore_missing": false}});
        assert_eq!(
            run_error(strict.clone(), json!({"fqdn": "foo.bar.baz"})),
            "unable to set domain information for document"
        );
        assert_eq!(
            run_error(strict.clone(), json!({"fqdn": ""})),
            "unable to set domain information for document"
        );
        assert_eq!(
            run_error(strict.clone(), json!({})),
            "field [fqdn] not present as part of path [fqdn]"
        );
        assert_eq!(
            run_error(strict, json!({"fqdn": 12})),
            "field [fqdn] of type [java.lang.Integer] cannot be cast to [java.lang.String]"
        );
        assert_eq!(
            build_error(json!({"registered_domain": {}})),
            "[field] required property is missing"
        );
        assert!(
            build_error(json!({"registered_domain": {"field": "f", "target": "x"}}))
                .contains("[target]")
        );
    }
}
