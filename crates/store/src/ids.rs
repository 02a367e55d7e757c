//! Document ids and uuids, Elasticsearch style: url-safe base64.
//!
//! Ids the store generates are not indexed at all. An auto-id document is identified by the
//! write-ahead log sequence number that wrote it, kept in the `_seq` column, and its `_id` is
//! that number and the store's salt, base64-encoded ([`IdCodec`]). A unique id per event would
//! otherwise be the largest part of the term dictionary and a good share of indexing work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static SEQUENCE: AtomicU64 = AtomicU64::new(0);
static RANDOM_STATE: AtomicU64 = AtomicU64::new(0);

fn next_random() -> u64 {
    // splitmix64 over a counter seeded from the clock and the process id: unpredictable
    // enough for ids, which are not secrets, and free of any dependency.
    let mut seed = RANDOM_STATE.load(Ordering::Relaxed);
    if seed == 0 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |elapsed| elapsed.as_nanos() as u64);
        seed = nanos ^ (u64::from(std::process::id()) << 32) | 1;
        let _ = RANDOM_STATE.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    let mut z = RANDOM_STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |acc, (index, byte)| {
            acc | (u32::from(*byte) << (16 - 8 * index))
        });
        let symbols = chunk.len() + 1;
        for index in 0..symbols {
            out.push(ALPHABET[((value >> (18 - 6 * index)) & 63) as usize] as char);
        }
    }
    out
}

fn decode(text: &str, out: &mut [u8]) -> Option<()> {
    if text.len() != out.len() * 4 / 3 || !out.len().is_multiple_of(3) {
        return None;
    }
    let mut symbols = [0u8; 4];
    for (chunk, bytes) in text.as_bytes().chunks(4).zip(out.chunks_mut(3)) {
        for (symbol, character) in symbols.iter_mut().zip(chunk) {
            *symbol = ALPHABET.iter().position(|letter| letter == character)? as u8;
        }
        let value = symbols
            .iter()
            .fold(0u32, |acc, symbol| (acc << 6) | u32::from(*symbol));
        bytes.copy_from_slice(&value.to_be_bytes()[1..]);
    }
    Some(())
}

/// The ids a store generates: 20 characters of url-safe base64 over the write's sequence
/// number (8 bytes, big-endian, so ids sort in write order) and a salt of 7 random bytes
/// drawn once per store. The salt tells this store's generated ids apart from any id a
/// client chose, including ids copied from another store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct IdCodec {
    salt: [u8; 7],
}

impl IdCodec {
    /// A codec with a fresh random salt.
    pub fn random() -> IdCodec {
        let mut salt = [0u8; 7];
        salt.copy_from_slice(&next_random().to_le_bytes()[..7]);
        IdCodec { salt }
    }

    /// The id of the auto-id document written at `seq`.
    pub fn encode(&self, seq: u64) -> String {
        let mut bytes = [0u8; 15];
        bytes[..8].copy_from_slice(&seq.to_be_bytes());
        bytes[8..].copy_from_slice(&self.salt);
        encode(&bytes)
    }

    /// The sequence number `id` was generated from, if this codec generated it.
    pub fn decode(&self, id: &str) -> Option<u64> {
        let mut bytes = [0u8; 15];
        decode(id, &mut bytes)?;
        if bytes[8..] != self.salt {
            return None;
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&bytes[..8]);
        Some(u64::from_be_bytes(seq))
    }
}

impl From<IdCodec> for String {
    fn from(codec: IdCodec) -> String {
        codec
            .salt
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl TryFrom<String> for IdCodec {
    type Error = String;

    fn try_from(text: String) -> Result<IdCodec, String> {
        let invalid = || format!("invalid id salt [{text}]");
        if text.len() != 14 {
            return Err(invalid());
        }
        let mut salt = [0u8; 7];
        for (byte, pair) in salt.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| invalid())?;
        }
        Ok(IdCodec { salt })
    }
}

/// `byte_count` random bytes, base64-encoded without padding.
pub fn random_base64(byte_count: usize) -> String {
    let mut bytes = Vec::with_capacity(byte_count + 8);
    while bytes.len() < byte_count {
        bytes.extend_from_slice(&next_random().to_le_bytes());
    }
    bytes.truncate(byte_count);
    encode(&bytes)
}

/// A new 20-character document id: 6 bytes of milliseconds, 3 of sequence, 6 random.
pub fn new_document_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let random = next_random();
    let mut bytes = [0u8; 15];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6..9].copy_from_slice(&sequence.to_be_bytes()[5..]);
    bytes[9..].copy_from_slice(&random.to_le_bytes()[..6]);
    encode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_url_safe() {
        let ids: HashSet<String> = (0..10_000).map(|_| new_document_id()).collect();
        assert_eq!(ids.len(), 10_000);
        for id in &ids {
            assert_eq!(id.len(), 20);
            assert!(id.bytes().all(|byte| ALPHABET.contains(&byte)));
        }
    }

    #[test]
    fn generated_ids_round_trip_only_through_their_own_codec() {
        let codec = IdCodec::random();
        let other = IdCodec::random();
        for seq in [0, 1, 255, 1 << 40, u64::MAX] {
            let id = codec.encode(seq);
            assert_eq!(id.len(), 20);
            assert!(id.bytes().all(|byte| ALPHABET.contains(&byte)));
            assert_eq!(codec.decode(&id), Some(seq));
            assert_eq!(
                other.decode(&id),
                None,
                "another store's id is a client id here"
            );
        }
        assert!(
            codec.encode(9) < codec.encode(10),
            "ids sort in write order"
        );
        for foreign in [
            "",
            "1",
            "abc",
            "short-id",
            "AAAAAAAAAAAAAAAAAAA*",
            "ééééééé",
        ] {
            assert_eq!(codec.decode(foreign), None, "{foreign:?}");
        }
        let persisted: String = codec.into();
        assert_eq!(IdCodec::try_from(persisted).unwrap(), codec);
        assert!(IdCodec::try_from("zz".to_owned()).is_err());
        assert!(IdCodec::try_from("zzzzzzzzzzzzzz".to_owned()).is_err());
    }

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(encode(b"Man"), "TWFu");
        assert_eq!(encode(b"Ma"), "TWE");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(random_base64(16).len(), 22);
        let mut bytes = [0u8; 3];
        decode("TWFu", &mut bytes).unwrap();
        assert_eq!(&bytes, b"Man");
    }
}
