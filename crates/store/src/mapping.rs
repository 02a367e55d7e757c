//! Mappings: the type of every field of an index or data stream, as Elasticsearch has them.
//!
//! A [`Mapping`] keeps fields as a flat map of dotted paths (`geo.country_iso_code`), objects
//! included, which is how documents are indexed and how queries name fields; it is rendered
//! back to Elasticsearch's nested `properties` form for `GET /_mapping`. Mappings only grow:
//! a field's type never changes once mapped, which is what lets the write-ahead log be replayed
//! against the latest mapping.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::dynamic_template::{DynamicTemplate, TemplateMapping};
use crate::error::MappingError;
use crate::normalizer::NormalizerFilter;

/// Elasticsearch's default `index.mapping.total_fields.limit`.
pub const DEFAULT_TOTAL_FIELDS_LIMIT: usize = 1000;
/// Elasticsearch's default `index.mapping.depth.limit`.
pub const DEFAULT_DEPTH_LIMIT: usize = 20;
/// `ignore_above` of the `keyword` sub-field that dynamic mapping adds to strings in indexes.
const INDEX_KEYWORD_IGNORE_ABOVE: u32 = 256;
/// `ignore_above` of dynamically mapped strings in data streams (Elasticsearch's
/// `logs@mappings` template).
const DATA_STREAM_KEYWORD_IGNORE_ABOVE: u32 = 1024;

/// How Logfleet stores and queries a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Exact string values.
    Keyword,
    /// Analysed full text.
    Text,
    /// 64-bit integers (`long`, `integer`, `short`, `byte`, `unsigned_long`).
    Long,
    /// 64-bit floats (`double`, `float`, `half_float`, `scaled_float`).
    Double,
    /// Dates (`date`, `date_nanos`).
    Date,
    /// IPv4 and IPv6 addresses.
    Ip,
    /// `true` / `false`.
    Boolean,
    /// Geographic points, kept in `_source` and not indexed.
    GeoPoint,
    /// An object: a namespace for its sub-fields.
    Object,
    /// Another name for the field at its `path` parameter; holds no values of its own.
    Alias,
    /// A whole object indexed as keywords: `labels.app` matches the leaf `app` of `labels`,
    /// `labels` matches any of its leaves, and the object's keys never become mappings.
    Flattened,
    /// A type Logfleet keeps in `_source` without indexing (`binary`, `geo_shape`, ranges,
    /// vectors, `histogram`…), so that templates written for Elasticsearch still apply.
    Unindexed,
}

impl FieldType {
    fn from_es_type(es_type: &str) -> Option<FieldType> {
        Some(match es_type {
            "keyword" | "constant_keyword" | "wildcard" | "version" | "counted_keyword" => {
                FieldType::Keyword
            }
            "text" | "match_only_text" | "search_as_you_type" | "annotated_text" => FieldType::Text,
            "long" | "integer" | "short" | "byte" | "unsigned_long" => FieldType::Long,
            "double" | "float" | "half_float" | "scaled_float" => FieldType::Double,
            "date" | "date_nanos" => FieldType::Date,
            "ip" => FieldType::Ip,
            "boolean" => FieldType::Boolean,
            "geo_point" => FieldType::GeoPoint,
            "object" | "nested" => FieldType::Object,
            "alias" => FieldType::Alias,
            "flattened" => FieldType::Flattened,
            "binary"
            | "geo_shape"
            | "shape"
            | "point"
            | "histogram"
            | "integer_range"
            | "long_range"
            | "float_range"
            | "double_range"
            | "date_range"
            | "ip_range"
            | "dense_vector"
            | "sparse_vector"
            | "rank_feature"
            | "rank_features"
            | "aggregate_metric_double"
            | "completion"
            | "join"
            | "percolator"
            | "token_count"
            | "murmur3"
            | "semantic_text" => FieldType::Unindexed,
            _ => return None,
        })
    }

    /// The type an Elasticsearch mapping type name is stored as (`integer` → `Long`…).
    pub fn from_es_type_name(es_type: &str) -> Option<FieldType> {
        FieldType::from_es_type(es_type)
    }

    /// Whether values of this type live in the exact-value (`_kw`) column store.
    pub fn is_exact_value(self) -> bool {
        matches!(
            self,
            FieldType::Keyword
                | FieldType::Long
                | FieldType::Double
                | FieldType::Date
                | FieldType::Ip
                | FieldType::Boolean
        )
    }
}

/// The mapping of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldMapping {
    /// How the field is stored.
    pub field_type: FieldType,
    /// The type name shown in `GET /_mapping` (`integer`, `float`, `match_only_text`…).
    pub es_type: String,
    /// Strings longer than this many characters are kept in `_source` but not indexed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_above: Option<u32>,
    /// Multi-fields, e.g. `keyword` of a `text` field, addressed as `field.keyword`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, FieldMapping>,
    /// Other parameters given in an explicit mapping, echoed back by `GET /_mapping`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub parameters: Map<String, Value>,
    /// The filters of its `normalizer`, for keywords: values are indexed, and query terms
    /// looked up, after them (see [`crate::normalizer`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub normalizer: Vec<NormalizerFilter>,
}

impl FieldMapping {
    /// A field of `field_type` shown as `es_type`.
    pub fn new(field_type: FieldType, es_type: &str) -> FieldMapping {
        FieldMapping {
            field_type,
            es_type: es_type.to_owned(),
            ignore_above: None,
            fields: BTreeMap::new(),
            parameters: Map::new(),
            normalizer: Vec::new(),
        }
    }

    /// An object field.
    pub fn object() -> FieldMapping {
        FieldMapping::new(FieldType::Object, "object")
    }

    fn keyword(ignore_above: Option<u32>) -> FieldMapping {
        FieldMapping {
            ignore_above,
            ..FieldMapping::new(FieldType::Keyword, "keyword")
        }
    }

    /// The field an alias names.
    pub fn alias_path(&self) -> Option<&str> {
        self.parameters.get("path").and_then(Value::as_str)
    }

    /// Fields this mapping counts against the total fields limit: itself and its multi-fields.
    fn field_count(&self) -> usize {
        1 + self
            .fields
            .values()
            .map(FieldMapping::field_count)
            .sum::<usize>()
    }
}

/// What to do with fields a document has and the mapping does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dynamic {
    /// Map them (Elasticsearch's default).
    #[default]
    True,
    /// Keep them in `_source` without indexing them.
    False,
    /// Reject the document.
    Strict,
    /// Keep them in `_source`, as `false` does (runtime fields are not evaluated).
    Runtime,
}

/// Which dynamic mapping rules apply to strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DynamicStyle {
    /// Elasticsearch's defaults for indexes: `text` with a `keyword` sub-field.
    Index,
    /// Elasticsearch's `logs@mappings`: `keyword`, `message` as `text`, and the canonical
    /// Logfleet schema's types for its fields.
    DataStream,
}

/// Where a field's values are indexed, for the query layer.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedField {
    /// The field's full path as queried (`title.keyword`).
    pub path: String,
    /// Its type.
    pub field_type: FieldType,
    /// `ignore_above`, for keywords.
    pub ignore_above: Option<u32>,
    /// Its normalizer's filters, for keywords.
    pub normalizer: Vec<NormalizerFilter>,
}

/// The fields of an index or data stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// Handling of unmapped fields at the root.
    pub dynamic: Dynamic,
    /// Dynamic rules for strings.
    pub style: DynamicStyle,
    /// Whether date-looking strings are mapped as dates.
    pub date_detection: bool,
    /// Every mapped path, objects included.
    pub fields: BTreeMap<String, FieldMapping>,
    /// `index.mapping.total_fields.limit`.
    pub total_fields_limit: usize,
    /// `index.mapping.depth.limit`.
    pub depth_limit: usize,
    /// `_meta` of an explicit mapping, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    /// `dynamic_templates`, tried in order before the default dynamic rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dynamic_templates: Vec<DynamicTemplate>,
}

impl Mapping {
    /// An empty mapping with the given dynamic rules.
    pub fn new(style: DynamicStyle) -> Mapping {
        Mapping {
            dynamic: Dynamic::True,
            style,
            date_detection: true,
            fields: BTreeMap::new(),
            total_fields_limit: DEFAULT_TOTAL_FIELDS_LIMIT,
            depth_limit: DEFAULT_DEPTH_LIMIT,
            meta: None,
            dynamic_templates: Vec::new(),
        }
    }

    /// How many fields count against the total fields limit.
    pub fn field_count(&self) -> usize {
        self.fields.values().map(FieldMapping::field_count).sum()
    }

    /// Finds the field a query names, including multi-fields (`title.keyword`).
    /// An alias resolves to the field it names; a flattened field and its keys resolve as
    /// keywords.
    pub fn resolve(&self, path: &str) -> Option<ResolvedField> {
        if let Some(mapping) = self.fields.get(path) {
            return match mapping.field_type {
                FieldType::Alias => self
                    .resolve(mapping.alias_path()?)
                    .filter(|target| target.field_type != FieldType::Alias),
                FieldType::Flattened => Some(ResolvedField {
                    path: path.to_owned(),
                    field_type: FieldType::Keyword,
                    ignore_above: mapping.ignore_above,
                    normalizer: Vec::new(),
                }),
                field_type => Some(ResolvedField {
                    path: path.to_owned(),
                    field_type,
                    ignore_above: mapping.ignore_above,
                    normalizer: mapping.normalizer.clone(),
                }),
            };
        }
        let (parent, sub_field) = path.rsplit_once('.')?;
        if let Some(sub_mapping) = self
            .fields
            .get(parent)
            .and_then(|parent| parent.fields.get(sub_field))
        {
            return Some(ResolvedField {
                path: path.to_owned(),
                field_type: sub_mapping.field_type,
                ignore_above: sub_mapping.ignore_above,
                normalizer: sub_mapping.normalizer.clone(),
            });
        }
        let flattened = self.flattened_ancestor(path)?;
        Some(ResolvedField {
            path: path.to_owned(),
            field_type: FieldType::Keyword,
            ignore_above: flattened.ignore_above,
            normalizer: Vec::new(),
        })
    }

    /// The flattened field `path` is a key of (`labels` for `labels.app`), if any.
    pub fn flattened_ancestor(&self, path: &str) -> Option<&FieldMapping> {
        path.match_indices('.').find_map(|(end, _)| {
            self.fields
                .get(&path[..end])
                .filter(|mapping| mapping.field_type == FieldType::Flattened)
        })
    }

    /// Resolves the `normalizer` of every keyword (and keyword multi-field) to its filters:
    /// the built-in `lowercase`, or a custom normalizer of the index's settings, read through
    /// `setting` (flat names without `index.`).
    pub fn resolve_normalizers(
        &mut self,
        setting: impl Fn(&str) -> Option<Value> + Copy,
    ) -> Result<(), MappingError> {
        fn resolve_field(
            path: &str,
            field: &mut FieldMapping,
            setting: impl Fn(&str) -> Option<Value> + Copy,
        ) -> Result<(), MappingError> {
            if let Some(name) = field.parameters.get("normalizer").and_then(Value::as_str) {
                field.normalizer = crate::normalizer::resolve(name, path, setting)?;
            }
            for (sub_name, sub_field) in &mut field.fields {
                resolve_field(&format!("{path}.{sub_name}"), sub_field, setting)?;
            }
            Ok(())
        }
        for (path, field) in &mut self.fields {
            resolve_field(path, field, setting)?;
        }
        Ok(())
    }

    /// The paths of every leaf field, multi-fields included, with their types.
    pub fn leaf_fields(&self) -> Vec<(String, &FieldMapping)> {
        let mut leaves = Vec::new();
        for (path, mapping) in &self.fields {
            if matches!(mapping.field_type, FieldType::Object | FieldType::Alias) {
                continue;
            }
            leaves.push((path.clone(), mapping));
            for (sub_name, sub_mapping) in &mapping.fields {
                leaves.push((format!("{path}.{sub_name}"), sub_mapping));
            }
        }
        leaves
    }

    /// The mapping dynamic rules give a new field at `path` holding `value` (a scalar or an
    /// object; arrays are resolved by their first non-null element by the caller).
    pub fn dynamic_mapping_for(&self, path: &str, value: &Value) -> Option<FieldMapping> {
        if let Some(from_template) = self.template_mapping_for(path, value) {
            return from_template;
        }
        if self.style == DynamicStyle::DataStream
            && let Some(kind) = logfleet_model::canonical_kind(path)
            && (!value.is_object() || kind == logfleet_model::FieldKind::GeoPoint)
        {
            return Some(canonical_mapping(kind));
        }
        if let Value::Object(_) = value {
            return Some(FieldMapping::object());
        }
        match value {
            Value::Null | Value::Object(_) | Value::Array(_) => None,
            Value::Bool(_) => Some(FieldMapping::new(FieldType::Boolean, "boolean")),
            Value::Number(number) if number.is_f64() => {
                Some(FieldMapping::new(FieldType::Double, "float"))
            }
            Value::Number(_) => Some(FieldMapping::new(FieldType::Long, "long")),
            Value::String(text) if self.date_detection && logfleet_time::looks_like_date(text) => {
                Some(FieldMapping::new(FieldType::Date, "date"))
            }
            Value::String(_) => Some(match self.style {
                DynamicStyle::DataStream if path == logfleet_model::fields::MESSAGE => {
                    FieldMapping::new(FieldType::Text, "match_only_text")
                }
                DynamicStyle::DataStream => {
                    FieldMapping::keyword(Some(DATA_STREAM_KEYWORD_IGNORE_ABOVE))
                }
                DynamicStyle::Index => {
                    let mut text = FieldMapping::new(FieldType::Text, "text");
                    text.fields.insert(
                        "keyword".to_owned(),
                        FieldMapping::keyword(Some(INDEX_KEYWORD_IGNORE_ABOVE)),
                    );
                    text
                }
            }),
        }
    }

    /// The mapping the first matching dynamic template gives a new field: `Some(None)` for a
    /// `runtime` template (kept in `_source` only), `None` when no template applies.
    fn template_mapping_for(&self, path: &str, value: &Value) -> Option<Option<FieldMapping>> {
        if self.dynamic_templates.is_empty() {
            return None;
        }
        let detected = match value {
            Value::Object(_) => "object",
            Value::Bool(_) => "boolean",
            Value::Number(number) if number.is_f64() => "double",
            Value::Number(_) => "long",
            Value::String(text) if self.date_detection && logfleet_time::looks_like_date(text) => {
                "date"
            }
            Value::String(_) => "string",
            Value::Null | Value::Array(_) => return None,
        };
        for template in &self.dynamic_templates {
            if !template.matches(path, detected) {
                continue;
            }
            let mapping = match template.mapping_for(path, detected)? {
                TemplateMapping::Runtime => return Some(None),
                TemplateMapping::Mapping(definition) => match parse_field(path, &definition) {
                    Ok(mapping) => mapping,
                    Err(_) => continue,
                },
            };
            // An object can only become a type that takes objects.
            let takes_objects = matches!(
                mapping.field_type,
                FieldType::Object
                    | FieldType::Flattened
                    | FieldType::GeoPoint
                    | FieldType::Unindexed
            );
            if value.is_object() && !takes_objects {
                continue;
            }
            return Some(Some(mapping));
        }
        None
    }

    fn merge_dynamic_templates(&mut self, templates: &Value) -> Result<(), MappingError> {
        let Value::Array(entries) = templates else {
            return Err(MappingError::parse(
                "Dynamic template syntax error. An array of named objects is expected.",
            ));
        };
        for entry in entries {
            let template = DynamicTemplate::parse(entry, |path, definition| {
                parse_field(path, definition).map(|_| ())
            })?;
            // As in Elasticsearch, a template replaces the one of the same name.
            match self
                .dynamic_templates
                .iter_mut()
                .find(|existing| existing.name == template.name)
            {
                Some(existing) => *existing = template,
                None => self.dynamic_templates.push(template),
            }
        }
        Ok(())
    }

    /// Parses an explicit mapping (`{"properties": {…}, "dynamic": …}`) into `self`, which
    /// must not change the type of a field already mapped.
    pub fn merge_explicit(&mut self, explicit: &Value) -> Result<(), MappingError> {
        let Value::Object(root) = explicit else {
            return Err(MappingError::parse("mappings must be an object"));
        };
        let mut merged = self.clone();
        for (key, value) in root {
            match key.as_str() {
                "properties" => merged.merge_properties("", value, 1)?,
                "dynamic" => merged.dynamic = parse_dynamic(value)?,
                "date_detection" => {
                    merged.date_detection = value
                        .as_bool()
                        .ok_or_else(|| MappingError::parse("[date_detection] must be a boolean"))?;
                }
                "_meta" => merged.meta = Some(value.clone()),
                "dynamic_templates" => merged.merge_dynamic_templates(value)?,
                // Accepted for compatibility with index templates written for Elasticsearch;
                // they have no effect here.
                "_source"
                | "numeric_detection"
                | "dynamic_date_formats"
                | "_routing"
                | "_data_stream_timestamp"
                | "subobjects" => {}
                other => {
                    return Err(MappingError::parse(format!(
                        "Root mapping definition has unsupported parameters:  [{other} : {value}]"
                    )));
                }
            }
        }
        merged.check_aliases()?;
        let count = merged.field_count();
        if count > merged.total_fields_limit {
            return Err(MappingError::illegal(format!(
                "Limit of total fields [{}] has been exceeded",
                merged.total_fields_limit
            )));
        }
        *self = merged;
        Ok(())
    }

    /// Every alias must name an existing field that is neither an object nor an alias.
    fn check_aliases(&self) -> Result<(), MappingError> {
        for (path, mapping) in &self.fields {
            if mapping.field_type != FieldType::Alias {
                continue;
            }
            let target_path = mapping.alias_path().unwrap_or_default();
            let invalid = |why: &str| {
                MappingError::parse(format!(
                    "Invalid [path] value [{target_path}] for field alias [{path}]: {why}"
                ))
            };
            if target_path == path {
                return Err(invalid("an alias cannot refer to itself."));
            }
            match self.fields.get(target_path) {
                None => {
                    return Err(invalid(
                        "an alias must refer to an existing field in the mappings.",
                    ));
                }
                Some(target) if target.field_type == FieldType::Alias => {
                    return Err(invalid("an alias cannot refer to another alias."));
                }
                Some(target) if target.field_type == FieldType::Object => {
                    return Err(invalid(
                        "an alias must refer to a concrete field, not an object.",
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn merge_properties(
        &mut self,
        prefix: &str,
        properties: &Value,
        depth: usize,
    ) -> Result<(), MappingError> {
        let Value::Object(properties) = properties else {
            return Err(MappingError::parse(format!(
                "Expected map for property [properties] on field [{prefix}] but got a {}",
                json_kind(properties)
            )));
        };
        if depth > self.depth_limit {
            return Err(MappingError::illegal(format!(
                "Limit of mapping depth [{}] has been exceeded due to object field [{prefix}]",
                self.depth_limit
            )));
        }
        for (name, definition) in properties {
            if name.is_empty() || name.split('.').any(str::is_empty) {
                return Err(MappingError::illegal(format!(
                    "field name cannot be an empty string or contain empty segments: [{name}]"
                )));
            }
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let Value::Object(definition) = definition else {
                return Err(MappingError::parse(format!(
                    "Expected map for property [fields] on field [{name}] but got a class {}",
                    json_kind(definition)
                )));
            };
            let mapping = parse_field(&path, definition)?;
            self.insert_checked(&path, mapping.clone())?;
            if let Some(sub_properties) = definition.get("properties") {
                self.merge_properties(&path, sub_properties, depth + 1)?;
            }
        }
        Ok(())
    }

    /// Adds a field, its parent objects too, refusing to change an existing field's type.
    pub fn insert_checked(
        &mut self,
        path: &str,
        mapping: FieldMapping,
    ) -> Result<(), MappingError> {
        let mut parent_end = 0;
        while let Some(offset) = path[parent_end..].find('.') {
            let parent = &path[..parent_end + offset];
            match self.fields.get(parent) {
                Some(existing) if existing.field_type != FieldType::Object => {
                    return Err(MappingError::illegal(format!(
                        "can't merge a non object mapping [{parent}] with an object mapping"
                    )));
                }
                Some(_) => {}
                None => {
                    self.fields
                        .insert(parent.to_owned(), FieldMapping::object());
                }
            }
            parent_end += offset + 1;
        }
        match self.fields.get_mut(path) {
            None => {
                self.fields.insert(path.to_owned(), mapping);
                Ok(())
            }
            Some(existing) if existing.field_type == mapping.field_type => {
                for (name, sub_field) in mapping.fields {
                    existing.fields.entry(name).or_insert(sub_field);
                }
                Ok(())
            }
            Some(existing) => Err(MappingError::illegal(format!(
                "mapper [{path}] cannot be changed from type [{}] to [{}]",
                existing.es_type, mapping.es_type
            ))),
        }
    }

    /// Renders the mapping as Elasticsearch shows it: `{"properties": {…}}`, nested.
    pub fn to_es_json(&self) -> Value {
        let mut root = Map::new();
        if self.dynamic != Dynamic::True {
            let dynamic = match self.dynamic {
                Dynamic::True => "true",
                Dynamic::False => "false",
                Dynamic::Strict => "strict",
                Dynamic::Runtime => "runtime",
            };
            root.insert("dynamic".to_owned(), Value::String(dynamic.to_owned()));
        }
        if let Some(meta) = &self.meta {
            root.insert("_meta".to_owned(), meta.clone());
        }
        if !self.dynamic_templates.is_empty() {
            let templates = self
                .dynamic_templates
                .iter()
                .map(|template| template.definition.clone())
                .collect();
            root.insert("dynamic_templates".to_owned(), Value::Array(templates));
        }
        let properties = self.properties_under("");
        if !properties.is_empty() {
            root.insert("properties".to_owned(), Value::Object(properties));
        }
        Value::Object(root)
    }

    fn properties_under(&self, prefix: &str) -> Map<String, Value> {
        let mut properties = Map::new();
        let range_start = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}.")
        };
        for (path, mapping) in self.fields.range(range_start.clone()..) {
            let Some(name) = path.strip_prefix(&range_start) else {
                break;
            };
            if name.contains('.') {
                continue;
            }
            let rendered = if mapping.field_type == FieldType::Object {
                let children = self.properties_under(path);
                let mut object = Map::new();
                if !children.is_empty() {
                    object.insert("properties".to_owned(), Value::Object(children));
                }
                if mapping.es_type != "object" {
                    object.insert("type".to_owned(), Value::String(mapping.es_type.clone()));
                }
                Value::Object(object)
            } else {
                render_leaf(mapping)
            };
            properties.insert(name.to_owned(), rendered);
        }
        properties
    }
}

fn render_leaf(mapping: &FieldMapping) -> Value {
    let mut rendered = Map::new();
    rendered.insert("type".to_owned(), Value::String(mapping.es_type.clone()));
    for (key, value) in &mapping.parameters {
        rendered.insert(key.clone(), value.clone());
    }
    if let Some(ignore_above) = mapping.ignore_above {
        rendered.insert("ignore_above".to_owned(), json!(ignore_above));
    }
    if !mapping.fields.is_empty() {
        let sub_fields: Map<String, Value> = mapping
            .fields
            .iter()
            .map(|(name, sub_mapping)| (name.clone(), render_leaf(sub_mapping)))
            .collect();
        rendered.insert("fields".to_owned(), Value::Object(sub_fields));
    }
    Value::Object(rendered)
}

fn canonical_mapping(kind: logfleet_model::FieldKind) -> FieldMapping {
    use logfleet_model::FieldKind;
    match kind {
        FieldKind::Keyword => FieldMapping::keyword(Some(DATA_STREAM_KEYWORD_IGNORE_ABOVE)),
        FieldKind::Text => FieldMapping::new(FieldType::Text, "match_only_text"),
        FieldKind::Long => FieldMapping::new(FieldType::Long, "long"),
        FieldKind::Double => FieldMapping::new(FieldType::Double, "double"),
        FieldKind::Date => FieldMapping::new(FieldType::Date, "date"),
        FieldKind::Ip => FieldMapping::new(FieldType::Ip, "ip"),
        FieldKind::Boolean => FieldMapping::new(FieldType::Boolean, "boolean"),
        FieldKind::GeoPoint => FieldMapping::new(FieldType::GeoPoint, "geo_point"),
    }
}

fn parse_dynamic(value: &Value) -> Result<Dynamic, MappingError> {
    match value {
        Value::Bool(true) => Ok(Dynamic::True),
        Value::Bool(false) => Ok(Dynamic::False),
        Value::String(text) => match text.as_str() {
            "true" => Ok(Dynamic::True),
            "false" => Ok(Dynamic::False),
            "strict" => Ok(Dynamic::Strict),
            "runtime" => Ok(Dynamic::Runtime),
            other => Err(MappingError::parse(format!(
                "Unknown value [{other}] for dynamic, expected one of [true, false, strict, runtime]"
            ))),
        },
        other => Err(MappingError::parse(format!(
            "Unknown value [{other}] for dynamic"
        ))),
    }
}

fn parse_field(path: &str, definition: &Map<String, Value>) -> Result<FieldMapping, MappingError> {
    let es_type = match definition.get("type") {
        Some(Value::String(es_type)) => es_type.as_str(),
        Some(other) => {
            return Err(MappingError::parse(format!(
                "type of field [{path}] must be a string, found [{other}]"
            )));
        }
        None => "object",
    };
    let field_type = FieldType::from_es_type(es_type).ok_or_else(|| {
        MappingError::parse(format!(
            "No handler for type [{es_type}] declared on field [{path}]"
        ))
    })?;
    let mut mapping = FieldMapping::new(field_type, es_type);
    for (key, value) in definition {
        match key.as_str() {
            "type" => {}
            "properties" if field_type == FieldType::Object => {}
            "path" if field_type == FieldType::Alias => {
                if !value.is_string() {
                    return Err(MappingError::parse(format!(
                        "[path] on field alias [{path}] must be a string"
                    )));
                }
                mapping.parameters.insert(key.clone(), value.clone());
            }
            "depth_limit" if field_type == FieldType::Flattened => {
                if value.as_u64().is_none_or(|limit| limit == 0) {
                    return Err(MappingError::parse(format!(
                        "[depth_limit] on field [{path}] must be a positive integer"
                    )));
                }
                mapping.parameters.insert(key.clone(), value.clone());
            }
            // Not indexed here: every parameter of these types is kept and echoed back.
            _ if field_type == FieldType::Unindexed => {
                mapping.parameters.insert(key.clone(), value.clone());
            }
            "normalizer" => {
                let Some(name) = value.as_str() else {
                    return Err(MappingError::parse(format!(
                        "[normalizer] on field [{path}] must be a normalizer's name"
                    )));
                };
                // A custom one is resolved with the index's settings, when the mapping meets
                // them (see `Mapping::resolve_normalizers`).
                if name == "lowercase" {
                    mapping.normalizer = vec![NormalizerFilter::Lowercase];
                }
                mapping.parameters.insert(key.clone(), value.clone());
            }
            "ignore_above" => {
                let limit = value.as_u64().and_then(|limit| u32::try_from(limit).ok());
                mapping.ignore_above = Some(limit.ok_or_else(|| {
                    MappingError::parse(format!(
                        "[ignore_above] on field [{path}] must be a positive integer"
                    ))
                })?);
            }
            "fields" => {
                let Value::Object(sub_fields) = value else {
                    return Err(MappingError::parse(format!(
                        "[fields] on field [{path}] must be an object"
                    )));
                };
                for (sub_name, sub_definition) in sub_fields {
                    let Value::Object(sub_definition) = sub_definition else {
                        return Err(MappingError::parse(format!(
                            "multi-field [{path}.{sub_name}] must be an object"
                        )));
                    };
                    let sub_mapping = parse_field(&format!("{path}.{sub_name}"), sub_definition)?;
                    if sub_mapping.field_type == FieldType::Object {
                        return Err(MappingError::parse(format!(
                            "Type [object] cannot be used in multi field [{path}.{sub_name}]"
                        )));
                    }
                    mapping.fields.insert(sub_name.clone(), sub_mapping);
                }
            }
            "dynamic" if field_type == FieldType::Object => {
                parse_dynamic(value)?;
                mapping.parameters.insert(key.clone(), value.clone());
            }
            // Parameters that tune Elasticsearch's Lucene indexing; echoed back, no effect.
            "index"
            | "doc_values"
            | "store"
            | "norms"
            | "format"
            | "null_value"
            | "analyzer"
            | "search_analyzer"
            | "coerce"
            | "ignore_malformed"
            | "copy_to"
            | "scaling_factor"
            | "index_options"
            | "eager_global_ordinals"
            | "similarity"
            | "term_vector"
            | "time_series_dimension"
            | "time_series_metric"
            | "meta"
            | "enabled"
            | "value"
            | "position_increment_gap"
            | "fielddata"
            | "locale"
            | "on_script_error"
            | "split_queries_on_whitespace"
            | "include_in_parent"
            | "include_in_root"
            | "ignore_z_value"
            | "time_series_dimensions" => {
                mapping.parameters.insert(key.clone(), value.clone());
            }
            other => {
                return Err(MappingError::parse(format!(
                    "unknown parameter [{other}] on mapper [{path}] of type [{es_type}]"
                )));
            }
        }
    }
    if field_type == FieldType::Alias && mapping.alias_path().is_none() {
        return Err(MappingError::parse(format!(
            "The [path] property must be specified for field [{path}]."
        )));
    }
    Ok(mapping)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(_) => "java.lang.Number",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipper_template_types_are_accepted() {
        let mut mapping = Mapping::new(DynamicStyle::DataStream);
        mapping
            .merge_explicit(&json!({"properties": {
                // The alias comes before its target, as in generated templates.
                "remote_ip_list": {"type": "alias", "path": "source.address"},
                "source": {"properties": {"address": {"type": "keyword"}}},
                "labels": {"type": "flattened"},
                "body": {"type": "binary", "doc_values": false},
                "vector": {"type": "dense_vector", "dims": 3, "similarity": "cosine"},
                "title": {"type": "search_as_you_type"},
                "hits": {"type": "counted_keyword"}
            }}))
            .unwrap();
        assert_eq!(mapping.fields["body"].field_type, FieldType::Unindexed);
        assert_eq!(
            mapping.resolve("title").unwrap().field_type,
            FieldType::Text
        );
        assert_eq!(
            mapping.resolve("labels").unwrap().field_type,
            FieldType::Keyword
        );
        let rendered = mapping.to_es_json();
        assert_eq!(
            rendered["properties"]["remote_ip_list"],
            json!({"type": "alias", "path": "source.address"})
        );
        assert_eq!(rendered["properties"]["vector"]["dims"], 3);
        // Aliases are not leaves of documents.
        assert!(
            !mapping
                .leaf_fields()
                .iter()
                .any(|(path, _)| path == "remote_ip_list")
        );
    }

    #[test]
    fn aliases_must_name_a_concrete_field() {
        for (properties, reason) in [
            (
                json!({"a": {"type": "alias", "path": "missing"}}),
                "must refer to an existing field",
            ),
            (
                json!({"a": {"type": "alias"}}),
                "The [path] property must be specified",
            ),
            (
                json!({"o": {"properties": {"x": {"type": "long"}}}, "a": {"type": "alias", "path": "o"}}),
                "not an object",
            ),
            (
                json!({"x": {"type": "long"}, "b": {"type": "alias", "path": "x"}, "a": {"type": "alias", "path": "b"}}),
                "another alias",
            ),
            (
                json!({"k": {"type": "keyword", "properties": {}}}),
                "unknown parameter [properties]",
            ),
        ] {
            let mut mapping = Mapping::new(DynamicStyle::Index);
            let error = mapping
                .merge_explicit(&json!({"properties": properties}))
                .unwrap_err();
            assert!(
                error.to_string().contains(reason),
                "{error} for {properties}"
            );
            assert!(mapping.fields.is_empty());
        }
    }

    #[test]
    fn explicit_mapping_round_trips_through_elasticsearch_shape() {
        let explicit = json!({
            "dynamic": "strict",
            "properties": {
                "title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 100}}},
                "count": {"type": "integer"},
                "user": {"properties": {"name": {"type": "keyword"}}},
            }
        });
        let mut mapping = Mapping::new(DynamicStyle::Index);
        mapping.merge_explicit(&explicit).unwrap();
        assert_eq!(mapping.dynamic, Dynamic::Strict);
        assert_eq!(
            mapping.resolve("count").unwrap().field_type,
            FieldType::Long
        );
        assert_eq!(
            mapping.resolve("title.raw").unwrap().ignore_above,
            Some(100)
        );
        assert_eq!(
            mapping.resolve("user.name").unwrap().field_type,
            FieldType::Keyword
        );
        assert_eq!(mapping.field_count(), 5);
        assert_eq!(mapping.to_es_json(), explicit);
    }

    #[test]
    fn unknown_type_is_a_parse_error() {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        let error = mapping
            .merge_explicit(&json!({"properties": {"x": {"type": "banana"}}}))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "No handler for type [banana] declared on field [x]"
        );
        assert!(mapping.fields.is_empty(), "a failed merge changes nothing");
    }

    #[test]
    fn types_never_change() {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        mapping
            .merge_explicit(&json!({"properties": {"x": {"type": "long"}}}))
            .unwrap();
        let error = mapping
            .merge_explicit(&json!({"properties": {"x": {"type": "keyword"}}}))
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("cannot be changed from type [long] to [keyword]")
        );
    }

    #[test]
    fn leaf_under_leaf_is_rejected() {
        let mut mapping = Mapping::new(DynamicStyle::Index);
        mapping
            .insert_checked("a", FieldMapping::keyword(None))
            .unwrap();
        assert!(
            mapping
                .insert_checked("a.b", FieldMapping::keyword(None))
                .is_err()
        );
    }

    #[test]
    fn dynamic_rules_by_style() {
        let index = Mapping::new(DynamicStyle::Index);
        let text = index.dynamic_mapping_for("name", &json!("x")).unwrap();
        assert_eq!(text.field_type, FieldType::Text);
        assert_eq!(text.fields["keyword"].ignore_above, Some(256));
        assert_eq!(
            index.dynamic_mapping_for("n", &json!(1)).unwrap().es_type,
            "long"
        );
        assert_eq!(
            index.dynamic_mapping_for("n", &json!(1.5)).unwrap().es_type,
            "float"
        );
        assert_eq!(
            index
                .dynamic_mapping_for("d", &json!("2026-11-26T10:00:00Z"))
                .unwrap()
                .field_type,
            FieldType::Date
        );

        let stream = Mapping::new(DynamicStyle::DataStream);
        assert_eq!(
            stream
                .dynamic_mapping_for("app", &json!("x"))
                .unwrap()
                .es_type,
            "keyword"
        );
        assert_eq!(
            stream
                .dynamic_mapping_for("message", &json!("x"))
                .unwrap()
                .field_type,
            FieldType::Text
        );
        assert_eq!(
            stream
                .dynamic_mapping_for("client_ip", &json!("10.0.0.1"))
                .unwrap()
                .field_type,
            FieldType::Ip
        );
        assert_eq!(
            stream
                .dynamic_mapping_for("duration_ms", &json!(12))
                .unwrap()
                .field_type,
            FieldType::Double,
            "the canonical schema wins over the first value seen"
        );
    }
}
