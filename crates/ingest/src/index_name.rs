//! Elasticsearch's rules for index and data stream names.

use thiserror::Error;

/// Why a name is not a valid index name; the message is Elasticsearch's `reason` text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndexNameError {
    #[error("must be lowercase")]
    NotLowercase,
    #[error("must not be empty")]
    Empty,
    #[error("must not be '.' or '..'")]
    DotOrDotDot,
    #[error("must not start with '_', '-', or '+'")]
    BadStart,
    #[error("index name is too long, ({0} > 255)")]
    TooLong(usize),
    #[error("must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?, #, :]")]
    BadCharacter,
}

/// Checks `name` against Elasticsearch's `MetadataCreateIndexService.validateIndexOrAliasName`
/// rules, in the same order, so the first reported problem is the one Elasticsearch reports.
pub fn validate_index_name(name: &str) -> Result<(), IndexNameError> {
    if name.is_empty() {
        return Err(IndexNameError::Empty);
    }
    const FORBIDDEN: &[char] = &['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'];
    if name.contains(FORBIDDEN) {
        return Err(IndexNameError::BadCharacter);
    }
    if name.starts_with(['_', '-', '+']) {
        return Err(IndexNameError::BadStart);
    }
    if name == "." || name == ".." {
        return Err(IndexNameError::DotOrDotDot);
    }
    if name.len() > 255 {
        return Err(IndexNameError::TooLong(name.len()));
    }
    if name.chars().any(char::is_uppercase) {
        return Err(IndexNameError::NotLowercase);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in [
            "logs",
            "logs-api_request-default",
            "my.index",
            "a+b",
            ".hidden",
        ] {
            assert_eq!(validate_index_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_what_elasticsearch_rejects() {
        assert_eq!(
            validate_index_name("Logs"),
            Err(IndexNameError::NotLowercase)
        );
        assert_eq!(validate_index_name("_logs"), Err(IndexNameError::BadStart));
        assert_eq!(validate_index_name("-logs"), Err(IndexNameError::BadStart));
        assert_eq!(validate_index_name("+logs"), Err(IndexNameError::BadStart));
        assert_eq!(validate_index_name(".."), Err(IndexNameError::DotOrDotDot));
        assert_eq!(
            validate_index_name("a/b"),
            Err(IndexNameError::BadCharacter)
        );
        assert_eq!(
            validate_index_name("a b"),
            Err(IndexNameError::BadCharacter)
        );
        assert_eq!(validate_index_name(""), Err(IndexNameError::Empty));
        let long = "a".repeat(256);
        assert_eq!(
            validate_index_name(&long),
            Err(IndexNameError::TooLong(256))
        );
        assert_eq!(validate_index_name(&"a".repeat(255)), Ok(()));
    }

    #[test]
    fn multibyte_names_are_measured_in_bytes() {
        let name = "é".repeat(128);
        assert_eq!(
            validate_index_name(&name),
            Err(IndexNameError::TooLong(256))
        );
    }
}
