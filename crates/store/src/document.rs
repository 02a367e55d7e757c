//! Turns a JSON source into the typed values the schema indexes, under a [`Mapping`].
//!
//! One walk over the document does three jobs: it validates every value against its field's
//! type (rejecting the document, never coercing it silently into something else), it proposes
//! mappings for fields it has not seen (dynamic mapping), and it collects the typed leaves for
//! the `_kw` and `_text` JSON fields. Objects are flattened to dotted paths.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use logfleet_model::json::{JsonObject, JsonValue};
use serde_json::Value;
use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};

use crate::error::DocumentError;
use crate::mapping::{Dynamic, FieldMapping, FieldType, Mapping};
use crate::normalizer::normalize;

/// Lucene's limit on the length of one indexed term, which Elasticsearch enforces.
const MAX_TERM_BYTES: usize = 32766;

/// Fields Elasticsearch reserves; a document may not carry them in its source.
const METADATA_FIELDS: &[&str] = &[
    "_id",
    "_index",
    "_source",
    "_routing",
    "_version",
    "_seq_no",
    "_primary_term",
    "_field_names",
    "_ignored",
    "_data_stream_timestamp",
    "_doc_count",
    "_tier",
    "_nested_path",
];

/// One typed leaf of a converted document. Strings borrow from the decoded source where
/// they can, so that converting a document copies each value once, into tantivy's document.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf<'a> {
    /// A keyword, an encoded IP, or text.
    Str(Cow<'a, str>),
    /// A `long`.
    I64(i64),
    /// A `double`.
    F64(f64),
    /// A `boolean`.
    Bool(bool),
    /// A `date` other than `@timestamp`.
    Date(tantivy::DateTime),
}

/// Leaves by dotted path.
pub type Leaves<'a> = Vec<(Cow<'a, str>, Leaf<'a>)>;

/// The typed leaves of a document, ready to be put in a tantivy document.
#[derive(Debug, Default, Clone)]
pub struct ConvertedDocument<'a> {
    /// Leaves of string-like exact-value fields (keyword, ip, boolean), by dotted path.
    pub exact_values: Leaves<'a>,
    /// Leaves of numeric and date fields, by dotted path.
    pub numeric_values: Leaves<'a>,
    /// Leaves of `text` fields, by dotted path.
    pub text_values: Leaves<'a>,
    /// Paths of `text` fields present, for `exists`.
    pub text_paths: Vec<Cow<'a, str>>,
    /// `@timestamp` in epoch nanoseconds, when the document has one.
    pub timestamp_nanos: Option<i64>,
}

/// Leaves handed to tantivy as one JSON object value (`CompactDoc::add_field_value`), read
/// in place rather than rebuilt as `OwnedValue`s.
#[derive(Debug, Clone, Copy)]
pub enum LeafValue<'v, 'a> {
    /// The object of all leaves.
    Object(&'v [(Cow<'a, str>, Leaf<'a>)]),
    /// One leaf.
    Leaf(&'v Leaf<'a>),
}

/// The members of a [`LeafValue::Object`].
#[derive(Debug, Clone)]
pub struct LeafMembers<'v, 'a>(std::slice::Iter<'v, (Cow<'a, str>, Leaf<'a>)>);

impl<'v, 'a> Iterator for LeafMembers<'v, 'a> {
    type Item = (&'v str, LeafValue<'v, 'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next()
            .map(|(path, leaf)| (path.as_ref(), LeafValue::Leaf(leaf)))
    }
}

impl<'v, 'a> tantivy::schema::Value<'v> for LeafValue<'v, 'a> {
    type ArrayIter = std::iter::Empty<Self>;
    type ObjectIter = LeafMembers<'v, 'a>;

    fn as_value(&self) -> ReferenceValue<'v, Self> {
        match *self {
            LeafValue::Object(members) => ReferenceValue::Object(LeafMembers(members.iter())),
            LeafValue::Leaf(leaf) => ReferenceValue::Leaf(match leaf {
                Leaf::Str(text) => ReferenceValueLeaf::Str(text.as_ref()),
                Leaf::I64(number) => ReferenceValueLeaf::I64(*number),
                Leaf::F64(number) => ReferenceValueLeaf::F64(*number),
                Leaf::Bool(flag) => ReferenceValueLeaf::Bool(*flag),
                Leaf::Date(date) => ReferenceValueLeaf::Date(*date),
            }),
        }
    }
}

/// The result of converting a document: its values, and the fields dynamic mapping adds.
#[derive(Debug, Default)]
pub struct Conversion<'a> {
    /// The typed values.
    pub document: ConvertedDocument<'a>,
    /// Fields the mapping lacks, in the order met; empty when the mapping covers the document.
    pub new_fields: Vec<(String, FieldMapping)>,
}

/// Encodes an IP address as 32 hex digits of its IPv6 form, so that the lexicographic order
/// of the encoded strings is the numeric order of the addresses (ranges and CIDR blocks
/// become string ranges on the column).
pub fn encode_ip(ip: IpAddr) -> String {
    let v6 = match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    format!("{:032x}", u128::from(v6))
}

/// Decodes [`encode_ip`]'s form back to an address as Elasticsearch prints it.
pub fn decode_ip(encoded: &str) -> Option<IpAddr> {
    let bits = u128::from_str_radix(encoded, 16).ok()?;
    let v6 = std::net::Ipv6Addr::from(bits);
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

/// Converts `source` under `mapping`. `document_id` is used in messages only (empty for a
/// document whose id is generated).
pub fn convert_document<'s>(
    mapping: &Mapping,
    source: &'s JsonObject<'s>,
    document_id: &str,
) -> Result<Conversion<'s>, DocumentError> {
    let mut walker = Walker {
        mapping,
        document_id,
        pending: BTreeMap::new(),
        conversion: Conversion::default(),
    };
    for key in source.keys() {
        if METADATA_FIELDS.contains(&key) {
            return Err(DocumentError::parsing(format!(
                "[1:1] Field [{key}] is a metadata field and cannot be added inside a document. \
                 Use the index API request parameters."
            )));
        }
    }
    walker.walk_object(None, source, 1, mapping.dynamic)?;
    let Walker { conversion, .. } = walker;
    let added: usize = conversion
        .new_fields
        .iter()
        .map(|(_, field)| 1 + field.fields.len())
        .sum();
    if added > 0 && mapping.field_count() + added > mapping.total_fields_limit {
        let reason = format!(
            "Limit of total fields [{}] has been exceeded while adding new fields [{added}]",
            mapping.total_fields_limit
        );
        return Err(
            DocumentError::parsing(format!("[1:1] failed to parse: {reason}"))
                .caused_by("illegal_argument_exception", reason),
        );
    }
    Ok(conversion)
}

/// Walks one document: `'m` is the mapping's lifetime, `'s` the decoded source's.
struct Walker<'m, 's> {
    mapping: &'m Mapping,
    document_id: &'m str,
    /// Fields added by this document so far, so that its later values use them.
    pending: BTreeMap<String, FieldMapping>,
    conversion: Conversion<'s>,
}

// Paths are passed as `&Cow`: one borrowed from the source is cloned for free into the
// output, which a `&str` would not allow.
#[expect(
    clippy::ptr_arg,
    reason = "a borrowed path is cloned for free into the output; a `&str` would lose that"
)]
impl<'s> Walker<'_, 's> {
    fn lookup(&self, path: &str) -> Option<&FieldMapping> {
        self.mapping
            .fields
            .get(path)
            .or_else(|| self.pending.get(path))
    }

    /// Walks the members of `object`, found at `prefix` (`None` for the document itself).
    fn walk_object(
        &mut self,
        prefix: Option<&str>,
        object: &'s JsonObject<'s>,
        depth: usize,
        dynamic: Dynamic,
    ) -> Result<(), DocumentError> {
        if depth > self.mapping.depth_limit {
            return Err(DocumentError::parsing(format!(
                "[1:1] failed to parse: Limit of mapping depth [{}] has been exceeded due to \
                 object field [{}]",
                self.mapping.depth_limit,
                prefix.unwrap_or_default()
            )));
        }
        for (key, value) in object {
            if !is_valid_key(key) {
                return Err(DocumentError::parsing(format!(
                    "[1:1] field name cannot be an empty string or contain empty segments: [{key}]"
                )));
            }
            // Top-level paths borrow the source's keys; only nested ones are built.
            let path = match prefix {
                None => Cow::Borrowed(key.as_ref()),
                Some(prefix) => Cow::Owned(format!("{prefix}.{key}")),
            };
            self.walk_value(&path, value, depth, dynamic)?;
        }
        Ok(())
    }

    fn walk_value(
        &mut self,
        path: &Cow<'s, str>,
        value: &'s JsonValue<'s>,
        depth: usize,
        dynamic: Dynamic,
    ) -> Result<(), DocumentError> {
        match value {
            JsonValue::Null => Ok(()),
            JsonValue::Array(items) => {
                for item in items {
                    self.walk_value(path, item, depth, dynamic)?;
                }
                Ok(())
            }
            JsonValue::Object(object) => {
                match self.lookup(path).map(|field| field.field_type) {
                    Some(FieldType::GeoPoint | FieldType::Unindexed) => return Ok(()),
                    Some(FieldType::Alias) => return Err(alias_write_error(path)),
                    Some(FieldType::Flattened) => return self.push_flattened(path, value),
                    _ => {}
                }
                let Some(object_dynamic) = self.ensure_mapped(path, value, dynamic)? else {
                    return Ok(());
                };
                // Dynamic mapping may have made it a value type written as an object (a
                // `geo_point` given as `{"lat": …, "lon": …}`, or a dynamic template's
                // `flattened`).
                match self.lookup(path).map(|field| field.field_type) {
                    Some(FieldType::Flattened) => return self.push_flattened(path, value),
                    Some(FieldType::Object) | None => {}
                    Some(_) => return Ok(()),
                }
                self.walk_object(Some(path), object, depth + 1, object_dynamic)
            }
            scalar => {
                // The steady state of a stream: the field is mapped, as a leaf. Nothing to
                // check or add; convert with the mapping found.
                let mapping: &Mapping = self.mapping;
                if let Some(field) = mapping.fields.get(path.as_ref())
                    && field.field_type != FieldType::Object
                {
                    return push_field(
                        &mut self.conversion.document,
                        self.document_id,
                        path,
                        field,
                        scalar,
                    );
                }
                if self.ensure_mapped(path, scalar, dynamic)?.is_none() {
                    return Ok(());
                }
                self.convert_leaf(path, scalar)
            }
        }
    }

    /// Makes sure `path` has a mapping compatible with the shape of `value`, adding one by the
    /// dynamic rules if needed. Returns the `dynamic` setting that applies below `path`, or
    /// `None` when the value is to be kept in `_source` only.
    fn ensure_mapped(
        &mut self,
        path: &str,
        value: &JsonValue<'_>,
        dynamic: Dynamic,
    ) -> Result<Option<Dynamic>, DocumentError> {
        let is_object = value.is_object();
        if let Some(existing) = self.lookup(path) {
            let existing_is_object = existing.field_type == FieldType::Object;
            if existing_is_object && !is_object {
                return Err(DocumentError::parsing(format!(
                    "[1:1] object mapping for [{path}] tried to parse field [{path}] as object, \
                     but found a concrete value"
                )));
            }
            if !existing_is_object && is_object {
                return Err(type_error(self.document_id, path, existing, value, None));
            }
            return Ok(Some(dynamic_below(existing, dynamic)));
        }
        match dynamic {
            Dynamic::False | Dynamic::Runtime => return Ok(None),
            Dynamic::Strict => {
                let (parent, leaf) = path.rsplit_once('.').unwrap_or(("_doc", path));
                return Err(DocumentError {
                    kind: "strict_dynamic_mapping_exception",
                    reason: format!(
                        "[1:1] mapping set to strict, dynamic introduction of [{leaf}] within \
                         [{parent}] is not allowed"
                    ),
                    caused_by: None,
                });
            }
            Dynamic::True => {}
        }
        self.ensure_parents(path)?;
        let Some(new_mapping) = self.mapping.dynamic_mapping_for(path, &value.to_value()) else {
            return Ok(None);
        };
        let below = dynamic_below(&new_mapping, dynamic);
        self.pending.insert(path.to_owned(), new_mapping.clone());
        self.conversion
            .new_fields
            .push((path.to_owned(), new_mapping));
        Ok(Some(below))
    }

    /// Dotted keys (`{"geo.city": …}`) imply their parent objects.
    fn ensure_parents(&mut self, path: &str) -> Result<(), DocumentError> {
        let mut end = 0;
        while let Some(offset) = path[end..].find('.') {
            let parent = &path[..end + offset];
            match self.lookup(parent) {
                Some(existing) if existing.field_type != FieldType::Object => {
                    return Err(DocumentError::parsing(format!(
                        "[1:1] Could not dynamically add mapping for field [{path}]. Existing \
                         mapping for [{parent}] must be of type object but found [{}].",
                        existing.es_type
                    )));
                }
                Some(_) => {}
                None => {
                    let object = FieldMapping::object();
                    self.pending.insert(parent.to_owned(), object.clone());
                    self.conversion.new_fields.push((parent.to_owned(), object));
                }
            }
            end += offset + 1;
        }
        Ok(())
    }

    /// Indexes every leaf of a `flattened` field's object as a keyword, at its own dotted
    /// path and at the field's root, without mapping any of its keys.
    fn push_flattened(
        &mut self,
        root: &Cow<'s, str>,
        value: &'s JsonValue<'s>,
    ) -> Result<(), DocumentError> {
        let Some(field) = self.lookup(root) else {
            return Ok(());
        };
        let depth_limit = field
            .parameters
            .get("depth_limit")
            .and_then(Value::as_u64)
            .map_or(FLATTENED_DEPTH_LIMIT, |limit| limit as usize);
        let keyword = FieldMapping {
            ignore_above: field.ignore_above,
            ..FieldMapping::new(FieldType::Keyword, "keyword")
        };
        let mut leaves = Vec::new();
        collect_flattened(root, root, value, 0, depth_limit, &mut leaves)?;
        for (path, leaf) in leaves {
            for target in [Cow::Owned(path), root.clone()] {
                Output {
                    document: &mut self.conversion.document,
                    document_id: self.document_id,
                }
                .push_typed(target, &keyword, leaf)?;
            }
        }
        Ok(())
    }

    fn convert_leaf(
        &mut self,
        path: &Cow<'s, str>,
        value: &'s JsonValue<'s>,
    ) -> Result<(), DocumentError> {
        // Borrow the mapping and the output separately: no per-leaf clone of the field's
        // mapping on the ingest hot path.
        let mapping: &Mapping = self.mapping;
        let Some(field) = mapping
            .fields
            .get(path.as_ref())
            .or_else(|| self.pending.get(path.as_ref()))
        else {
            return Ok(());
        };
        push_field(
            &mut self.conversion.document,
            self.document_id,
            path,
            field,
            value,
        )
    }
}

/// Elasticsearch's default `depth_limit` of `flattened` fields.
const FLATTENED_DEPTH_LIMIT: usize = 20;

/// The `dynamic` setting below an object: its own, or the one it inherits. Nothing below an
/// object mapped with `"enabled": false` is mapped or indexed: it is kept in `_source` only.
fn dynamic_below(object: &FieldMapping, inherited: Dynamic) -> Dynamic {
    if matches!(object.parameters.get("enabled"), Some(Value::Bool(false)))
        || matches!(object.parameters.get("enabled"), Some(Value::String(text)) if text == "false")
    {
        return Dynamic::False;
    }
    match object.parameters.get("dynamic") {
        Some(Value::Bool(false)) => Dynamic::False,
        Some(Value::String(text)) if text == "false" => Dynamic::False,
        Some(Value::String(text)) if text == "strict" => Dynamic::Strict,
        Some(Value::String(text)) if text == "runtime" => Dynamic::Runtime,
        Some(Value::Bool(true)) => Dynamic::True,
        Some(Value::String(text)) if text == "true" => Dynamic::True,
        _ => inherited,
    }
}

fn alias_write_error(path: &str) -> DocumentError {
    DocumentError::parsing(format!("[1:1] Cannot write to a field alias [{path}]."))
}

/// The scalar leaves under a `flattened` field, with their dotted paths.
fn collect_flattened<'v>(
    root: &str,
    path: &str,
    value: &'v JsonValue<'v>,
    depth: usize,
    depth_limit: usize,
    leaves: &mut Vec<(String, &'v JsonValue<'v>)>,
) -> Result<(), DocumentError> {
    match value {
        JsonValue::Null => Ok(()),
        JsonValue::Array(items) => items
            .iter()
            .try_for_each(|item| collect_flattened(root, path, item, depth, depth_limit, leaves)),
        JsonValue::Object(object) => {
            if depth >= depth_limit {
                return Err(DocumentError::parsing(format!(
                    "[1:1] The provided [flattened] field [{root}] exceeds the maximum depth \
                     limit of [{depth_limit}]."
                )));
            }
            for (key, child) in object {
                collect_flattened(
                    root,
                    &format!("{path}.{key}"),
                    child,
                    depth + 1,
                    depth_limit,
                    leaves,
                )?;
            }
            Ok(())
        }
        scalar => {
            leaves.push((path.to_owned(), scalar));
            Ok(())
        }
    }
}

/// Converts a leaf value of the mapped field at `path`, and of its multi-fields.
#[expect(
    clippy::ptr_arg,
    reason = "a borrowed path is cloned for free into the output; a `&str` would lose that"
)]
fn push_field<'s>(
    document: &mut ConvertedDocument<'s>,
    document_id: &str,
    path: &Cow<'s, str>,
    field: &FieldMapping,
    value: &'s JsonValue<'s>,
) -> Result<(), DocumentError> {
    Output {
        document: &mut *document,
        document_id,
    }
    .push_typed(path.clone(), field, value)?;
    for (sub_name, sub_field) in &field.fields {
        Output {
            document: &mut *document,
            document_id,
        }
        .push_typed(Cow::Owned(format!("{path}.{sub_name}")), sub_field, value)?;
    }
    Ok(())
}

/// Where typed values go.
struct Output<'o, 's> {
    document: &'o mut ConvertedDocument<'s>,
    document_id: &'o str,
}

impl<'s> Output<'_, 's> {
    fn push_typed(
        self,
        path: Cow<'s, str>,
        field: &FieldMapping,
        value: &'s JsonValue<'s>,
    ) -> Result<(), DocumentError> {
        let typed = match field.field_type {
            FieldType::Keyword | FieldType::Flattened => {
                let text = match scalar_text(value) {
                    text if field.normalizer.is_empty() => text,
                    text => Cow::Owned(normalize(&field.normalizer, &text).into_owned()),
                };
                // A string has at least as many bytes as characters: count only long ones.
                let too_long = field.ignore_above.is_some_and(|limit| {
                    text.len() > limit as usize && text.chars().count() > limit as usize
                });
                if too_long {
                    return Ok(());
                }
                if text.len() > MAX_TERM_BYTES {
                    return Err(DocumentError {
                        kind: "illegal_argument_exception",
                        reason: format!(
                            "Document contains at least one immense term in field=\"{path}\" \
                             (whose UTF8 encoding is longer than the max length {MAX_TERM_BYTES}), \
                             all of which were skipped."
                        ),
                        caused_by: None,
                    });
                }
                Leaf::Str(text)
            }
            FieldType::Text => {
                self.document.text_paths.push(path.clone());
                self.document
                    .text_values
                    .push((path, Leaf::Str(scalar_text(value))));
                return Ok(());
            }
            FieldType::Long => match to_long(value) {
                Ok(number) => Leaf::I64(number),
                Err(cause) => {
                    return Err(type_error(
                        self.document_id,
                        &path,
                        field,
                        value,
                        Some(cause),
                    ));
                }
            },
            FieldType::Double => match to_double(value) {
                Some(number) => Leaf::F64(number),
                None => return Err(type_error(self.document_id, &path, field, value, None)),
            },
            FieldType::Date => match parse_date_json(value) {
                Some(nanos) => {
                    if path == logfleet_model::fields::TIMESTAMP {
                        self.document.timestamp_nanos = Some(nanos);
                        return Ok(());
                    }
                    Leaf::Date(tantivy::DateTime::from_timestamp_nanos(nanos))
                }
                None => {
                    let cause = format!("failed to parse date field [{}]", scalar_text(value));
                    return Err(type_error(
                        self.document_id,
                        &path,
                        field,
                        value,
                        Some(cause),
                    ));
                }
            },
            FieldType::Ip => match value.as_str().and_then(|text| text.parse::<IpAddr>().ok()) {
                Some(ip) => Leaf::Str(Cow::Owned(encode_ip(ip))),
                None => {
                    let cause = format!("'{}' is not an IP string literal.", scalar_text(value));
                    return Err(type_error(
                        self.document_id,
                        &path,
                        field,
                        value,
                        Some(cause),
                    ));
                }
            },
            FieldType::Boolean => match value {
                JsonValue::Bool(flag) => Leaf::Bool(*flag),
                JsonValue::String(text) if text == "true" => Leaf::Bool(true),
                JsonValue::String(text) if text == "false" || text.is_empty() => Leaf::Bool(false),
                _ => {
                    let cause = format!(
                        "Failed to parse value [{}] as only [true] or [false] are allowed.",
                        scalar_text(value)
                    );
                    return Err(type_error(
                        self.document_id,
                        &path,
                        field,
                        value,
                        Some(cause),
                    ));
                }
            },
            FieldType::GeoPoint | FieldType::Object | FieldType::Unindexed => return Ok(()),
            FieldType::Alias => return Err(alias_write_error(&path)),
        };
        let numeric = matches!(
            field.field_type,
            FieldType::Long | FieldType::Double | FieldType::Date
        );
        let destination = if numeric {
            &mut self.document.numeric_values
        } else {
            &mut self.document.exact_values
        };
        destination.push((path, typed));
        Ok(())
    }
}

/// A field name is not empty and has no empty dotted segment (`a..b`, `.a`, `a.`).
fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes[0] != b'.'
        && bytes[bytes.len() - 1] != b'.'
        && !bytes.windows(2).any(|pair| pair == b"..")
}

fn type_error(
    document_id: &str,
    path: &str,
    field: &FieldMapping,
    value: &JsonValue<'_>,
    cause: Option<String>,
) -> DocumentError {
    let preview: String = scalar_text(value).chars().take(20).collect();
    // A document without a client id gets its id only when it is written, which it is not.
    let document = if document_id.is_empty() {
        "document".to_owned()
    } else {
        format!("document with id '{document_id}'")
    };
    let error = DocumentError::parsing(format!(
        "[1:1] failed to parse field [{path}] of type [{}] in {document}. \
         Preview of field's value: '{preview}'",
        field.es_type
    ));
    match cause {
        Some(cause) => error.caused_by("illegal_argument_exception", cause),
        None => error,
    }
}

/// A scalar as keyword text: a string as it is (borrowed), anything else as JSON spells it.
fn scalar_text<'v>(value: &'v JsonValue<'_>) -> Cow<'v, str> {
    match value {
        JsonValue::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(other.to_string()),
    }
}

/// Elasticsearch's `coerce`: integers, floats (truncated) and numeric strings are accepted for
/// a `long`; anything else is an error.
fn to_long(value: &JsonValue<'_>) -> Result<i64, String> {
    let out_of_range =
        |shown: &dyn std::fmt::Display| format!("Value [{shown}] is out of range for a long");
    match value {
        JsonValue::Number(number) => {
            if let Some(integer) = number.as_i64() {
                return Ok(integer);
            }
            if number.is_u64() {
                return Err(out_of_range(number));
            }
            let float = number.as_f64().unwrap_or(f64::NAN);
            float_to_long(float).ok_or_else(|| out_of_range(number))
        }
        JsonValue::String(text) => {
            let trimmed = text.trim();
            if let Ok(integer) = trimmed.parse::<i64>() {
                return Ok(integer);
            }
            match trimmed.parse::<f64>() {
                Ok(float) if float.is_finite() => {
                    float_to_long(float).ok_or_else(|| out_of_range(&trimmed))
                }
                _ => Err(format!("For input string: \"{text}\"")),
            }
        }
        other => Err(format!(
            "Current token ({}) not numeric",
            scalar_text(other)
        )),
    }
}

fn float_to_long(float: f64) -> Option<i64> {
    let truncated = float.trunc();
    (truncated >= i64::MIN as f64 && truncated < i64::MAX as f64).then_some(truncated as i64)
}

fn to_double(value: &JsonValue<'_>) -> Option<f64> {
    let number = match value {
        JsonValue::Number(number) => number.as_f64()?,
        JsonValue::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// A date field's value in a document being ingested: a date string, or epoch milliseconds
/// as a number or a string of digits.
fn parse_date_json(value: &JsonValue<'_>) -> Option<logfleet_time::EpochNanos> {
    match value {
        JsonValue::String(text) => logfleet_time::parse_date_text(text),
        JsonValue::Number(number) => logfleet_time::parse::millis_to_nanos(number.as_f64()?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::DynamicStyle;
    use serde_json::json;

    /// A test document; leaked, so that conversions borrowing from it outlive the statement.
    fn object(value: Value) -> &'static JsonObject<'static> {
        let text: &'static str = Box::leak(value.to_string().into_boxed_str());
        Box::leak(Box::new(JsonObject::from_slice(text.as_bytes()).unwrap()))
    }

    fn stream_mapping() -> Mapping {
        Mapping::new(DynamicStyle::DataStream)
    }

    fn apply(mapping: &mut Mapping, conversion: &Conversion<'_>) {
        for (path, field) in &conversion.new_fields {
            mapping.insert_checked(path, field.clone()).unwrap();
        }
    }

    #[test]
    fn seed_event_maps_to_canonical_types() {
        let mut mapping = stream_mapping();
        let source = object(json!({
            "@timestamp": "2026-11-26T10:00:00.000Z",
            "log_category": "api_request",
            "message": "POST /api/signup/ 201",
            "status_code": 201,
            "duration_ms": 12,
            "client_ip": "203.0.113.9",
            "geo": {"country_iso_code": "DE"},
        }));
        let conversion = convert_document(&mapping, source, "1").unwrap();
        apply(&mut mapping, &conversion);
        assert_eq!(
            mapping.resolve("duration_ms").unwrap().field_type,
            FieldType::Double
        );
        assert_eq!(
            mapping.resolve("client_ip").unwrap().field_type,
            FieldType::Ip
        );
        assert_eq!(
            mapping.resolve("message").unwrap().field_type,
            FieldType::Text
        );
        assert_eq!(mapping.fields["geo"].field_type, FieldType::Object);
        let document = &conversion.document;
        assert_eq!(document.timestamp_nanos, Some(1_795_687_200_000_000_000));
        assert_eq!(document.text_paths, ["message"]);
        assert!(
            document
                .numeric_values
                .contains(&("duration_ms".into(), Leaf::F64(12.0)))
        );
        assert!(
            document
                .exact_values
                .contains(&("geo.country_iso_code".into(), Leaf::Str("DE".into())))
        );
    }

    fn shipper_mapping() -> Mapping {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        mapping
            .merge_explicit(&json!({"properties": {
                "source": {"properties": {"address": {"type": "keyword"}}},
                "client": {"properties": {"address": {"type": "alias", "path": "source.address"}}},
                "labels": {"type": "flattened", "ignore_above": 8},
                "shallow": {"type": "flattened", "depth_limit": 1},
                "location": {"type": "geo_point"},
                "area": {"type": "geo_shape"},
                "embedding": {"type": "dense_vector", "dims": 3}
            }}))
            .unwrap();
        mapping
    }

    #[test]
    fn flattened_leaves_become_keywords_without_mappings() {
        let mapping = shipper_mapping();
        let source = object(json!({
            "labels": {"app": "web", "tier": {"name": "front"}, "port": 8080, "long": "far too long", "none": null}
        }));
        let conversion = convert_document(&mapping, source, "1").unwrap();
        assert!(conversion.new_fields.is_empty());
        let exact = &conversion.document.exact_values;
        for (path, value) in [
            ("labels.app", "web"),
            ("labels.tier.name", "front"),
            ("labels.port", "8080"),
            ("labels", "web"),
            ("labels", "front"),
        ] {
            assert!(
                exact.contains(&(path.into(), Leaf::Str(value.into()))),
                "{path} = {value} in {exact:?}"
            );
        }
        assert!(!exact.iter().any(|(path, _)| path == "labels.long"));
        assert_eq!(
            mapping.resolve("labels.tier.name").unwrap().field_type,
            FieldType::Keyword
        );
        let too_deep = object(json!({"shallow": {"a": {"b": "c"}}}));
        let error = convert_document(&mapping, too_deep, "2").unwrap_err();
        assert!(
            error.reason.contains("maximum depth limit of [1]"),
            "{error:?}"
        );
    }

    #[test]
    fn aliases_are_read_only_and_resolve_to_their_target() {
        let mapping = shipper_mapping();
        let resolved = mapping.resolve("client.address").unwrap();
        assert_eq!(resolved.path, "source.address");
        assert_eq!(resolved.field_type, FieldType::Keyword);
        let source = object(json!({"client": {"address": "10.0.0.1"}}));
        let error = convert_document(&mapping, source, "1").unwrap_err();
        assert_eq!(error.kind, "document_parsing_exception");
        assert!(
            error
                .reason
                .contains("Cannot write to a field alias [client.address]")
        );
    }

    #[test]
    fn value_types_written_as_objects_stay_in_source() {
        let mut mapping = shipper_mapping();
        let source = object(json!({
            "location": {"lat": 52.5, "lon": 13.4},
            "area": {"type": "Point", "coordinates": [13.4, 52.5]},
            "embedding": [0.1, 0.2, 0.3]
        }));
        let conversion = convert_document(&mapping, source, "1").unwrap();
        assert!(
            conversion.new_fields.is_empty(),
            "{:?}",
            conversion.new_fields
        );
        assert!(conversion.document.exact_values.is_empty());
        assert!(conversion.document.numeric_values.is_empty());
        // A data stream maps the canonical `geo.location` as a point even when it arrives as
        // an object.
        mapping = stream_mapping();
        let source = object(json!({"geo": {"location": {"lat": 52.5, "lon": 13.4}}}));
        let conversion = convert_document(&mapping, source, "1").unwrap();
        apply(&mut mapping, &conversion);
        assert_eq!(
            mapping.fields["geo.location"].field_type,
            FieldType::GeoPoint
        );
        assert!(!mapping.fields.contains_key("geo.location.lat"));
    }

    #[test]
    fn dynamic_templates_choose_new_fields_mappings() {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        mapping
            .merge_explicit(&json!({"dynamic_templates": [
                {"labels": {"path_match": "labels.*", "mapping": {"type": "keyword"}}},
                {"attributes": {"match": "attributes", "match_mapping_type": "object", "mapping": {"type": "flattened"}}},
                {"quiet": {"match": "quiet", "mapping": {"type": "object", "dynamic": false}}},
                {"scratch": {"path_match": "scratch.*", "runtime": {}}},
                {"strings_as_keyword": {"match_mapping_type": "string", "mapping": {"type": "keyword", "ignore_above": 4}}}
            ]}))
            .unwrap();
        let source = object(json!({
            "user": "alice",
            "labels": {"build": 42},
            "attributes": {"region": "eu", "zone": {"id": "a"}},
            "quiet": {"ignored": "value"},
            "scratch": {"note": "x"},
            "count": 3
        }));
        let conversion = convert_document(&mapping, source, "1").unwrap();
        apply(&mut mapping, &conversion);
        let type_of = |path: &str| mapping.fields.get(path).map(|field| field.es_type.as_str());
        assert_eq!(type_of("user"), Some("keyword"));
        assert_eq!(mapping.fields["user"].ignore_above, Some(4));
        assert_eq!(type_of("labels.build"), Some("keyword"));
        assert_eq!(type_of("attributes"), Some("flattened"));
        assert_eq!(type_of("attributes.region"), None);
        assert_eq!(type_of("quiet"), Some("object"));
        assert_eq!(type_of("quiet.ignored"), None, "dynamic: false below it");
        assert_eq!(
            type_of("scratch.note"),
            None,
            "runtime templates index nothing"
        );
        assert_eq!(
            type_of("count"),
            Some("long"),
            "no template matched: the defaults"
        );
        let exact = &conversion.document.exact_values;
        assert!(exact.contains(&("labels.build".into(), Leaf::Str("42".into()))));
        assert!(exact.contains(&("attributes.zone.id".into(), Leaf::Str("a".into()))));
        let rendered = mapping.to_es_json();
        assert_eq!(rendered["dynamic_templates"].as_array().unwrap().len(), 5);
        assert_eq!(
            rendered["dynamic_templates"][0]["labels"]["path_match"],
            "labels.*"
        );
        // A broken template is refused with the mapping, not at the first document.
        let error = Mapping::new(DynamicStyle::Index)
            .merge_explicit(&json!({"dynamic_templates": [{"bad": {"mapping": {"type": "nope"}}}]}))
            .unwrap_err();
        assert!(
            error.reason.contains("No handler for type [nope]"),
            "{error}"
        );
    }

    #[test]
    fn conflicting_value_rejects_the_document() {
        let mut mapping = stream_mapping();
        let first = convert_document(&mapping, object(json!({"status_code": 200})), "1").unwrap();
        apply(&mut mapping, &first);
        let error =
            convert_document(&mapping, object(json!({"status_code": "abc"})), "2").unwrap_err();
        assert_eq!(error.kind, "document_parsing_exception");
        assert!(
            error
                .reason
                .contains("failed to parse field [status_code] of type [long]")
        );
        assert!(error.reason.contains("document with id '2'"));
        assert_eq!(error.caused_by.unwrap().1, "For input string: \"abc\"");
    }

    #[test]
    fn numeric_strings_are_coerced_as_elasticsearch_does() {
        let mut mapping = stream_mapping();
        mapping
            .insert_checked("n", FieldMapping::new(FieldType::Long, "long"))
            .unwrap();
        let conversion = convert_document(&mapping, object(json!({"n": "42"})), "1").unwrap();
        assert_eq!(
            conversion.document.numeric_values,
            [("n".into(), Leaf::I64(42))]
        );
        let conversion = convert_document(&mapping, object(json!({"n": 4.9})), "1").unwrap();
        assert_eq!(
            conversion.document.numeric_values,
            [("n".into(), Leaf::I64(4))]
        );
        assert!(convert_document(&mapping, object(json!({"n": true})), "1").is_err());
        assert!(convert_document(&mapping, object(json!({"n": 1e300})), "1").is_err());
    }

    #[test]
    fn objects_and_concrete_values_do_not_mix() {
        let mut mapping = stream_mapping();
        let first = convert_document(&mapping, object(json!({"user": {"id": "u1"}})), "1").unwrap();
        apply(&mut mapping, &first);
        let error = convert_document(&mapping, object(json!({"user": "bob"})), "2").unwrap_err();
        assert!(
            error
                .reason
                .contains("tried to parse field [user] as object")
        );
        let error =
            convert_document(&mapping, object(json!({"user": {"id": {"x": 1}}})), "3").unwrap_err();
        assert!(error.reason.contains("failed to parse field [user.id]"));
        let error = convert_document(&mapping, object(json!({"user.id.x": 1})), "4").unwrap_err();
        assert!(error.reason.contains("must be of type object"));
    }

    #[test]
    fn depth_limit() {
        let mut nested = json!({"leaf": 1});
        for _ in 0..20 {
            nested = json!({ "o": nested });
        }
        let error = convert_document(&stream_mapping(), object(nested), "1").unwrap_err();
        assert!(
            error
                .reason
                .contains("Limit of mapping depth [20] has been exceeded")
        );
    }

    #[test]
    fn field_explosion_is_rejected() {
        let mut mapping = stream_mapping();
        mapping.total_fields_limit = 10;
        let mut many = serde_json::Map::new();
        for index in 0..11 {
            many.insert(format!("f{index}"), json!(index));
        }
        let error = convert_document(&mapping, object(Value::Object(many)), "1").unwrap_err();
        assert!(
            error
                .reason
                .contains("Limit of total fields [10] has been exceeded")
        );
        assert_eq!(error.caused_by.unwrap().0, "illegal_argument_exception");
    }

    #[test]
    fn strict_and_disabled_dynamic() {
        let mut mapping = stream_mapping();
        mapping.dynamic = Dynamic::Strict;
        let error = convert_document(&mapping, object(json!({"x": 1})), "1").unwrap_err();
        assert_eq!(error.kind, "strict_dynamic_mapping_exception");
        mapping.dynamic = Dynamic::False;
        let conversion = convert_document(&mapping, object(json!({"x": 1})), "1").unwrap();
        assert!(conversion.new_fields.is_empty());
        assert!(conversion.document.numeric_values.is_empty());
    }

    #[test]
    fn metadata_fields_in_source_are_rejected() {
        let error = convert_document(&stream_mapping(), object(json!({"_id": "x"})), "1");
        assert!(error.unwrap_err().reason.contains("is a metadata field"));
    }

    #[test]
    fn ignore_above_keeps_long_strings_out_of_the_index() {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        let long = "x".repeat(300);
        let conversion = convert_document(&mapping, object(json!({"s": long})), "1").unwrap();
        apply(&mut mapping, &conversion);
        assert!(
            conversion.document.exact_values.is_empty(),
            "keyword sub-field skipped"
        );
        assert_eq!(conversion.document.text_values.len(), 1);
    }

    #[test]
    fn ip_encoding_orders_numerically() {
        let low = encode_ip("10.0.0.9".parse().unwrap());
        let high = encode_ip("10.0.0.10".parse().unwrap());
        assert!(low < high);
        assert_eq!(decode_ip(&low).unwrap().to_string(), "10.0.0.9");
        let v6 = "2001:db8::1".parse().unwrap();
        assert_eq!(decode_ip(&encode_ip(v6)).unwrap(), v6);
    }

    #[test]
    fn arrays_index_every_element() {
        let conversion = convert_document(
            &stream_mapping(),
            object(json!({"tags": ["a", null, "b"]})),
            "1",
        )
        .unwrap();
        assert_eq!(conversion.document.exact_values.len(), 2);
        assert_eq!(conversion.new_fields.len(), 1);
        assert!(conversion.document.numeric_values.is_empty());
    }
}
