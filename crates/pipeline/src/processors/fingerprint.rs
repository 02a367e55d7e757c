//! `fingerprint`: a hash of the values of some fields, so that the same content gets the same
//! id (to deduplicate events, or to pseudonymise them with a `salt`).
//!
//! The bytes hashed are Elasticsearch's, so a fingerprint computed here equals the one a
//! cluster computes for the same document: the salt, then for each field in name order its
//! value, where a scalar is a zero byte followed by its encoding (strings as UTF-8, numbers
//! little-endian as Java holds them — `int` in 4 bytes when it fits, `long` in 8, `double` as
//! its IEEE bits —, `true` as 1, `false` as 2, `null` as nothing), a list is its items in order
//! and an object is, for each key in order, a zero byte, the key, then its value. The digest
//! is base64-encoded.

use base64::Engine as _;
use logfleet_model::json::JsonValue;
use md5::Md5;
use sha1::{Digest, Sha1};
use sha2::{Sha256, Sha512};

use crate::PipelineError;
use crate::config::{ConfigError, ProcessorConfig};
use crate::document::IngestDocument;
use crate::processor::{Flow, Processor, Run};

/// Written before every scalar and every object key.
const DELIMITER: u8 = 0;
const TRUE_BYTE: u8 = 1;
const FALSE_BYTE: u8 = 2;

/// The hash methods, named as Elasticsearch names them.
const METHODS: [&str; 5] = ["MD5", "SHA-1", "SHA-256", "SHA-512", "MurmurHash3"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Md5,
    Sha1,
    Sha256,
    Sha512,
    /// MurmurHash3 x64 128-bit with seed 0, its two halves written big-endian.
    Murmur3,
}

impl Method {
    fn named(name: &str) -> Option<Method> {
        Some(match name {
            "MD5" => Method::Md5,
            "SHA-1" => Method::Sha1,
            "SHA-256" => Method::Sha256,
            "SHA-512" => Method::Sha512,
            "MurmurHash3" => Method::Murmur3,
            _ => return None,
        })
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Method::Md5 => Md5::digest(bytes).to_vec(),
            Method::Sha1 => Sha1::digest(bytes).to_vec(),
            Method::Sha256 => Sha256::digest(bytes).to_vec(),
            Method::Sha512 => Sha512::digest(bytes).to_vec(),
            Method::Murmur3 => {
                let (high, low) = murmur3_x64_128(bytes, 0);
                let mut digest = Vec::with_capacity(16);
                digest.extend_from_slice(&high.to_be_bytes());
                digest.extend_from_slice(&low.to_be_bytes());
                digest
            }
        }
    }
}

/// Hashes the values of fields.
#[derive(Debug)]
pub struct Fingerprint {
    /// In Java's natural string order, which the hash depends on.
    fields: Vec<String>,
    target_field: String,
    salt: Vec<u8>,
    method: Method,
    ignore_missing: bool,
}

/// Builds the processor from its options.
pub fn build(mut config: ProcessorConfig) -> Result<Fingerprint, ConfigError> {
    let mut fields = config.strings("fields", false)?;
    if fields.is_empty() {
        return Err(config.error("fields", "must specify at least one field"));
    }
    fields.sort_by(|left, right| java_order(left, right));
    let target_field = config
        .optional_string("target_field")?
        .unwrap_or_else(|| "fingerprint".to_owned());
    // Elasticsearch ignores a salt made of whitespace only (`Strings.hasText`).
    let salt = config
        .optional_string("salt")?
        .filter(|salt| !salt.trim().is_empty())
        .map(String::into_bytes)
        .unwrap_or_default();
    let method = match config.optional_string("method")? {
        None => Method::Sha1,
        Some(name) => Method::named(&name).ok_or_else(|| {
            config.error(
                "method",
                format!(
                    "[{name}] must be one of the supported hash methods [{}]",
                    METHODS.join(",")
                ),
            )
        })?,
    };
    let ignore_missing = config.boolean("ignore_missing", false)?;
    config.finish()?;
    Ok(Fingerprint {
        fields,
        target_field,
        salt,
        method,
        ignore_missing,
    })
}

/// Java's `String.compareTo`: UTF-16 code units, which differs from byte order once
/// characters outside the Basic Multilingual Plane meet ones above U+E000.
fn java_order(left: &str, right: &str) -> std::cmp::Ordering {
    left.encode_utf16().cmp(right.encode_utf16())
}

/// Appends the bytes Elasticsearch hashes for `value`.
fn serialize(value: &JsonValue<'_>, out: &mut Vec<u8>) -> Result<(), PipelineError> {
    match value {
        JsonValue::Array(items) => {
            for item in items {
                serialize(item, out)?;
            }
        }
        JsonValue::Object(object) => {
            let mut members: Vec<_> = object.iter().collect();
            members.sort_by(|(left, _), (right, _)| java_order(left, right));
            for (key, member) in members {
                out.push(DELIMITER);
                out.extend_from_slice(key.as_bytes());
                serialize(member, out)?;
            }
        }
        scalar => {
            out.push(DELIMITER);
            serialize_scalar(scalar, out)?;
        }
    }
    Ok(())
}

fn serialize_scalar(value: &JsonValue<'_>, out: &mut Vec<u8>) -> Result<(), PipelineError> {
    match value {
        JsonValue::Null => {}
        JsonValue::Bool(true) => out.push(TRUE_BYTE),
        JsonValue::Bool(false) => out.push(FALSE_BYTE),
        JsonValue::String(text) => out.extend_from_slice(text.as_bytes()),
        JsonValue::Number(number) => {
            // JSON numbers reach Java as Integer, Long or Double, whichever holds them.
            if let Some(integer) = number.as_i64() {
                match i32::try_from(integer) {
                    Ok(small) => out.extend_from_slice(&small.to_le_bytes()),
                    Err(_) => out.extend_from_slice(&integer.to_le_bytes()),
                }
            } else if number.is_u64() {
                return Err(PipelineError::illegal_argument(
                    "cannot convert object of type [java.math.BigInteger] to bytes",
                ));
            } else {
                let float = number.as_f64().unwrap_or(f64::NAN);
                out.extend_from_slice(&float.to_bits().to_le_bytes());
            }
        }
        JsonValue::Array(_) | JsonValue::Object(_) => serialize(value, out)?,
    }
    Ok(())
}

/// MurmurHash3's x64 128-bit variant (Austin Appleby's reference `MurmurHash3_x64_128`):
/// the two 64-bit halves of the hash.
fn murmur3_x64_128(bytes: &[u8], seed: u64) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let mix_k1 = |k1: u64| k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    let mix_k2 = |k2: u64| k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    let (mut h1, mut h2) = (seed, seed);
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        let (low, high) = block.split_at(8);
        let k1 = u64::from_le_bytes(low.try_into().unwrap_or_default());
        let k2 = u64::from_le_bytes(high.try_into().unwrap_or_default());
        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let little_endian = |part: &[u8]| {
        part.iter()
            .rev()
            .fold(0_u64, |word, byte| (word << 8) | u64::from(*byte))
    };
    if tail.len() > 8 {
        h2 ^= mix_k2(little_endian(&tail[8..]));
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(little_endian(&tail[..tail.len().min(8)]));
    }
    let length = bytes.len() as u64;
    h1 ^= length;
    h2 ^= length;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

impl Processor for Fingerprint {
    fn kind(&self) -> &'static str {
        "fingerprint"
    }

    fn process(
        &self,
        document: &mut IngestDocument<'_>,
        _run: &mut Run<'_>,
    ) -> Result<Flow, PipelineError> {
        let mut bytes = self.salt.clone();
        let mut hashed_any = false;
        for field in &self.fields {
            // Elasticsearch reads each field leniently: a path that cannot be followed (a
            // member of a string) is a missing field like any other.
            let value = document.get(field).ok().flatten();
            let Some(value) = value.filter(|value| **value != JsonValue::Null) else {
                if self.ignore_missing {
                    continue;
                }
                return Err(PipelineError::illegal_argument(format!(
                    "missing field [{field}] when calculating fingerprint"
                )));
            };
            serialize(&value, &mut bytes)?;
            hashed_any = true;
        }
        // Elasticsearch leaves the target alone when every field is missing.
        if hashed_any {
            let digest = self.method.digest(&bytes);
            let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
            document.set(&self.target_field, JsonValue::from(encoded))?;
        }
        Ok(Flow::Continue)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::murmur3_x64_128;
    use crate::processors::testing::{build_error, run, run_error};

    #[test]
    fn hashes_fields_in_name_order_as_elasticsearch_does() {
        // Elasticsearch's FingerprintProcessorTests: the same fields in any order, one hash.
        let out = run(
            json!({"fingerprint": {"fields": ["foo", "bar"]}}),
            json!({"foo": "fooValue", "bar": "barValue"}),
        );
        assert_eq!(out["fingerprint"], "IgxzmZVknx4+Og/eUpvIlqH9PdI=");
        let out = run(
            json!({"fingerprint": {"fields": ["bar", "foo"]}}),
            json!({"bar": "barValue", "foo": "fooValue"}),
        );
        assert_eq!(out["fingerprint"], "IgxzmZVknx4+Og/eUpvIlqH9PdI=");
    }

    #[test]
    fn every_method_matches_elasticsearch() {
        let expected = [
            ("MD5", "b+3QyaPYdnUF1lb5IKE+1g=="),
            ("SHA-1", "SX/93t223OurJvgMUOCtSl9hcpg="),
            ("SHA-256", "zDQYTy34tBlmNedlDdn++N7NN+wBY15mCoPDINmUxXc="),
            (
                "SHA-512",
                "xNIpYyJzRmg5R0T44ZORC2tgh8N4tVtTFzD5AdBqxmdOuRUjibQQ64lgefkbuZFl8Hv9ze9U6PAmrlgJPcRPGA==",
            ),
            ("MurmurHash3", "yjfaOoy2UQ3EHZRAzFK9sw=="),
        ];
        for (method, fingerprint) in expected {
            let out = run(
                json!({"fingerprint": {"fields": ["foo", "bar"], "method": method}}),
                json!({"foo": "foo", "bar": "bar"}),
            );
            assert_eq!(out["fingerprint"], fingerprint, "{method}");
        }
    }

    #[test]
    fn salt_and_target_field() {
        let out = run(
            json!({"fingerprint": {"fields": ["foo"], "salt": "salt", "target_field": "event.hash"}}),
            json!({"foo": "foo"}),
        );
        assert_eq!(out["event"]["hash"], "rWTTCYvRPQAzKXydmKwyC+//dmM=");
        let blank_salt = run(
            json!({"fingerprint": {"fields": ["foo"], "salt": "  "}}),
            json!({"foo": "foo"}),
        );
        let no_salt = run(
            json!({"fingerprint": {"fields": ["foo"]}}),
            json!({"foo": "foo"}),
        );
        assert_eq!(blank_salt["fingerprint"], no_salt["fingerprint"]);
        assert_eq!(no_salt["fingerprint"], "WoyqQDn9vALAGmScjA9Z2yg7sos=");
    }

    #[test]
    fn missing_fields_fail_unless_ignored() {
        let fields = json!(["foo", "bar", "baz"]);
        let out = run(
            json!({"fingerprint": {"fields": fields, "ignore_missing": true}}),
            json!({"foo": "foo", "bar": "foo"}),
        );
        assert_eq!(out["fingerprint"], "vjq2RyU5UA8vzeM5gIbfrOGir7w=");
        let out = run(
            json!({"fingerprint": {"fields": fields, "ignore_missing": true}}),
            json!({"foo": "foo", "bar": "foo", "baz": "foo"}),
        );
        assert_eq!(out["fingerprint"], "2Ozd89kaee2AnbrjU8zB6QGn9Wo=");
        let out = run(
            json!({"fingerprint": {"fields": ["nope"], "ignore_missing": true}}),
            json!({"foo": "foo"}),
        );
        assert_eq!(out, json!({"foo": "foo"}), "no value, no fingerprint");
        assert_eq!(
            run_error(
                json!({"fingerprint": {"fields": fields}}),
                json!({"foo": "foo", "bar": "foo", "baz": null}),
            ),
            "missing field [baz] when calculating fingerprint"
        );
        assert_eq!(
            run_error(
                json!({"fingerprint": {"fields": ["foo.inner"]}}),
                json!({"foo": "a string has no members"}),
            ),
            "missing field [foo.inner] when calculating fingerprint"
        );
    }

    #[test]
    fn values_are_serialised_by_type() {
        // Objects hash as sorted key/value pairs, lists in order, so member order is moot.
        let one = run(
            json!({"fingerprint": {"fields": ["o"], "method": "MD5"}}),
            json!({"o": {"b": [1, 2.5, true, null], "a": {"y": 5_000_000_000_i64, "x": false}}}),
        );
        let other = run(
            json!({"fingerprint": {"fields": ["o"], "method": "MD5"}}),
            json!({"o": {"a": {"x": false, "y": 5_000_000_000_i64}, "b": [1, 2.5, true, null]}}),
        );
        assert_eq!(one["fingerprint"], other["fingerprint"]);

        // The exact bytes: DELIMITER "a" DELIMITER "x" DELIMITER 0x02 DELIMITER "y" DELIMITER
        // long(5e9) DELIMITER "b" DELIMITER int(1) DELIMITER double(2.5) DELIMITER 0x01 DELIMITER.
        let mut bytes = vec![0, b'a', 0, b'x', 0, 2, 0, b'y', 0];
        bytes.extend_from_slice(&5_000_000_000_i64.to_le_bytes());
        bytes.extend_from_slice(&[0, b'b', 0]);
        bytes.extend_from_slice(&1_i32.to_le_bytes());
        bytes.push(0);
        bytes.extend_from_slice(&2.5_f64.to_bits().to_le_bytes());
        bytes.extend_from_slice(&[0, 1, 0]);
        let md5 = <md5::Md5 as sha1::Digest>::digest(&bytes);
        use base64::Engine as _;
        assert_eq!(
            one["fingerprint"],
            base64::engine::general_purpose::STANDARD.encode(md5)
        );
    }

    #[test]
    fn a_number_java_cannot_hold_fails() {
        assert_eq!(
            run_error(
                json!({"fingerprint": {"fields": ["n"]}}),
                json!({"n": u64::MAX}),
            ),
            "cannot convert object of type [java.math.BigInteger] to bytes"
        );
    }

    #[test]
    fn murmur3_matches_the_reference_vectors() {
        // From the reference implementation's test suite (Python's mmh3.hash128, seed 0).
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
        let (high, low) = murmur3_x64_128(b"The quick brown fox jumps over the lazy dog", 0);
        assert_eq!((high, low), (0xe34b_bc7b_bc07_1b6c, 0x7a43_3ca9_c49a_9347));
    }

    #[test]
    fn on_failure_catches_a_missing_field() {
        let out = run(
            json!({"fingerprint": {
                "fields": ["absent"],
                "on_failure": [{"set": {"field": "error", "value": "{{_ingest.on_failure_message}}"}}]
            }}),
            json!({"present": 1}),
        );
        assert_eq!(
            out["error"],
            "missing field [absent] when calculating fingerprint"
        );
        assert!(out.get("fingerprint").is_none());
    }

    #[test]
    fn refuses_bad_options() {
        assert_eq!(
            build_error(json!({"fingerprint": {"fields": []}})),
            "[fields] must specify at least one field"
        );
        assert_eq!(
            build_error(json!({"fingerprint": {}})),
            "[fields] required property is missing"
        );
        assert_eq!(
            build_error(json!({"fingerprint": {"fields": ["a"], "method": "SHA-384"}})),
            "[method] [SHA-384] must be one of the supported hash methods \
             [MD5,SHA-1,SHA-256,SHA-512,MurmurHash3]"
        );
        assert!(
            build_error(json!({"fingerprint": {"fields": ["a"], "method": "sha-1"}}))
                .contains("[sha-1]"),
            "method names are case-sensitive"
        );
        assert!(
            build_error(json!({"fingerprint": {"fields": ["a"], "hash": "MD5"}}))
                .contains("[hash]")
        );
    }
}
