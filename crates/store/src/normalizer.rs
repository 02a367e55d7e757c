//! Keyword normalizers (`"normalizer"` on a `keyword` field): the value is indexed, and the
//! terms that query it are looked up, after the normalizer's filters, so that `Ann` and
//! `ann` are one term. `_source` keeps the value as given. The built-in `lowercase`, and
//! custom normalizers of the index's `analysis.normalizer` settings made of `lowercase`,
//! `uppercase`, `asciifolding` and `trim`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tantivy::tokenizer::{AsciiFoldingFilter, RawTokenizer, TextAnalyzer};

use crate::error::MappingError;

/// One filter of a normalizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormalizerFilter {
    /// Lower case.
    Lowercase,
    /// Upper case.
    Uppercase,
    /// Letters with diacritics as their ASCII base (`é` → `e`).
    Asciifolding,
    /// Leading and trailing whitespace removed.
    Trim,
}

impl NormalizerFilter {
    fn named(name: &str) -> Option<NormalizerFilter> {
        match name {
            "lowercase" => Some(NormalizerFilter::Lowercase),
            "uppercase" => Some(NormalizerFilter::Uppercase),
            "asciifolding" => Some(NormalizerFilter::Asciifolding),
            "trim" => Some(NormalizerFilter::Trim),
            _ => None,
        }
    }
}

/// `text` through `filters`, in order.
pub fn normalize<'t>(filters: &[NormalizerFilter], text: &'t str) -> Cow<'t, str> {
    let mut text = Cow::Borrowed(text);
    for filter in filters {
        text = match filter {
            NormalizerFilter::Lowercase => Cow::Owned(text.to_lowercase()),
            NormalizerFilter::Uppercase => Cow::Owned(text.to_uppercase()),
            NormalizerFilter::Trim => match text {
                Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
                Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
            },
            NormalizerFilter::Asciifolding if text.is_ascii() => text,
            NormalizerFilter::Asciifolding => {
                let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
                    .filter(AsciiFoldingFilter)
                    .build();
                let mut stream = analyzer.token_stream(&text);
                let folded = stream.next().map(|token| token.text.clone());
                Cow::Owned(folded.unwrap_or_default())
            }
        };
    }
    text
}

/// The filters of the normalizer `name` of the field `path`: the built-in `lowercase`, or a
/// custom one of the index's settings (`analysis.normalizer.<name>.filter`, read through
/// `setting`).
pub fn resolve(
    name: &str,
    path: &str,
    setting: impl Fn(&str) -> Option<Value>,
) -> Result<Vec<NormalizerFilter>, MappingError> {
    if name == "lowercase" {
        return Ok(vec![NormalizerFilter::Lowercase]);
    }
    let prefix = format!("analysis.normalizer.{name}");
    let filters = match setting(&format!("{prefix}.filter")) {
        Some(Value::Array(filters)) => filters,
        Some(Value::String(filter)) => vec![Value::String(filter)],
        Some(_) => {
            return Err(MappingError::parse(format!(
                "[{prefix}.filter] must be a list of filter names"
            )));
        }
        None if setting(&format!("{prefix}.type")).is_some()
            || setting(&format!("{prefix}.char_filter")).is_some() =>
        {
            Vec::new()
        }
        None => {
            return Err(MappingError::parse(format!(
                "Failed to parse mapping: normalizer [{name}] not found for field [{path}]"
            )));
        }
    };
    if setting(&format!("{prefix}.char_filter")).is_some() {
        return Err(MappingError::parse(format!(
            "Custom normalizer [{name}] may not use a char_filter here: Logfleet's normalizers \
             take the filters [lowercase], [uppercase], [asciifolding] and [trim]"
        )));
    }
    filters
        .iter()
        .map(|filter| {
            let filter = filter.as_str().unwrap_or_default();
            NormalizerFilter::named(filter).ok_or_else(|| {
                MappingError::parse(format!(
                    "Custom normalizer [{name}] may not use filter [{filter}]"
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn filters_apply_in_order() {
        let filters = [
            NormalizerFilter::Trim,
            NormalizerFilter::Lowercase,
            NormalizerFilter::Asciifolding,
        ];
        assert_eq!(normalize(&filters, "  Éric Müller "), "eric muller");
        assert_eq!(normalize(&[NormalizerFilter::Uppercase], "abc"), "ABC");
        assert!(matches!(normalize(&[], "as is"), Cow::Borrowed("as is")));
    }

    #[test]
    fn custom_normalizers_come_from_the_settings() {
        let settings = |key: &str| match key {
            "analysis.normalizer.folded.filter" => Some(json!(["lowercase", "asciifolding"])),
            "analysis.normalizer.stemmed.filter" => Some(json!(["stemmer"])),
            _ => None,
        };
        assert_eq!(
            resolve("folded", "user", settings).unwrap(),
            [NormalizerFilter::Lowercase, NormalizerFilter::Asciifolding]
        );
        assert_eq!(
            resolve("lowercase", "user", settings).unwrap(),
            [NormalizerFilter::Lowercase]
        );
        let unknown = resolve("nope", "user", settings).unwrap_err().to_string();
        assert!(
            unknown.contains("normalizer [nope] not found for field [user]"),
            "{unknown}"
        );
        let refused = resolve("stemmed", "user", settings)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("may not use filter [stemmer]"),
            "{refused}"
        );
    }
}

#[cfg(test)]
mod mapping_tests {
    use serde_json::json;

    use crate::mapping::{DynamicStyle, Mapping};

    #[test]
    fn a_mapping_keeps_its_normalizers() {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        mapping
            .merge_explicit(
                &json!({"properties": {"user": {"type": "keyword", "normalizer": "lowercase"}}}),
            )
            .unwrap();
        assert_eq!(
            mapping.fields["user"].normalizer,
            [super::NormalizerFilter::Lowercase]
        );
        let mut unknown = Mapping::new(DynamicStyle::Index);
        unknown
            .merge_explicit(
                &json!({"properties": {"user": {"type": "keyword", "normalizer": "nope"}}}),
            )
            .unwrap();
        assert!(unknown.resolve_normalizers(|_| None).is_err());
    }
}
