//! `uppercase`: a string, or each string of a list, in upper case.

super::strings::string_processor!(
    /// Upper-cases a field.
    Uppercase,
    "uppercase",
    |text: &str| Ok(text.to_uppercase())
);

#[cfg(test)]
mod tests {
    use crate::processors::testing::run;
    use serde_json::json;

    #[test]
    fn upper_cases() {
        let out = run(
            json!({"uppercase": {"field": "a.b"}}),
            json!({"a": {"b": "get"}}),
        );
        assert_eq!(out["a"]["b"], "GET");
    }
}
