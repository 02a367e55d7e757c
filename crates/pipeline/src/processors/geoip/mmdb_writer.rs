//! A small MaxMind DB writer, so tests read real database files without downloading any.
//!
//! It follows the MaxMind DB format 2.0: a binary search tree of 24-bit records over the
//! address bits (IPv4 networks live under `::/96` in an IPv6 tree), sixteen zero bytes, the
//! data section in the format's typed encoding, then `\xAB\xCD\xEFMaxMind.com` and the
//! metadata map. Networks must not overlap; data is written once per network, without
//! pointers.

use std::net::IpAddr;

/// A value of the data section.
#[derive(Debug, Clone)]
pub enum Value {
    Text(&'static str),
    Double(f64),
    Float(f32),
    Unsigned16(u16),
    Unsigned32(u32),
    Unsigned64(u64),
    Boolean(bool),
    Map(Vec<(&'static str, Value)>),
    Array(Vec<Value>),
}

/// A database being built.
#[derive(Debug)]
pub struct Writer {
    database_type: &'static str,
    ip_version: u16,
    /// Each node's left and right records.
    nodes: Vec<[Record; 2]>,
    data: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

impl Writer {
    /// An empty database of type `database_type` over IPv4 (`4`) or IPv6 (`6`) addresses.
    pub fn new(database_type: &'static str, ip_version: u16) -> Writer {
        Writer {
            database_type,
            ip_version,
            nodes: vec![[Record::Empty, Record::Empty]],
            data: Vec::new(),
        }
    }

    /// Maps the network `address/prefix` to `value`.
    pub fn insert(&mut self, network: &str, value: Value) -> &mut Writer {
        let (address, prefix) = network.split_once('/').expect("address/prefix");
        let address: IpAddr = address.parse().expect("an address");
        let prefix: usize = prefix.parse().expect("a prefix length");
        let (bits, depth) = match (address, self.ip_version) {
            (IpAddr::V4(v4), 4) => (u128::from(u32::from(v4)) << 96, prefix),
            (IpAddr::V4(v4), _) => (u128::from(u32::from(v4)), prefix + 96),
            (IpAddr::V6(v6), _) => (u128::from(v6), prefix),
        };
        let offset = self.data.len();
        encode(&value, &mut self.data);
        let mut node = 0;
        for level in 0..depth {
            let bit = ((bits >> (127 - level)) & 1) as usize;
            if level + 1 == depth {
                self.nodes[node][bit] = Record::Data(offset);
                break;
            }
            node = match self.nodes[node][bit] {
                Record::Node(next) => next,
                Record::Empty => {
                    self.nodes.push([Record::Empty, Record::Empty]);
                    let next = self.nodes.len() - 1;
                    self.nodes[node][bit] = Record::Node(next);
                    next
                }
                Record::Data(_) => panic!("overlapping networks"),
            };
        }
        self
    }

    /// The database file.
    pub fn finish(&self) -> Vec<u8> {
        let node_count = self.nodes.len();
        let mut file = Vec::new();
        for node in &self.nodes {
            for record in node {
                let value = match *record {
                    Record::Empty => node_count,
                    Record::Node(next) => next,
                    Record::Data(offset) => node_count + 16 + offset,
                };
                file.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
            }
        }
        file.extend_from_slice(&[0; 16]);
        file.extend_from_slice(&self.data);
        file.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        let metadata = Value::Map(vec![
            ("binary_format_major_version", Value::Unsigned16(2)),
            ("binary_format_minor_version", Value::Unsigned16(0)),
            ("build_epoch", Value::Unsigned64(1_700_000_000)),
            ("database_type", Value::Text(self.database_type)),
            (
                "description",
                Value::Map(vec![("en", Value::Text("test database"))]),
            ),
            ("ip_version", Value::Unsigned16(self.ip_version)),
            ("languages", Value::Array(vec![Value::Text("en")])),
            ("node_count", Value::Unsigned32(node_count as u32)),
            ("record_size", Value::Unsigned16(24)),
        ]);
        encode(&metadata, &mut file);
        file
    }
}

fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Text(text) => {
            control(2, text.len(), out);
            out.extend_from_slice(text.as_bytes());
        }
        Value::Double(number) => {
            control(3, 8, out);
            out.extend_from_slice(&number.to_be_bytes());
        }
        Value::Float(number) => {
            control(15, 4, out);
            out.extend_from_slice(&number.to_be_bytes());
        }
        Value::Unsigned16(number) => unsigned(5, u64::from(*number), out),
        Value::Unsigned32(number) => unsigned(6, u64::from(*number), out),
        Value::Unsigned64(number) => unsigned(9, *number, out),
        Value::Boolean(flag) => control(14, usize::from(*flag), out),
        Value::Map(entries) => {
            control(7, entries.len(), out);
            for (key, value) in entries {
                encode(&Value::Text(key), out);
                encode(value, out);
            }
        }
        Value::Array(items) => {
            control(11, items.len(), out);
            for item in items {
                encode(item, out);
            }
        }
    }
}

/// An unsigned integer in as few big-endian bytes as it needs.
fn unsigned(kind: u8, number: u64, out: &mut Vec<u8>) {
    let bytes = number.to_be_bytes();
    let skip = bytes.iter().take_while(|byte| **byte == 0).count();
    control(kind, 8 - skip, out);
    out.extend_from_slice(&bytes[skip..]);
}

/// The control byte (and extended type and size bytes) of a field.
fn control(kind: u8, size: usize, out: &mut Vec<u8>) {
    let type_bits = if kind > 7 { 0 } else { kind << 5 };
    let (size_bits, extra): (u8, Vec<u8>) = match size {
        0..29 => (size as u8, Vec::new()),
        29..285 => (29, vec![(size - 29) as u8]),
        _ => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
    };
    out.push(type_bits | size_bits);
    if kind > 7 {
        out.push(kind - 7);
    }
    out.extend_from_slice(&extra);
}
