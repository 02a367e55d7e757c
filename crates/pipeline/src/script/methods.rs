//! The methods scripts may call: those of `String`, `List`, `Set`, `Map`, `Map.Entry` and the
//! numbers, Painless's `splitOnToken`, and the static helpers of `Integer`, `Long`, `Double`,
//! `Boolean`, `String` and `Math`.
//!
//! Methods are found by receiver and arity when called, as Painless does for `def` values, so
//! `x.size()` on a string is `dynamic method [java.lang.String, size/0] not found`. String
//! positions (`length`, `indexOf`, `substring`, `charAt`) count UTF-16 units, as Java's do.

use super::ast::StaticFunction;
use super::ast::Type;
use super::eval::{
    Evaluator, check_collection_size, check_string_length, class_cast, error, explicit_cast,
    list_index, map_key, null_pointer,
};
use super::lexer::Position;
use super::value::{Text, Value, contains, java_equals, new_list, read, string, write};
use crate::PipelineError;

fn not_found(receiver: &Value<'_>, method: &str, arity: usize, at: Position) -> PipelineError {
    error(
        "illegal_argument_exception",
        format!(
            "dynamic method [{}, {method}/{arity}] not found at {at}",
            receiver.type_name()
        ),
    )
}

fn text_argument<'a>(value: &'a Value<'_>, at: Position) -> Result<&'a str, PipelineError> {
    match value {
        Value::Str(text) => Ok(text.as_str()),
        Value::Null => Err(null_pointer("a string argument is null", at)),
        other => Err(class_cast(other, "java.lang.String", at)),
    }
}

fn int_argument(value: &Value<'_>, at: Position) -> Result<i64, PipelineError> {
    match value {
        Value::Int(integer) => Ok(i64::from(*integer)),
        Value::Long(integer) => Ok(*integer),
        Value::Null => Err(null_pointer("an int argument is null", at)),
        other => Err(class_cast(other, "int", at)),
    }
}

fn int_result<'v>(count: usize) -> Value<'v> {
    Value::Int(i32::try_from(count).unwrap_or(i32::MAX))
}

/// Converts between byte offsets and Java's UTF-16 positions in one string.
struct Utf16<'t> {
    text: &'t str,
}

impl<'t> Utf16<'t> {
    fn length(&self) -> usize {
        if self.text.is_ascii() {
            return self.text.len();
        }
        self.text.encode_utf16().count()
    }

    /// The byte offset of UTF-16 position `units` (rounded up to a character boundary).
    fn byte_offset(&self, units: usize) -> usize {
        if self.text.is_ascii() {
            return units.min(self.text.len());
        }
        let mut counted = 0;
        for (offset, character) in self.text.char_indices() {
            if counted >= units {
                return offset;
            }
            counted += character.len_utf16();
        }
        self.text.len()
    }

    fn position(&self, byte_offset: usize) -> usize {
        if self.text.is_ascii() {
            return byte_offset;
        }
        self.text
            .get(..byte_offset)
            .map_or(0, |before| before.encode_utf16().count())
    }

    fn substring(&self, begin: i64, end: i64, at: Position) -> Result<String, PipelineError> {
        let length = self.length();
        let in_bounds =
            begin >= 0 && end >= begin && usize::try_from(end).is_ok_and(|end| end <= length);
        if !in_bounds {
            return Err(error(
                "string_index_out_of_bounds_exception",
                format!("begin {begin}, end {end}, length {length} at {at}"),
            ));
        }
        let (begin, end) = (
            usize::try_from(begin).unwrap_or_default(),
            usize::try_from(end).unwrap_or_default(),
        );
        if self.text.is_ascii() {
            return Ok(self.text[begin..end].to_owned());
        }
        let units: Vec<u16> = self.text.encode_utf16().collect();
        Ok(String::from_utf16_lossy(&units[begin..end]))
    }
}

/// Java's `trim`: strips characters up to and including the space.
fn java_trim(text: &str) -> &str {
    text.trim_matches(|character: char| character <= ' ')
}

impl<'v> Evaluator<'_, 'v> {
    pub(super) fn call(
        &mut self,
        receiver: Value<'v>,
        method: &str,
        arguments: Vec<Value<'v>>,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let container = receiver.is_map() || receiver.is_collection();
        match (method, arguments.as_slice()) {
            ("toString", []) => return Ok(string(receiver.java_string()?)),
            ("equals", [other]) => return Ok(Value::Bool(java_equals(&receiver, other, 0)?)),
            ("size", []) if container => return Ok(int_result(receiver.size()?)),
            ("isEmpty", []) if container => return Ok(Value::Bool(receiver.size()? == 0)),
            _ => {}
        }
        match &receiver {
            Value::Str(text) => string_method(text, method, &arguments, at),
            Value::Int(_) | Value::Long(_) | Value::Double(_) => {
                let to = match (method, arguments.len()) {
                    ("intValue", 0) => Type::Int,
                    ("longValue", 0) => Type::Long,
                    ("doubleValue", 0) => Type::Double,
                    _ => return Err(not_found(&receiver, method, arguments.len(), at)),
                };
                explicit_cast(receiver, to, at)
            }
            Value::Entry(entry) => match (method, arguments.len()) {
                ("getKey", 0) => Ok(Value::Str(entry.0.clone())),
                ("getValue", 0) => Ok(entry.1.clone()),
                _ => Err(not_found(&receiver, method, arguments.len(), at)),
            },
            Value::Tokenizer(tokenizer) => {
                let mut tokenizer = tokenizer.borrow_mut();
                match (method, arguments.len()) {
                    ("nextToken", 0) => tokenizer.next_token().map(string).ok_or_else(|| {
                        error(
                            "no_such_element_exception",
                            format!("no more tokens at {at}"),
                        )
                    }),
                    ("hasMoreTokens", 0) => Ok(Value::Bool(tokenizer.remaining() > 0)),
                    ("countTokens", 0) => Ok(int_result(tokenizer.remaining())),
                    _ => Err(not_found(&receiver, method, arguments.len(), at)),
                }
            }
            map if map.is_map() => self.map_method(&receiver, method, arguments, at),
            list if list.is_collection() => self.list_method(&receiver, method, arguments, at),
            _ => Err(not_found(&receiver, method, arguments.len(), at)),
        }
    }

    fn map_method(
        &mut self,
        receiver: &Value<'v>,
        method: &str,
        arguments: Vec<Value<'v>>,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let arity = arguments.len();
        let mut arguments = arguments.into_iter();
        let mut next = || arguments.next().unwrap_or(Value::Null);
        Ok(match (method, arity) {
            ("containsKey", 1) => {
                let key = map_key(next())?;
                Value::Bool(receiver.map_get(key.as_str())?.is_some())
            }
            ("containsValue", 1) => {
                let wanted = next();
                let values: Vec<Value<'v>> = receiver
                    .map_entries()?
                    .into_iter()
                    .map(|(_, value)| value)
                    .collect();
                Value::Bool(contains(&values, &wanted)?)
            }
            ("get", 1) => {
                let key = map_key(next())?;
                receiver.map_get(key.as_str())?.unwrap_or(Value::Null)
            }
            ("getOrDefault", 2) => {
                let key = map_key(next())?;
                let fallback = next();
                receiver.map_get(key.as_str())?.unwrap_or(fallback)
            }
            ("keySet", 0) => new_list(
                receiver
                    .map_entries()?
                    .into_iter()
                    .map(|(key, _)| Value::Str(key))
                    .collect(),
                true,
            ),
            ("values", 0) => new_list(
                receiver
                    .map_entries()?
                    .into_iter()
                    .map(|(_, value)| value)
                    .collect(),
                false,
            ),
            ("entrySet", 0) => new_list(
                receiver
                    .map_entries()?
                    .into_iter()
                    .map(|entry| Value::Entry(std::rc::Rc::new(entry)))
                    .collect(),
                true,
            ),
            ("put", 2) => {
                let key = map_key(next())?;
                let value = next();
                let map = self.map_to_change(receiver, Some(key.as_str()), at)?;
                let mut map = write(&map)?;
                if map.get(key.as_str()).is_none() {
                    check_collection_size(map.entries.len() + 1, at)?;
                }
                map.put(key, value).unwrap_or(Value::Null)
            }
            ("putAll", 1) => {
                let other = next();
                if !other.is_map() {
                    return Err(class_cast(&other, "java.util.Map", at));
                }
                let entries = other.map_entries()?;
                let map = self.map_to_change(receiver, None, at)?;
                let mut map = write(&map)?;
                for (key, value) in entries {
                    map.put(key, value);
                }
                check_collection_size(map.entries.len(), at)?;
                Value::Null
            }
            ("remove", 1) => {
                let key = map_key(next())?;
                let map = self.map_to_change(receiver, Some(key.as_str()), at)?;
                let removed = write(&map)?.remove(key.as_str());
                removed.unwrap_or(Value::Null)
            }
            ("clear", 0) => {
                let map = self.map_to_change(receiver, None, at)?;
                write(&map)?.entries.clear();
                Value::Null
            }
            _ => return Err(not_found(receiver, method, arity, at)),
        })
    }

    fn list_method(
        &mut self,
        receiver: &Value<'v>,
        method: &str,
        arguments: Vec<Value<'v>>,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let arity = arguments.len();
        let set = receiver.is_set();
        let mut arguments = arguments.into_iter();
        let mut next = || arguments.next().unwrap_or(Value::Null);
        Ok(match (method, arity) {
            ("contains", 1) => Value::Bool(contains(&receiver.list_items()?, &next())?),
            ("get", 1) if !set => {
                let items = receiver.list_items()?;
                let position = list_index(&next(), items.len(), false, at)?;
                items[position].clone()
            }
            ("indexOf", 1) if !set => {
                let wanted = next();
                let mut found = -1;
                for (position, item) in receiver.list_items()?.iter().enumerate() {
                    if java_equals(item, &wanted, 0)? {
                        found = i32::try_from(position).unwrap_or(i32::MAX);
                        break;
                    }
                }
                Value::Int(found)
            }
            ("add", 1) => {
                let item = next();
                let list = self.list_to_change(receiver, at)?;
                if set && contains(&read(&list)?.items, &item)? {
                    return Ok(Value::Bool(false));
                }
                let mut list = write(&list)?;
                check_collection_size(list.items.len() + 1, at)?;
                list.items.push(item);
                Value::Bool(true)
            }
            ("add", 2) if !set => {
                let index = next();
                let item = next();
                let list = self.list_to_change(receiver, at)?;
                let mut list = write(&list)?;
                let length = list.items.len();
                // Inserting at the end is allowed, so check against one past it.
                let position = list_index(&index, length + 1, false, at)?;
                check_collection_size(length + 1, at)?;
                list.items.insert(position, item);
                Value::Null
            }
            ("addAll", 1) => {
                let other = next();
                if !other.is_collection() {
                    if matches!(other, Value::Null) {
                        return Err(null_pointer("cannot add all of a null collection", at));
                    }
                    return Err(class_cast(&other, "java.util.Collection", at));
                }
                // Read the items first: `list.addAll(list)` must not read what it writes.
                let items = other.list_items()?;
                let list = self.list_to_change(receiver, at)?;
                let mut changed = false;
                for item in items {
                    if set && contains(&read(&list)?.items, &item)? {
                        continue;
                    }
                    let mut list = write(&list)?;
                    check_collection_size(list.items.len() + 1, at)?;
                    list.items.push(item);
                    changed = true;
                }
                Value::Bool(changed)
            }
            ("remove", 1) => {
                let argument = next();
                let list = self.list_to_change(receiver, at)?;
                if set {
                    let mut list = write(&list)?;
                    let mut found = None;
                    for (position, item) in list.items.iter().enumerate() {
                        if java_equals(item, &argument, 0)? {
                            found = Some(position);
                            break;
                        }
                    }
                    return Ok(Value::Bool(
                        found.map(|position| list.items.remove(position)).is_some(),
                    ));
                }
                let mut list = write(&list)?;
                let position = list_index(&argument, list.items.len(), false, at)?;
                list.items.remove(position)
            }
            ("set", 2) if !set => {
                let index = next();
                let item = next();
                let list = self.list_to_change(receiver, at)?;
                let mut list = write(&list)?;
                let position = list_index(&index, list.items.len(), false, at)?;
                std::mem::replace(&mut list.items[position], item)
            }
            ("clear", 0) => {
                let list = self.list_to_change(receiver, at)?;
                write(&list)?.items.clear();
                Value::Null
            }
            _ => return Err(not_found(receiver, method, arity, at)),
        })
    }
}

fn string_method<'v>(
    text: &Text<'v>,
    method: &str,
    arguments: &[Value<'v>],
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    let receiver = text.as_str();
    let units = Utf16 { text: receiver };
    Ok(match (method, arguments) {
        ("length", []) => int_result(units.length()),
        ("isEmpty", []) => Value::Bool(receiver.is_empty()),
        ("toLowerCase", []) => string(receiver.to_lowercase()),
        ("toUpperCase", []) => string(receiver.to_uppercase()),
        ("trim", []) => {
            let trimmed = java_trim(receiver);
            if trimmed.len() == receiver.len() {
                Value::Str(text.clone())
            } else {
                string(trimmed)
            }
        }
        ("contains", [needle]) => Value::Bool(receiver.contains(text_argument(needle, at)?)),
        ("startsWith", [prefix]) => Value::Bool(receiver.starts_with(text_argument(prefix, at)?)),
        ("startsWith", [prefix, offset]) => {
            let offset = int_argument(offset, at)?;
            let prefix = text_argument(prefix, at)?;
            let starts = usize::try_from(offset)
                .ok()
                .filter(|offset| *offset <= units.length())
                .is_some_and(|offset| receiver[units.byte_offset(offset)..].starts_with(prefix));
            Value::Bool(starts)
        }
        ("endsWith", [suffix]) => Value::Bool(receiver.ends_with(text_argument(suffix, at)?)),
        ("equalsIgnoreCase", [other]) => Value::Bool(match other {
            Value::Str(other) => {
                let fold = |text: &str| {
                    text.chars()
                        .flat_map(char::to_lowercase)
                        .collect::<String>()
                };
                fold(receiver) == fold(other.as_str())
            }
            _ => false,
        }),
        ("substring", [begin]) => {
            let begin = int_argument(begin, at)?;
            let length = i64::try_from(units.length()).unwrap_or(i64::MAX);
            string(units.substring(begin, length, at)?)
        }
        ("substring", [begin, end]) => {
            let (begin, end) = (int_argument(begin, at)?, int_argument(end, at)?);
            string(units.substring(begin, end, at)?)
        }
        ("charAt", [index]) => {
            let index = int_argument(index, at)?;
            let length = units.length();
            let Some(position) = usize::try_from(index).ok().filter(|index| *index < length) else {
                return Err(error(
                    "string_index_out_of_bounds_exception",
                    format!("Index {index} out of bounds for length {length} at {at}"),
                ));
            };
            if receiver.is_ascii() {
                string(&receiver[position..=position])
            } else {
                let unit = receiver.encode_utf16().nth(position).unwrap_or_default();
                string(String::from_utf16_lossy(&[unit]))
            }
        }
        ("indexOf", [needle]) => index_of(&units, text_argument(needle, at)?, 0),
        ("indexOf", [needle, from]) => {
            index_of(&units, text_argument(needle, at)?, int_argument(from, at)?)
        }
        ("lastIndexOf", [needle]) => {
            let needle = text_argument(needle, at)?;
            match receiver.rfind(needle) {
                Some(offset) => int_result(units.position(offset)),
                None => Value::Int(-1),
            }
        }
        ("lastIndexOf", [needle, from]) => {
            let needle = text_argument(needle, at)?;
            let from = int_argument(from, at)?;
            let Ok(from) = usize::try_from(from) else {
                return Ok(Value::Int(-1));
            };
            let mut end = (units.byte_offset(from) + needle.len()).min(receiver.len());
            while !receiver.is_char_boundary(end) {
                end -= 1;
            }
            match receiver[..end].rfind(needle) {
                Some(offset) => int_result(units.position(offset)),
                None => Value::Int(-1),
            }
        }
        ("replace", [target, replacement]) => {
            let (target, replacement) =
                (text_argument(target, at)?, text_argument(replacement, at)?);
            let count = if target.is_empty() {
                receiver.chars().count() + 1
            } else {
                receiver.matches(target).count()
            };
            check_string_length(receiver.len() + count.saturating_mul(replacement.len()), at)?;
            string(receiver.replace(target, replacement))
        }
        ("splitOnToken", [token]) => split_on_token(receiver, text_argument(token, at)?, 0, at)?,
        ("splitOnToken", [token, limit]) => split_on_token(
            receiver,
            text_argument(token, at)?,
            int_argument(limit, at)?,
            at,
        )?,
        _ => {
            return Err(not_found(
                &Value::Str(text.clone()),
                method,
                arguments.len(),
                at,
            ));
        }
    })
}

fn index_of<'v>(units: &Utf16<'_>, needle: &str, from: i64) -> Value<'v> {
    let from = usize::try_from(from.max(0)).unwrap_or(usize::MAX);
    if from > units.length() {
        return Value::Int(if needle.is_empty() {
            int_length(units)
        } else {
            -1
        });
    }
    let start = units.byte_offset(from);
    match units.text[start..].find(needle) {
        Some(offset) => int_result(units.position(start + offset)),
        None => Value::Int(-1),
    }
}

fn int_length(units: &Utf16<'_>) -> i32 {
    i32::try_from(units.length()).unwrap_or(i32::MAX)
}

/// Painless's `splitOnToken`: splits on a literal token, keeping empty parts; a positive
/// `limit` caps the number of parts.
fn split_on_token<'v>(
    receiver: &str,
    token: &str,
    limit: i64,
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    if token.is_empty() {
        return Err(error(
            "illegal_argument_exception",
            format!("Cannot splitOnToken with an empty token at {at}"),
        ));
    }
    let parts: Vec<Value<'v>> = match usize::try_from(limit) {
        Ok(limit) if limit > 0 => receiver.splitn(limit, token).map(string).collect(),
        _ => receiver.split(token).map(string).collect(),
    };
    Ok(new_list(parts, false))
}

fn number_format(input: &Value<'_>, at: Position) -> PipelineError {
    let reason = match input {
        Value::Null => "Cannot parse null string: null".to_owned(),
        other => format!(
            "For input string: \"{}\"",
            other.java_string().unwrap_or_default()
        ),
    };
    error("number_format_exception", format!("{reason} at {at}"))
}

/// Java's `Double.parseDouble`: surrounding blanks and a trailing `d` or `f` are allowed, the
/// only words are `NaN` and `Infinity`.
fn parse_double(text: &str) -> Option<f64> {
    let trimmed = java_trim(text);
    let unsigned = trimmed.trim_start_matches(['+', '-']);
    if unsigned.starts_with(|first: char| first.is_ascii_alphabetic()) {
        return match unsigned {
            "NaN" => Some(f64::NAN),
            "Infinity" if trimmed.starts_with('-') => Some(f64::NEG_INFINITY),
            "Infinity" => Some(f64::INFINITY),
            _ => None,
        };
    }
    let number = trimmed
        .strip_suffix(['d', 'D', 'f', 'F'])
        .unwrap_or(trimmed);
    number.parse().ok()
}

fn number_argument<'v>(value: &Value<'v>, at: Position) -> Result<Value<'v>, PipelineError> {
    match value {
        Value::Null => Err(null_pointer("a numeric argument is null", at)),
        number if number.is_number() => Ok(number.clone()),
        other => Err(class_cast(other, "java.lang.Number", at)),
    }
}

pub(crate) fn call_static<'v>(
    function: StaticFunction,
    arguments: &[Value<'v>],
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    let first = arguments.first().cloned().unwrap_or(Value::Null);
    let second = arguments.get(1).cloned().unwrap_or(Value::Null);
    Ok(match function {
        StaticFunction::ParseInt => match &first {
            Value::Str(text) => Value::Int(
                text.as_str()
                    .parse()
                    .map_err(|_| number_format(&first, at))?,
            ),
            // `Integer.valueOf(5)`.
            Value::Int(_) => first,
            _ => return Err(number_format(&first, at)),
        },
        StaticFunction::ParseLong => match &first {
            Value::Str(text) => Value::Long(
                text.as_str()
                    .parse()
                    .map_err(|_| number_format(&first, at))?,
            ),
            Value::Int(_) | Value::Long(_) => explicit_cast(first, Type::Long, at)?,
            _ => return Err(number_format(&first, at)),
        },
        StaticFunction::ParseDouble => match &first {
            Value::Str(text) => {
                Value::Double(parse_double(text.as_str()).ok_or_else(|| number_format(&first, at))?)
            }
            number if number.is_number() => explicit_cast(first, Type::Double, at)?,
            Value::Null => return Err(null_pointer("cannot parse a null string", at)),
            _ => return Err(number_format(&first, at)),
        },
        StaticFunction::ParseBoolean => match &first {
            Value::Str(text) => Value::Bool(text.as_str().eq_ignore_ascii_case("true")),
            Value::Bool(_) => first,
            _ => Value::Bool(false),
        },
        StaticFunction::StringValueOf => string(first.java_string()?),
        StaticFunction::StringJoin => {
            let delimiter = text_argument(&first, at)?;
            if !second.is_collection() {
                return Err(class_cast(&second, "java.lang.Iterable", at));
            }
            let mut parts = Vec::new();
            for item in second.list_items()? {
                parts.push(item.java_string()?);
            }
            let joined = parts.join(delimiter);
            check_string_length(joined.len(), at)?;
            string(joined)
        }
        StaticFunction::MathMax | StaticFunction::MathMin => {
            let (left, right) = (number_argument(&first, at)?, number_argument(&second, at)?);
            let pick_left = |ordering: std::cmp::Ordering| {
                if function == StaticFunction::MathMax {
                    ordering.is_ge()
                } else {
                    ordering.is_le()
                }
            };
            match (&left, &right) {
                (Value::Int(a), Value::Int(b)) => {
                    Value::Int(if pick_left(a.cmp(b)) { *a } else { *b })
                }
                (Value::Double(_), _) | (_, Value::Double(_)) => {
                    let (a, b) = (
                        left.as_f64().unwrap_or_default(),
                        right.as_f64().unwrap_or_default(),
                    );
                    if a.is_nan() || b.is_nan() {
                        Value::Double(f64::NAN)
                    } else if function == StaticFunction::MathMax {
                        Value::Double(a.max(b))
                    } else {
                        Value::Double(a.min(b))
                    }
                }
                _ => {
                    let (a, b) = (
                        left.as_i64().unwrap_or_default(),
                        right.as_i64().unwrap_or_default(),
                    );
                    Value::Long(if pick_left(a.cmp(&b)) { a } else { b })
                }
            }
        }
        StaticFunction::MathAbs => match number_argument(&first, at)? {
            Value::Int(integer) => Value::Int(integer.wrapping_abs()),
            Value::Long(integer) => Value::Long(integer.wrapping_abs()),
            other => Value::Double(other.as_f64().unwrap_or_default().abs()),
        },
        StaticFunction::MathRound => match number_argument(&first, at)? {
            integer @ (Value::Int(_) | Value::Long(_)) => integer,
            // Java rounds half up: `Math.round(-2.5)` is -2.
            other => Value::Long((other.as_f64().unwrap_or_default() + 0.5).floor() as i64),
        },
        StaticFunction::MathFloor => Value::Double(
            number_argument(&first, at)?
                .as_f64()
                .unwrap_or_default()
                .floor(),
        ),
        StaticFunction::MathCeil => Value::Double(
            number_argument(&first, at)?
                .as_f64()
                .unwrap_or_default()
                .ceil(),
        ),
        StaticFunction::MathSqrt => Value::Double(
            number_argument(&first, at)?
                .as_f64()
                .unwrap_or_default()
                .sqrt(),
        ),
        StaticFunction::MathPow => {
            let base = number_argument(&first, at)?.as_f64().unwrap_or_default();
            let exponent = number_argument(&second, at)?.as_f64().unwrap_or_default();
            Value::Double(base.powf(exponent))
        }
    })
}
