//! `urldecode`: percent-decoding, with `+` as a space, as Java's `URLDecoder` does.

use crate::PipelineError;

super::strings::string_processor!(
    /// URL-decodes a field.
    UrlDecode,
    "urldecode",
    decode
);

/// Decodes `%XX` escapes and `+`; a broken escape or invalid UTF-8 is an error.
pub fn decode(text: &str) -> Result<String, PipelineError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(index + 1..index + 3)
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok());
                let Some(byte) = hex else {
                    return Err(PipelineError::illegal_argument(format!(
                        "URLDecoder: Illegal hex characters in escape (%) pattern in [{text}]"
                    )));
                };
                out.push(byte);
                index += 2;
            }
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8(out).map_err(|_| {
        PipelineError::illegal_argument(format!("URLDecoder: invalid UTF-8 in [{text}]"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processors::testing::run;
    use serde_json::json;

    #[test]
    fn decodes() {
        let out = run(
            json!({"urldecode": {"field": "u"}}),
            json!({"u": "%2Fa+b%C3%A9"}),
        );
        assert_eq!(out["u"], "/a bé");
        assert!(decode("%zz").is_err());
        assert!(decode("%2").is_err());
    }
}
