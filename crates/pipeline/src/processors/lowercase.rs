//! `lowercase`: a string, or each string of a list, in lower case.

super::strings::string_processor!(
    /// Lower-cases a field.
    Lowercase,
    "lowercase",
    |text: &str| Ok(text.to_lowercase())
);

#[cfg(test)]
mod tests {
    use crate::processors::testing::{run, run_error};
    use serde_json::json;

    #[test]
    fn lower_cases_strings_and_lists() {
        let out = run(json!({"lowercase": {"field": "a"}}), json!({"a": "HeLLo"}));
        assert_eq!(out["a"], "hello");
        let out = run(
            json!({"lowercase": {"field": "a", "target_field": "b"}}),
            json!({"a": ["X", "Y"]}),
        );
        assert_eq!(out["b"], json!(["x", "y"]));
        assert_eq!(out["a"], json!(["X", "Y"]));
        let error = run_error(json!({"lowercase": {"field": "a"}}), json!({"a": 5}));
        assert_eq!(
            error,
            "field [a] of type [java.lang.Integer] cannot be cast to [java.lang.String]"
        );
        let error = run_error(json!({"lowercase": {"field": "a"}}), json!({}));
        assert_eq!(error, "field [a] not present as part of path [a]");
        let out = run(
            json!({"lowercase": {"field": "a", "ignore_missing": true}}),
            json!({}),
        );
        assert_eq!(out, json!({}));
    }
}
