//! Document ids and uuids, Elasticsearch style: url-safe base64, time-ordered for ids so that
//! consecutive documents share prefixes (which keeps the `_id` term dictionary small).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(encode(b"Man"), "TWFu");
        assert_eq!(encode(b"Ma"), "TWE");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(random_base64(16).len(), 22);
    }
}
