//! Redaction: sensitive values never reach storage. The SDKs apply it before an event leaves
//! the process, and ingest applies it again (the `redact_secrets` processor) to whatever
//! reaches the server from elsewhere.
//!
//! Two rules, applied to every field of every event:
//!
//! - **by key**: a field whose name contains `password`, `passwd`, `pwd`, `secret`, `token`,
//!   `authorization`, `cookie`, `api_key`/`apikey`, `private_key`, `credential`,
//!   `card_number`, `credit_card` or `cvv` — ignoring ASCII case, with `-` and `_` equal, so
//!   `user_password`, `X-Api-Key` and `Set-Cookie` all match — has its whole value replaced
//!   (objects included);
//! - **by value**: inside any string (messages, `error_message`, paths, URLs…) they
//!   replace card numbers (13–19 digits, optionally grouped with single spaces or dashes,
//!   Luhn-valid, starting with 2–6 as issued card numbers do, which keeps epoch-millisecond
//!   timestamps out), `Bearer` tokens, JWTs (`eyJ…`.`…`.`…`) and the value of `key=value` or
//!   `key: value` pairs whose key is sensitive (`?token=abc`, `password: hunter2`). Integers
//!   that look like card numbers are replaced too.
//!
//! The common case — nothing sensitive — allocates nothing: every check scans the text and
//! returns it borrowed unless a replacement is needed.

use std::borrow::Cow;

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

use crate::json::{JsonObject, JsonValue};

/// Values up to this length are scanned byte by byte, longer ones with SIMD searches.
const SHORT_TEXT: usize = 128;

/// What replaces a sensitive value.
pub const REDACTED: &str = "[REDACTED]";

/// Key fragments that mark a field as sensitive.
const SENSITIVE_KEY_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "api_key",
    "apikey",
    "private_key",
    "credential",
    "card_number",
    "credit_card",
    "cvv",
];

/// The redaction rules of one SDK instance.
#[derive(Debug, Clone)]
pub struct Redactor {
    enabled: bool,
    /// The sensitive key fragments (the built-in ones and the extra ones), each also with
    /// `-` for `_`, matched ignoring ASCII case in one pass over a key.
    keys: AhoCorasick,
    /// Searchers built once: building a substring searcher costs more than running it on a
    /// short value.
    bearer_lower: Finder<'static>,
    bearer_upper: Finder<'static>,
    jwt: Finder<'static>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new(true, &[])
    }
}

impl Redactor {
    pub fn new(enabled: bool, extra_keys: &[String]) -> Self {
        let mut fragments: Vec<String> = SENSITIVE_KEY_FRAGMENTS
            .iter()
            .map(|fragment| (*fragment).to_owned())
            .chain(
                extra_keys
                    .iter()
                    .map(|key| key.to_ascii_lowercase().replace('-', "_")),
            )
            .filter(|fragment| !fragment.is_empty())
            .collect();
        let dashed: Vec<String> = fragments
            .iter()
            .filter(|fragment| fragment.contains('_'))
            .map(|fragment| fragment.replace('_', "-"))
            .collect();
        fragments.extend(dashed);
        let keys = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&fragments)
            .expect("key fragments are plain strings");
        Self {
            enabled,
            keys,
            bearer_lower: Finder::new("earer").into_owned(),
            bearer_upper: Finder::new("EARER").into_owned(),
            jwt: Finder::new("eyJ").into_owned(),
        }
    }

    /// Whether a field of this name has its whole value redacted.
    pub fn is_sensitive_key(&self, key: &str) -> bool {
        self.enabled && self.keys.is_match(key)
    }

    /// The text with card numbers, bearer tokens, JWTs and sensitive `key=value` pairs
    /// replaced; borrowed when nothing matched.
    pub fn redact_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.enabled || text.len() < 8 {
            return Cow::Borrowed(text);
        }
        let mut spans = Vec::new();
        let bytes = text.as_bytes();
        let (digits, has_separator) = if bytes.len() <= SHORT_TEXT {
            self.scan_short(bytes, &mut spans)
        } else {
            self.scan_long(bytes, &mut spans)
        };
        if digits >= 13 {
            find_card_numbers(bytes, &mut spans);
        }
        if has_separator {
            self.find_sensitive_pairs(bytes, &mut spans);
        }
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(replace_spans(text, spans))
    }

    /// One scalar pass for short values (most field values): counting digits, noting
    /// separators and spotting `bearer`/`eyJ` costs less than starting several SIMD searches.
    fn scan_short(&self, bytes: &[u8], spans: &mut Vec<(usize, usize)>) -> (usize, bool) {
        let mut digits = 0;
        let mut has_separator = false;
        for (index, &byte) in bytes.iter().enumerate() {
            match byte {
                b'0'..=b'9' => digits += 1,
                b'=' | b':' => has_separator = true,
                b'b' | b'B' => find_bearer_token_at(bytes, index, spans),
                b'e' if bytes[index..].starts_with(b"eyJ") => find_jwt_at(bytes, index, spans),
                _ => {}
            }
        }
        (digits, has_separator)
    }

    /// Long values: SIMD searches with the searchers built once.
    fn scan_long(&self, bytes: &[u8], spans: &mut Vec<(usize, usize)>) -> (usize, bool) {
        for finder in [&self.bearer_lower, &self.bearer_upper] {
            for position in finder.find_iter(bytes) {
                // The match is `earer`; the word starts one byte before.
                if let Some(start) = position.checked_sub(1) {
                    find_bearer_token_at(bytes, start, spans);
                }
            }
        }
        for start in self.jwt.find_iter(bytes) {
            find_jwt_at(bytes, start, spans);
        }
        let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
        (digits, memchr::memchr2(b'=', b':', bytes).is_some())
    }

    /// Redacts a JSON value in place, at any depth: the whole value of a sensitive key, card
    /// numbers, and secrets in any string. Whether anything changed.
    pub fn redact_json(&self, value: &mut JsonValue<'_>) -> bool {
        match value {
            JsonValue::String(text) => match self.redact_text(text) {
                Cow::Owned(redacted) => {
                    *value = JsonValue::from(redacted);
                    true
                }
                Cow::Borrowed(_) => false,
            },
            JsonValue::Number(number) => {
                if number
                    .as_u64()
                    .is_some_and(|integer| self.is_card_number(integer))
                {
                    *value = JsonValue::from(REDACTED);
                    return true;
                }
                false
            }
            JsonValue::Array(items) => items
                .iter_mut()
                .fold(false, |changed, item| self.redact_json(item) | changed),
            JsonValue::Object(object) => self.redact_object(object),
            JsonValue::Null | JsonValue::Bool(_) => false,
        }
    }

    /// [`Redactor::redact_json`] of each member of an object.
    pub fn redact_object(&self, object: &mut JsonObject<'_>) -> bool {
        let mut changed = false;
        for (key, member) in object.iter_mut() {
            if self.is_sensitive_key(key) {
                if *member != JsonValue::Null && member.as_str() != Some(REDACTED) {
                    *member = JsonValue::from(REDACTED);
                    changed = true;
                }
            } else {
                changed |= self.redact_json(member);
            }
        }
        changed
    }

    /// Whether an integer value is a card number.
    pub fn is_card_number(&self, value: u64) -> bool {
        if !self.enabled || value < 1_000_000_000_000 {
            return false;
        }
        let digits = value.to_string();
        looks_like_card(digits.as_bytes())
    }

    /// `key=value` and `key: value` pairs with a sensitive key: the value is replaced.
    fn find_sensitive_pairs(&self, bytes: &[u8], spans: &mut Vec<(usize, usize)>) {
        for separator in memchr::memchr2_iter(b'=', b':', bytes) {
            let key_end = separator;
            let key_start = bytes[..key_end]
                .iter()
                .rposition(|&b| !is_key_byte(b))
                .map_or(0, |position| position + 1);
            if key_start == key_end {
                continue;
            }
            let Ok(key) = std::str::from_utf8(&bytes[key_start..key_end]) else {
                continue;
            };
            if !self.is_sensitive_key(key) {
                continue;
            }
            let mut value_start = separator + 1;
            while value_start < bytes.len() && matches!(bytes[value_start], b' ' | b'"' | b'\'') {
                value_start += 1;
            }
            let value_end = bytes[value_start..]
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace() || matches!(b, b'&' | b',' | b';' | b'"' | b'\'')
                })
                .map_or(bytes.len(), |length| value_start + length);
            if value_end > value_start {
                spans.push((value_start, value_end));
            }
        }
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Digit runs of 13–19 digits, separated at most by single spaces or dashes, that pass
/// [`looks_like_card`].
fn find_card_numbers(bytes: &[u8], spans: &mut Vec<(usize, usize)>) {
    let mut index = 0;
    while index < bytes.len() {
        let starts_run = bytes[index].is_ascii_digit()
            && (index == 0 || !bytes[index - 1].is_ascii_alphanumeric());
        if !starts_run {
            index += 1;
            continue;
        }
        let start = index;
        let mut end = index;
        let mut digits = Vec::with_capacity(19);
        let mut cursor = index;
        while cursor < bytes.len() {
            let byte = bytes[cursor];
            if byte.is_ascii_digit() {
                digits.push(byte);
                cursor += 1;
                end = cursor;
            } else if matches!(byte, b' ' | b'-')
                && bytes.get(cursor + 1).is_some_and(u8::is_ascii_digit)
            {
                cursor += 1;
            } else {
                break;
            }
        }
        let ends_cleanly = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        if ends_cleanly && looks_like_card(&digits) {
            spans.push((start, end));
        }
        index = end.max(index + 1);
    }
}

/// 13 to 19 digits, a first digit of 2 to 6 (the issuer ranges of Visa, Mastercard, Amex,
/// Discover, JCB, Diners, UnionPay and Maestro), and a valid Luhn check digit.
fn looks_like_card(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && matches!(digits[0], b'2'..=b'6') && luhn_valid(digits)
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let value = u32::from(digit - b'0');
            if position % 2 == 1 {
                let doubled = value * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                value
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `Bearer <token>` at `start` (`Bearer`, `bearer` or `BEARER`); the token must look like one (at least 8 token
/// characters with a digit, or 20 without) so prose such as "bearer authentication" stays.
fn find_bearer_token_at(bytes: &[u8], start: usize, spans: &mut Vec<(usize, usize)>) {
    const WORD: &[u8] = b"bearer";
    let Some(word) = bytes.get(start..start + WORD.len()) else {
        return;
    };
    if !word.eq_ignore_ascii_case(WORD) {
        return;
    }
    if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
        return;
    }
    let mut token_start = start + WORD.len();
    let spaces = bytes[token_start..]
        .iter()
        .take_while(|&&b| b == b' ')
        .count();
    if spaces == 0 {
        return;
    }
    token_start += spaces;
    let token_length = bytes[token_start..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
        .count();
    let token = &bytes[token_start..token_start + token_length];
    let has_digit = token.iter().any(u8::is_ascii_digit);
    if token_length >= 20 || (token_length >= 8 && has_digit) {
        spans.push((start, token_start + token_length));
    }
}

/// A JSON Web Token at `start`: three base64url segments separated by dots, the first starting with
/// `eyJ` (the encoding of `{"`).
fn find_jwt_at(bytes: &[u8], start: usize, spans: &mut Vec<(usize, usize)>) {
    let is_segment_byte = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_');
    if start > 0 && is_segment_byte(&bytes[start - 1]) {
        return;
    }
    let mut cursor = start;
    let mut dots = 0;
    loop {
        let segment = bytes[cursor..]
            .iter()
            .take_while(|b| is_segment_byte(b))
            .count();
        cursor += segment;
        if dots == 2 || (segment == 0 && dots < 2) {
            break;
        }
        if bytes.get(cursor) == Some(&b'.') {
            dots += 1;
            cursor += 1;
        } else {
            break;
        }
    }
    if dots == 2 {
        spans.push((start, cursor));
    }
}

/// Replaces possibly overlapping byte spans (on character boundaries, since every span
/// starts and ends at ASCII bytes) with [`REDACTED`].
fn replace_spans(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut written = 0;
    for (start, end) in spans {
        if start < written {
            // Overlaps the previous replacement: widen it.
            written = written.max(end);
            continue;
        }
        out.push_str(&text[written..start]);
        out.push_str(REDACTED);
        written = end;
    }
    out.push_str(&text[written..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::default()
    }

    #[test]
    fn sensitive_keys_match_case_and_dash_insensitively() {
        let redactor = redactor();
        for key in [
            "password",
            "user_password",
            "PASSWORD",
            "Authorization",
            "x-api-key",
            "X-Api-Key",
            "api_key",
            "apiKey",
            "Set-Cookie",
            "client_secret",
            "refresh_token",
            "csrfToken",
            "db_passwd",
            "card_number",
        ] {
            assert!(redactor.is_sensitive_key(key), "{key}");
        }
        for key in [
            "username",
            "user_id",
            "session_id",
            "user_agent",
            "message",
            "duration_ms",
            "path",
        ] {
            assert!(!redactor.is_sensitive_key(key), "{key}");
        }
    }

    #[test]
    fn extra_keys_and_disabling_are_honoured() {
        let custom = Redactor::new(true, &["SSN".to_owned(), "national-id".to_owned()]);
        assert!(custom.is_sensitive_key("user_ssn"));
        assert!(custom.is_sensitive_key("NATIONAL_ID"));
        assert!(custom.is_sensitive_key("password"));
        let disabled = Redactor::new(false, &[]);
        assert!(!disabled.is_sensitive_key("password"));
        assert_eq!(
            disabled.redact_text("card 4111 1111 1111 1111"),
            "card 4111 1111 1111 1111"
        );
    }

    #[test]
    fn card_numbers_are_replaced_in_text() {
        let redactor = redactor();
        let cases = [
            (
                "paid with 4111111111111111 today",
                "paid with [REDACTED] today",
            ),
            ("card 4111 1111 1111 1111", "card [REDACTED]"),
            ("card 4111-1111-1111-1111.", "card [REDACTED]."),
            ("amex 378282246310005", "amex [REDACTED]"),
            ("5555555555554444", "[REDACTED]"),
        ];
        for (text, expected) in cases {
            assert_eq!(redactor.redact_text(text), expected, "{text}");
        }
    }

    #[test]
    fn digit_runs_that_are_not_cards_are_kept() {
        let redactor = redactor();
        for text in [
            // Luhn-invalid.
            "order 4111111111111112",
            // Epoch milliseconds start with 1.
            "at 1764173820120 ms",
            // Too short, too long.
            "id 411111111111",
            "id 41111111111111111111",
            // Part of a word (hex id).
            "trace a4111111111111111",
            "2026-11-26 16:17:00.123",
            "10.0.0.1 and 192.168.1.1",
        ] {
            assert!(
                matches!(redactor.redact_text(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn bearer_tokens_and_jwts_are_replaced() {
        let redactor = redactor();
        assert_eq!(
            redactor.redact_text("sent Authorization Bearer abcDEF123456 upstream"),
            "sent Authorization [REDACTED] upstream"
        );
        assert_eq!(redactor.redact_text("bearer a1b2c3d4e5"), "[REDACTED]");
        assert_eq!(
            redactor.redact_text("we use bearer authentication"),
            "we use bearer authentication"
        );
        let jwt =
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(
            redactor.redact_text(&format!("token was {jwt}, rejected")),
            "token was [REDACTED], rejected"
        );
        assert_eq!(
            redactor.redact_text("eyJ is not a token"),
            "eyJ is not a token"
        );
    }

    #[test]
    fn sensitive_pairs_in_text_lose_their_value() {
        let redactor = redactor();
        assert_eq!(
            redactor.redact_text("GET /login?user=bob&password=hunter2&next=/"),
            "GET /login?user=bob&password=[REDACTED]&next=/"
        );
        assert_eq!(
            redactor.redact_text("config api_key: \"abc123\" loaded"),
            "config api_key: \"[REDACTED]\" loaded"
        );
        assert_eq!(
            redactor.redact_text("user=bob status: ok"),
            "user=bob status: ok"
        );
    }

    #[test]
    fn long_values_are_scanned_like_short_ones() {
        let redactor = redactor();
        let padding = "x ".repeat(SHORT_TEXT);
        let text = format!(
            "{padding} Bearer abcDEF123456 card 4111 1111 1111 1111 password=hunter2 \
             eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln BEARER ZYXW98765432"
        );
        assert_eq!(
            redactor.redact_text(&text),
            format!(
                "{padding} [REDACTED] card [REDACTED] password=[REDACTED] [REDACTED] [REDACTED]"
            )
        );
    }

    #[test]
    fn nothing_to_redact_borrows() {
        let redactor = redactor();
        let text = "user signed up in 41 ms: everything fine";
        assert!(matches!(redactor.redact_text(text), Cow::Borrowed(_)));
    }

    #[test]
    fn integer_card_numbers_are_detected() {
        let redactor = redactor();
        assert!(redactor.is_card_number(4_111_111_111_111_111));
        assert!(!redactor.is_card_number(4_111_111_111_111_112));
        assert!(!redactor.is_card_number(1_764_173_820_120));
        assert!(!redactor.is_card_number(42));
    }

    #[test]
    fn overlapping_matches_are_merged() {
        assert_eq!(
            replace_spans("abcdefgh", vec![(1, 4), (2, 6), (7, 8)]),
            "a[REDACTED]g[REDACTED]"
        );
    }
}
