//! `trim`: leading and trailing whitespace removed.

super::strings::string_processor!(
    /// Trims a field.
    Trim,
    "trim",
    |text: &str| Ok(text.trim().to_owned())
);

#[cfg(test)]
mod tests {
    use crate::processors::testing::run;
    use serde_json::json;

    #[test]
    fn trims() {
        let out = run(json!({"trim": {"field": "a"}}), json!({"a": "  x y \t\n"}));
        assert_eq!(out["a"], "x y");
    }
}
