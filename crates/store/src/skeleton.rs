//! `_source` stored as a skeleton: the document's own bytes, with every value that a column
//! already holds replaced by a two-byte placeholder, and rebuilt from the columns when read.
//!
//! Log events repeat most of their values in columns (every keyword and number is columnar
//! for aggregations), so storing them a second time in the doc store is where most of the
//! bytes per event went. Elasticsearch's `logsdb` mode makes the same trade with its
//! synthetic `_source`; unlike it, the source read back here is byte for byte the source that
//! was sent — key order, whitespace, escapes and number spelling included — because a value
//! is only replaced when writing the column's value back yields exactly its original bytes:
//!
//! * a string, without escapes, of a `keyword` field, which is its only value in the document;
//! * a number of a `long` or `double` field spelled as serde_json spells the stored number.
//!
//! Values in arrays, under keys with escapes, of other types, or in any doubt stay inline.
//! A skeleton starts with a 0 byte (a JSON text never does); a placeholder is a 1 byte and
//! the kind of column. Neither byte can appear unescaped in a JSON text, so nothing a client
//! sends can be mistaken for either.

use std::borrow::Cow;
use std::collections::HashMap;

use logfleet_model::json::{JsonObject, JsonValue};
use rustc_hash::FxHashMap;
use tantivy::columnar::StrColumn;
use tantivy::{DocId, SegmentReader};

use crate::document::{ConvertedDocument, Leaf};
use crate::schema::{KEYWORD_FIELD, NUMBER_FIELD};

/// First byte of a stored skeleton.
const SKELETON: u8 = 0;
/// First byte of a placeholder; the second is its [`Kind`].
const PLACEHOLDER: u8 = 1;

/// The column a placeholder's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// `_kw.<path>`, a string.
    Keyword = b's',
    /// `_num.<path>`, a signed integer.
    Long = b'i',
    /// `_num.<path>`, a double.
    Double = b'f',
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        match byte {
            b's' => Some(Kind::Keyword),
            b'i' => Some(Kind::Long),
            b'f' => Some(Kind::Double),
            _ => None,
        }
    }
}

/// The skeleton of `source`, given the values its conversion put in columns; `None` when
/// nothing can be replaced (the source is then stored as it is).
///
/// This reads the source's bytes with [`transform`], as the reader does; [`build_from_tree`]
/// makes the same skeleton faster from the decoded document.
pub fn build(source: &[u8], converted: &ConvertedDocument<'_>) -> Option<Vec<u8>> {
    if source.first().is_none_or(|first| *first <= PLACEHOLDER) {
        return None;
    }
    let columns = column_values(converted);
    let mut out = Vec::with_capacity(source.len());
    out.push(SKELETON);
    let mut replaced = 0usize;
    let mut spellings = Spellings::default();
    transform(source, &mut out, &mut |path, raw, out| {
        let Some(Some(column)) = columns.get(path) else {
            return false;
        };
        let Some(kind) = spellings.placeholder(column, raw) else {
            return false;
        };
        out.push(PLACEHOLDER);
        out.push(kind as u8);
        replaced += 1;
        true
    })?;
    (replaced > 0).then_some(out)
}

/// [`build`], from `tree`, the decoded `source` whose strings borrow from it: members are
/// found from the positions of their keys and values in `source` instead of by scanning
/// every byte of it. Falls back to [`build`] when the tree does not borrow from `source` (a
/// pipeline re-encoded the document), so the skeleton is the same either way.
pub fn build_from_tree(
    source: &[u8],
    tree: &JsonObject<'_>,
    converted: &ConvertedDocument<'_>,
) -> Option<Vec<u8>> {
    if source.first().is_none_or(|first| *first <= PLACEHOLDER) {
        return None;
    }
    let columns = column_values(converted);
    let mut walk = TreeWalk {
        source,
        columns: &columns,
        path: String::new(),
        replacements: Vec::with_capacity(columns.len()),
        spellings: Spellings::default(),
    };
    if walk.object(tree).is_none() {
        return build(source, converted);
    }
    if walk.replacements.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(source.len());
    out.push(SKELETON);
    let mut copied = 0;
    for (start, end, kind) in walk.replacements {
        out.extend_from_slice(&source[copied..start]);
        out.push(PLACEHOLDER);
        out.push(kind as u8);
        copied = end;
    }
    out.extend_from_slice(&source[copied..]);
    Some(out)
}

/// What each path's column will hold for one document, when it holds exactly one value.
type Columns<'a> = FxHashMap<&'a str, Option<Column<'a>>>;

fn column_values<'a>(converted: &'a ConvertedDocument<'_>) -> Columns<'a> {
    let mut columns: Columns<'a> = FxHashMap::with_capacity_and_hasher(
        converted.exact_values.len() + converted.numeric_values.len(),
        Default::default(),
    );
    let values = converted
        .exact_values
        .iter()
        .chain(&converted.numeric_values);
    for (path, value) in values {
        let column = match value {
            Leaf::Str(text) => Some(Column::Keyword(text)),
            Leaf::I64(number) => Some(Column::Long(*number)),
            Leaf::F64(number) => Some(Column::Double(*number)),
            _ => None,
        };
        columns
            .entry(path.as_ref())
            .and_modify(|seen| *seen = None)
            .or_insert(column);
    }
    columns
}

/// Buffers for spelling column values as a reader will.
#[derive(Default)]
struct Spellings {
    integers: itoa::Buffer,
    floats: ryu::Buffer,
}

impl Spellings {
    /// The placeholder for a member whose raw value is `raw`, when `column` reads back as
    /// exactly those bytes.
    fn placeholder(&mut self, column: &Column<'_>, raw: &[u8]) -> Option<Kind> {
        match column {
            Column::Keyword(text) => {
                // The column holds the unescaped text; it reads back as `"text"`, which is
                // the original only if the original had nothing to escape.
                let plain = !text.is_empty()
                    && raw.len() == text.len() + 2
                    && raw[1..raw.len() - 1] == *text.as_bytes()
                    && !raw[1..raw.len() - 1]
                        .iter()
                        .any(|byte| *byte == b'\\' || *byte == b'"' || *byte < 0x20);
                plain.then_some(Kind::Keyword)
            }
            Column::Long(number) => {
                (self.integers.format(*number).as_bytes() == raw).then_some(Kind::Long)
            }
            Column::Double(number) => double_spelling(&mut self.floats, *number)
                .is_some_and(|text| text.as_bytes() == raw)
                .then_some(Kind::Double),
        }
    }
}

/// Finds the members [`transform`] would replace by walking the decoded tree. Every step
/// checks that the tree's keys and values sit in `source` where it says; `None` when one
/// does not, for the caller to fall back to scanning.
struct TreeWalk<'w, 's> {
    source: &'s [u8],
    columns: &'w Columns<'w>,
    /// The dotted path of the object being walked.
    path: String,
    /// `(start, end, kind)` of each replaced value, in source order.
    replacements: Vec<(usize, usize, Kind)>,
    spellings: Spellings,
}

impl TreeWalk<'_, '_> {
    fn object(&mut self, object: &JsonObject<'_>) -> Option<()> {
        let columns = self.columns;
        let base = self.path.len();
        for (key, value) in object {
            // A key with escapes was copied out of the source; like an empty key, it makes
            // its value opaque to [`transform`].
            let Cow::Borrowed(key) = key else { continue };
            if key.is_empty() {
                continue;
            }
            let scalar = matches!(
                value,
                JsonValue::String(Cow::Borrowed(_)) | JsonValue::Number(_)
            );
            if !scalar && !value.is_object() {
                continue;
            }
            // A top-level member's path is its key, which needs no copy.
            let path = if base == 0 && scalar {
                key
            } else {
                self.path.truncate(base);
                if base > 0 {
                    self.path.push('.');
                }
                self.path.push_str(key);
                self.path.as_str()
            };
            match value {
                JsonValue::Object(inner) => self.object(inner)?,
                // Only members with a column value are placed in the source; the others stay
                // as they are, wherever they are.
                _ => {
                    if let Some(Some(column)) = columns.get(path) {
                        self.scalar(key, value, column)?;
                    }
                }
            }
        }
        self.path.truncate(base);
        Some(())
    }

    /// Where the value of the member with `key` starts: after the key's closing quote, the
    /// colon and any whitespace.
    fn value_start(&self, key: &str) -> Option<usize> {
        let key_start = offset_in(self.source, key)?;
        let key_end = key_start + key.len();
        if key_start == 0 || self.source[key_start - 1] != b'"' {
            return None;
        }
        if self.source.get(key_end) != Some(&b'"') {
            return None;
        }
        let mut position = key_end + 1;
        let mut colon = false;
        while let Some(byte) = self.source.get(position) {
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b':' if !colon => colon = true,
                _ if colon => return Some(position),
                _ => return None,
            }
            position += 1;
        }
        None
    }

    /// Places the member with `key` and `value` in the source and records its replacement
    /// when `column` reads back as its bytes.
    fn scalar(&mut self, key: &str, value: &JsonValue<'_>, column: &Column<'_>) -> Option<()> {
        let start = self.value_start(key)?;
        let (end, kind) = match value {
            JsonValue::String(text) => {
                // The value's own bytes must be where the key says it starts.
                if offset_in(self.source, text)? != start + 1 {
                    return None;
                }
                let end = start + text.len() + 2;
                if self.source.get(end - 1) != Some(&b'"') {
                    return None;
                }
                // A string borrowed from the source had no escapes (and JSON allows no raw
                // control characters), so it reads back as `"text"` exactly when the column
                // holds the same text: [`Spellings::placeholder`]'s test, without the scan.
                let same = matches!(column, Column::Keyword(held) if !held.is_empty() && *held == text.as_ref());
                (end, same.then_some(Kind::Keyword))
            }
            _ => {
                let end = token_end(self.source, start);
                (
                    end,
                    self.spellings.placeholder(column, &self.source[start..end]),
                )
            }
        };
        if self.replacements.last().is_some_and(|last| last.1 > start) {
            return None;
        }
        if let Some(kind) = kind {
            self.replacements.push((start, end, kind));
        }
        Some(())
    }
}

/// The offset of `part` in `whole`, when `part` is a slice of it.
fn offset_in(whole: &[u8], part: &str) -> Option<usize> {
    let offset = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    (offset <= whole.len() && part.len() <= whole.len() - offset).then_some(offset)
}

/// The value a column will hold for one path of one document.
enum Column<'a> {
    Keyword(&'a str),
    Long(i64),
    Double(f64),
}

/// Writes `number` as serde_json does.
fn spell_long(number: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

/// How serde_json spells `number` (shortest round-trip form, `1.0` for integral values);
/// `None` for a non-finite number, which JSON cannot spell.
fn double_spelling(buffer: &mut ryu::Buffer, number: f64) -> Option<&str> {
    number.is_finite().then(|| buffer.format_finite(number))
}

/// Writes `number` as serde_json does; `false` when JSON cannot spell it.
fn spell_double(number: f64, out: &mut Vec<u8>) -> bool {
    let mut buffer = ryu::Buffer::new();
    let Some(text) = double_spelling(&mut buffer, number) else {
        return false;
    };
    out.extend_from_slice(text.as_bytes());
    true
}

/// Whether stored `_source` bytes are a skeleton that [`SourceReader`] must fill in.
pub fn is_skeleton(stored: &[u8]) -> bool {
    stored.first() == Some(&SKELETON)
}

/// A keyword column and the strings read from its dictionary so far, by ordinal.
type KeywordColumn = (StrColumn, HashMap<u64, String>);

/// Rebuilds sources of one segment, keeping the columns it opens.
pub struct SourceReader<'a> {
    segment: &'a SegmentReader,
    /// Each keyword column, with the strings already read from its dictionary (a read
    /// decompresses a dictionary block, and hits share most of their values).
    keywords: HashMap<String, Option<KeywordColumn>>,
    longs: HashMap<String, Option<tantivy::columnar::Column<i64>>>,
    doubles: HashMap<String, Option<tantivy::columnar::Column<f64>>>,
}

impl std::fmt::Debug for SourceReader<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SourceReader")
            .field("segment", &self.segment.segment_id())
            .finish_non_exhaustive()
    }
}

impl<'a> SourceReader<'a> {
    /// A reader for documents of `segment`.
    pub fn new(segment: &'a SegmentReader) -> SourceReader<'a> {
        SourceReader {
            segment,
            keywords: HashMap::new(),
            longs: HashMap::new(),
            doubles: HashMap::new(),
        }
    }

    /// The source of document `doc`, given its stored bytes.
    pub fn source(&mut self, doc: DocId, stored: &[u8]) -> Vec<u8> {
        if !is_skeleton(stored) {
            return stored.to_vec();
        }
        let mut out = Vec::with_capacity(stored.len() * 2);
        let mut text = String::new();
        let rebuilt = transform(&stored[1..], &mut out, &mut |path, raw, out| {
            let [PLACEHOLDER, kind] = raw else {
                return false;
            };
            let written = match Kind::from_byte(*kind) {
                Some(Kind::Keyword) => self.keyword(path, doc, &mut text).is_some_and(|()| {
                    out.push(b'"');
                    out.extend_from_slice(text.as_bytes());
                    out.push(b'"');
                    true
                }),
                Some(Kind::Long) => self.long(path, doc).is_some_and(|number| {
                    spell_long(number, out);
                    true
                }),
                Some(Kind::Double) => self
                    .double(path, doc)
                    .is_some_and(|number| spell_double(number, out)),
                None => false,
            };
            if !written {
                // Only a damaged index can get here; say so rather than invent a value.
                tracing::error!(path, doc, "a column value of a stored source is missing");
                out.extend_from_slice(b"null");
            }
            true
        });
        if rebuilt.is_none() {
            tracing::error!(doc, "a stored source skeleton is malformed");
        }
        out
    }

    fn keyword(&mut self, path: &str, doc: DocId, text: &mut String) -> Option<()> {
        let segment = self.segment;
        let (column, known) = self
            .keywords
            .entry(path.to_owned())
            .or_insert_with(|| {
                segment
                    .fast_fields()
                    .str(&format!("{KEYWORD_FIELD}.{path}"))
                    .ok()
                    .flatten()
                    .map(|column| (column, HashMap::new()))
            })
            .as_mut()?;
        let ord = column.term_ords(doc).next()?;
        text.clear();
        if let Some(known) = known.get(&ord) {
            text.push_str(known);
            return Some(());
        }
        column.ord_to_str(ord, text).ok()?.then_some(())?;
        known.insert(ord, text.clone());
        Some(())
    }

    fn long(&mut self, path: &str, doc: DocId) -> Option<i64> {
        let segment = self.segment;
        self.longs
            .entry(path.to_owned())
            .or_insert_with(|| {
                segment
                    .fast_fields()
                    .column_opt::<i64>(&format!("{NUMBER_FIELD}.{path}"))
                    .ok()
                    .flatten()
            })
            .as_ref()?
            .first(doc)
    }

    fn double(&mut self, path: &str, doc: DocId) -> Option<f64> {
        let segment = self.segment;
        self.doubles
            .entry(path.to_owned())
            .or_insert_with(|| {
                segment
                    .fast_fields()
                    .column_opt::<f64>(&format!("{NUMBER_FIELD}.{path}"))
                    .ok()
                    .flatten()
            })
            .as_ref()?
            .first(doc)
    }
}

/// Called by [`transform`] with a member's path, its raw value and an empty buffer; returns
/// whether it wrote a replacement there.
type OnValue<'a> = dyn FnMut(&str, &[u8], &mut Vec<u8>) -> bool + 'a;

/// Source readers for the segments one request reads from, so that hits of one segment share
/// opened columns and dictionary reads.
#[derive(Debug, Default)]
pub struct SourceCache<'a> {
    readers: HashMap<(usize, u32), SourceReader<'a>>,
}

impl<'a> SourceCache<'a> {
    /// The source of the document at `address` of `searcher`, the request's `shard`-th
    /// searcher, given its stored fields.
    pub fn source(
        &mut self,
        shard: usize,
        searcher: &'a tantivy::Searcher,
        address: tantivy::DocAddress,
        document: &tantivy::TantivyDocument,
        fields: &crate::Fields,
    ) -> Vec<u8> {
        let stored = stored_source(document, fields);
        if !is_skeleton(stored) {
            return stored.to_vec();
        }
        self.readers
            .entry((shard, address.segment_ord))
            .or_insert_with(|| SourceReader::new(searcher.segment_reader(address.segment_ord)))
            .source(address.doc_id, stored)
    }
}

/// The stored `_source` of `document`: text, or bytes in partitions written before it was
/// stored as text.
fn stored_source<'d>(document: &'d tantivy::TantivyDocument, fields: &crate::Fields) -> &'d [u8] {
    use tantivy::schema::Value as _;
    document
        .get_first(fields.source)
        .and_then(|value| {
            value
                .as_str()
                .map(str::as_bytes)
                .or_else(|| value.as_bytes())
        })
        .unwrap_or_default()
}

/// One open object or array.
struct Frame {
    array: bool,
    /// Length of the path of the member holding this object.
    base: usize,
    /// Under a key with escapes or inside an array: no value here is replaced.
    opaque: bool,
}

/// Copies `input` to `out`, calling `on_value` with the dotted path and raw bytes of every
/// scalar member value outside arrays; `on_value` returns whether it wrote a replacement
/// (otherwise the raw bytes are copied). `None` when `input` is not shaped like a JSON object.
/// Writing and reading skeletons go through this one function, so they agree on paths.
fn transform(input: &[u8], out: &mut Vec<u8>, on_value: &mut OnValue<'_>) -> Option<()> {
    let mut stack: Vec<Frame> = Vec::with_capacity(4);
    let mut path = String::new();
    let mut expecting_key = false;
    let mut key_opaque = false;
    let mut position = 0;
    // Input before `copied` is in `out`; the rest is copied in spans, up to each replacement,
    // which `on_value` writes to `replacement` first.
    let mut copied = 0;
    let mut replacement = Vec::new();
    while position < input.len() {
        let byte = input[position];
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' | b':' => position += 1,
            b',' => {
                position += 1;
                expecting_key = stack.last().is_some_and(|frame| !frame.array);
            }
            b'{' | b'[' => {
                let parent_opaque = stack.last().is_some_and(|frame| frame.opaque);
                let in_array = stack.last().is_some_and(|frame| frame.array);
                stack.push(Frame {
                    array: byte == b'[',
                    base: path.len(),
                    opaque: parent_opaque || key_opaque || in_array || byte == b'[',
                });
                position += 1;
                expecting_key = byte == b'{';
            }
            b'}' | b']' => {
                let frame = stack.pop()?;
                if frame.array != (byte == b']') {
                    return None;
                }
                path.truncate(frame.base);
                position += 1;
                expecting_key = false;
            }
            _ => {
                let end = if byte == b'"' {
                    string_end(input, position)?
                } else {
                    token_end(input, position)
                };
                let raw = &input[position..end];
                let frame = stack.last()?;
                if expecting_key {
                    if byte != b'"' {
                        return None;
                    }
                    let key = &raw[1..raw.len() - 1];
                    key_opaque = key.is_empty() || key.contains(&b'\\');
                    path.truncate(frame.base);
                    if frame.base > 0 {
                        path.push('.');
                    }
                    path.push_str(std::str::from_utf8(key).ok()?);
                    expecting_key = false;
                } else if !(frame.array || frame.opaque || key_opaque) {
                    replacement.clear();
                    if on_value(&path, raw, &mut replacement) {
                        out.extend_from_slice(&input[copied..position]);
                        out.extend_from_slice(&replacement);
                        copied = end;
                    }
                }
                position = end;
            }
        }
    }
    out.extend_from_slice(&input[copied..]);
    stack.is_empty().then_some(())
}

/// The position after the string starting at `start` (a quote).
fn string_end(input: &[u8], start: usize) -> Option<usize> {
    let mut position = start + 1;
    loop {
        position += memchr::memchr2(b'"', b'\\', &input[position..])?;
        if input[position] == b'"' {
            return Some(position + 1);
        }
        position += 2;
        if position > input.len() {
            return None;
        }
    }
}

/// The position after the bare token (number, literal or placeholder) starting at `start`.
fn token_end(input: &[u8], start: usize) -> usize {
    input[start..]
        .iter()
        .position(|byte| matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(input.len(), |offset| start + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(
        exact: &[(&'static str, Leaf<'static>)],
        numeric: &[(&'static str, Leaf<'static>)],
    ) -> ConvertedDocument<'static> {
        ConvertedDocument {
            exact_values: exact
                .iter()
                .map(|(p, v)| ((*p).into(), v.clone()))
                .collect(),
            numeric_values: numeric
                .iter()
                .map(|(p, v)| ((*p).into(), v.clone()))
                .collect(),
            ..ConvertedDocument::default()
        }
    }

    /// Rebuilds a skeleton from in-memory "columns" through the same walk the reader uses.
    fn rebuild(skeleton: &[u8], columns: &ConvertedDocument<'_>) -> Vec<u8> {
        assert!(is_skeleton(skeleton));
        let mut out = Vec::new();
        transform(&skeleton[1..], &mut out, &mut |path, raw, out| {
            let [PLACEHOLDER, _] = raw else { return false };
            let value = columns
                .exact_values
                .iter()
                .chain(&columns.numeric_values)
                .find(|(p, _)| p == path)
                .map(|(_, v)| v.clone())
                .unwrap();
            match value {
                Leaf::Str(text) => out.extend_from_slice(format!("\"{text}\"").as_bytes()),
                Leaf::I64(number) => spell_long(number, out),
                Leaf::F64(number) => assert!(spell_double(number, out)),
                other => panic!("{other:?}"),
            }
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn replaces_only_values_that_read_back_identically() {
        let source = br#"{ "level":"info", "n": 3 , "d":1.5
            , "e": 2.50, "big":7,
            "esc":"a\"b", "arr":["x"], "o":{"k":"v","l":[1]}, "t":true, "dup":"x", "dup":"y" }"#;
        let columns = converted(
            &[
                ("level", Leaf::Str("info".into())),
                ("esc", Leaf::Str("a\"b".into())),
                ("arr", Leaf::Str("x".into())),
                ("o.k", Leaf::Str("v".into())),
                ("dup", Leaf::Str("x".into())),
                ("dup", Leaf::Str("y".into())),
            ],
            &[
                ("n", Leaf::I64(3)),
                ("d", Leaf::F64(1.5)),
                ("e", Leaf::F64(2.5)),
                ("big", Leaf::F64(7.0)),
                ("o.l", Leaf::I64(1)),
            ],
        );
        let skeleton = build(source, &columns).unwrap();
        let text = String::from_utf8_lossy(&skeleton);
        for kept in [
            r#""a\"b""#,
            r#"["x"]"#,
            "2.50",
            "\"big\":7",
            "[1]",
            "true",
            r#""x""#,
            r#""y""#,
        ] {
            assert!(text.contains(kept), "{kept} stays inline in {text:?}");
        }
        for gone in ["\"info\"", ": 3", "1.5", "\"v\""] {
            assert!(!text.contains(gone), "{gone} is replaced in {text:?}");
        }
        assert_eq!(rebuild(&skeleton, &columns), source);
    }

    #[test]
    fn leaves_sources_without_column_values_alone() {
        assert_eq!(
            build(br#"{"message":"hello"}"#, &ConvertedDocument::default()),
            None
        );
        let columns = converted(&[("a", Leaf::Str("b".into()))], &[]);
        assert_eq!(build(b"\x00{}", &columns), None);
        assert_eq!(build(br#"{"a":"b""#, &columns), None, "truncated");
        assert_eq!(build(br#"["a","b"]"#, &columns), None, "not an object");
        assert_eq!(build(b"", &columns), None);
    }

    /// A random JSON object as a client might spell it: nested objects, arrays, escapes in
    /// keys and values, dotted and empty keys, odd number spellings and whitespace.
    fn spelled_object() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            "[a-c]{1,3}".prop_map(|text| format!("\"{text}\"")),
            Just("\"\"".to_owned()),
            Just(r#""x\"y""#.to_owned()),
            Just("\"caf\u{e9}\"".to_owned()),
            any::<i64>().prop_map(|number| number.to_string()),
            (0u32..1000, 0u32..100).prop_map(|(whole, fraction)| format!("{whole}.{fraction}")),
            Just("1e3".to_owned()),
            Just("-0.0".to_owned()),
            Just("2.50".to_owned()),
            Just("true".to_owned()),
            Just("null".to_owned()),
        ];
        // An empty key fails the whole conversion, so it is rare here.
        let key = prop_oneof![
            12 => "[a-d]{1,2}",
            2 => Just("a.b".to_owned()),
            1 => Just("".to_owned()),
            2 => Just("k\\\"q".to_owned()),
        ];
        let space = prop_oneof![Just(""), Just(" "), Just("\n\t")];
        let value = leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec(("[a-d]{1,2}", inner), 0..4).prop_map(|members| {
                    let mut seen = std::collections::HashSet::new();
                    let members: Vec<String> = members
                        .into_iter()
                        .filter(|(key, _)| seen.insert(key.clone()))
                        .map(|(key, value)| format!("\"{key}\":{value}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        });
        prop::collection::vec((key, value, space.clone(), space), 1..10).prop_map(|members| {
            let mut seen = std::collections::HashSet::new();
            let members: Vec<String> = members
                .into_iter()
                .filter(|(key, ..)| seen.insert(key.clone()))
                .map(|(key, value, before, after)| {
                    format!("{before}\"{key}\"{before}:{after}{value}{after}")
                })
                .collect();
            format!("{{{}}}", members.join(","))
        })
    }

    #[test]
    fn the_tree_gives_the_skeleton_the_scan_gives() {
        use crate::mapping::{DynamicStyle, Mapping};
        use proptest::test_runner::{Config, TestRunner};
        let mut runner = TestRunner::new(Config {
            cases: 2000,
            ..Config::default()
        });
        let replaced = std::cell::Cell::new(0usize);
        runner
            .run(&spelled_object(), |text| {
                let tree = JsonObject::from_slice(text.as_bytes()).unwrap();
                for style in [DynamicStyle::DataStream, DynamicStyle::Index] {
                    let mapping = Mapping::new(style);
                    // Documents whose paths clash with themselves are rejected before this.
                    let Ok(conversion) = crate::convert_document(&mapping, &tree, "1") else {
                        continue;
                    };
                    let scanned = build(text.as_bytes(), &conversion.document);
                    let walked = build_from_tree(text.as_bytes(), &tree, &conversion.document);
                    proptest::prop_assert_eq!(&walked, &scanned, "{}", text);
                    replaced.set(replaced.get() + usize::from(walked.is_some()));
                    // A tree that borrows from another copy of the bytes is not trusted.
                    let copy = text.clone().into_bytes();
                    let other = build_from_tree(&copy, &tree, &conversion.document);
                    proptest::prop_assert_eq!(&other, &scanned);
                }
                Ok(())
            })
            .unwrap();
        let replaced = replaced.get();
        assert!(replaced > 500, "too few skeletons to compare: {replaced}");
    }

    #[test]
    fn stored_sources_are_read_as_text_or_as_older_bytes() {
        let (_, fields) = crate::schema::build_schema();
        let mut text = tantivy::TantivyDocument::default();
        text.add_text(fields.source, r#"{"a":1}"#);
        assert_eq!(stored_source(&text, &fields), br#"{"a":1}"#);
        let mut bytes = tantivy::TantivyDocument::default();
        bytes.add_bytes(fields.source, b"\x00{\"a\":\x01i}");
        assert_eq!(stored_source(&bytes, &fields), b"\x00{\"a\":\x01i}");
        assert!(stored_source(&tantivy::TantivyDocument::default(), &fields).is_empty());
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let columns = converted(&[("a", Leaf::Str("b".into()))], &[("n", Leaf::I64(1))]);
        let mut reader_out = Vec::new();
        for input in [
            &b"{\"a\":\"b\",\"n\":1}"[..],
            b"{{{{",
            b"}}}",
            b"{\"a\"",
            b"{\"a\":\"\\",
            b"{\"\":\"b\"}",
            b"{\"a\":\x01s}",
            b"{\"a\":\x01",
            b"\xff\xfe",
        ] {
            let _ = build(input, &columns);
            reader_out.clear();
            let _ = transform(input, &mut reader_out, &mut |_, _, _| false);
        }
    }
}
