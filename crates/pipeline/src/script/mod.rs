//! The subset of Painless that ingest pipelines use: processor conditions (`if`) and the
//! `script` processor.
//!
//! Elastic's integration pipelines use Painless for two things: conditions such as
//! `ctx.event?.outcome == 'failure'` and short scripts that tidy a document — normalise a
//! field into a list, rename or drop keys, copy a value when another is missing. They do not
//! use the language's breadth (regexes, lambdas, streams, arbitrary Java classes). This module
//! implements the part they use with Painless's semantics, and refuses the rest when the
//! pipeline is stored — naming the construct and its position — rather than running a script
//! whose meaning it would only guess at.
//!
//! **The subset.** Literals (strings in `'…'` or `"…"`, `int`, `long` `1L`, `double`, booleans,
//! `null`), list `[1, 2]` and map `['k': v]`/`[:]` literals; field access `.x`, null-safe
//! `?.x`, indexes `[…]`, method calls; the arithmetic, comparison, logical, ternary and elvis
//! `?:` operators; `instanceof` and casts; `def` and typed locals, assignments (also compound,
//! `++`/`--`) to locals, `ctx` paths and list items; `if`/`else`, `while`, `do`, `for`
//! (classic, `for (def x : xs)`, `for (x in xs)`), `break`, `continue`, `return`; `new` of
//! `ArrayList`, `HashMap`, `HashSet` and `StringTokenizer`; the methods of strings, lists,
//! sets, maps, entries and tokenizers that pipelines call, and `Integer.parseInt`, `Math.max`
//! and their kin. Functions declared before the statements (`boolean isPrivate(def ip) {…}`),
//! which may call each other and themselves, each call with its own locals;
//! `try {…} catch (Exception e) {…}` with the exception classes Painless throws; and one
//! lambda, the predicate of `removeIf` (`map.values().removeIf(v -> v == null)` removes
//! through the view, as in Java), which is how Filebeat's pipelines drop empty fields.
//!
//! **Semantics kept from Painless.** `ctx` is the source, with `_index`, `_id`, `_routing`,
//! `_version`, `_version_type` and `_ingest` as members; `ctx.a.b` and `ctx['a']['b']` are
//! map accesses and `ctx['a.b']` is one key, not a path. A missing key reads as `null`,
//! `.field` of `null` is a `null_pointer_exception`, `?.` yields `null` instead. `==` compares
//! strings, lists and maps by value and numbers across types (`1 == 1.0`); arithmetic promotes
//! `int` → `long` → `double`, integer division truncates and overflow wraps. Maps and lists
//! are shared by reference, so `def m = ctx.a; m.b = 1` changes the document. Loops share a
//! budget of 1,000,000 iterations per run, like Painless's loop counter.
//!
//! **Differences.** Map keys are strings (as in JSON); a non-string key is used as its
//! `toString`. A caught exception is seen as its message (a string), the only thing the
//! scripts in use read from one. Functions call each other at most 20 deep (Elasticsearch's
//! default depth limit of a document), and that limit, like the loop budget, is an error no
//! `catch` takes. `keySet()`, `values()` and `entrySet()` return copies, so iterating them while
//! changing the map is allowed (Java would throw). Maps keep their insertion order. A
//! condition sees the document read-only, and changing it there is an
//! `unsupported_operation_exception`, as in Elasticsearch.
//!
//! **Design.** [`lexer`] produces tokens with line:column positions, [`parser`] builds the
//! [`ast`] with locals resolved to slots, [`eval`] walks it over [`value`]s. A condition
//! reads the document in place, borrowing its strings; a script takes the document's maps
//! and lists over as shared containers for the run (strings still borrowed from the request)
//! and puts the result back, marking `source_modified` only when the source changed.

mod ast;
mod eval;
mod lexer;
mod methods;
mod parser;
mod value;

use std::cell::RefCell;
use std::rc::Rc;

use logfleet_model::json::{JsonObject, JsonValue};
use thiserror::Error;

use crate::document::METADATA_FIELDS;
use crate::{IngestDocument, PipelineError};

use ast::Program;
use eval::Evaluator;
use value::{Map, Origin, SharedMap, Text, Value, adopt_members, read};

/// A script that failed to compile: the reason names the construct or token and its
/// position, as Elasticsearch's `script_exception` does.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct ScriptError {
    reason: String,
    line: u32,
    column: u32,
}

impl ScriptError {
    pub(crate) fn new(message: String, at: lexer::Position) -> ScriptError {
        ScriptError {
            reason: format!("{message} at {at}"),
            line: at.line,
            column: at.column,
        }
    }

    /// What is wrong and where, e.g. `unsupported construct [new TreeMap()] at 1:9`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The 1-based line of the offending construct or token.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The 1-based column (in characters) of the offending construct or token.
    pub fn column(&self) -> u32 {
        self.column
    }
}

impl From<ScriptError> for PipelineError {
    fn from(error: ScriptError) -> Self {
        PipelineError::new("script_exception", error.reason)
    }
}

/// A compiled script, ready to run against any number of documents.
#[derive(Debug)]
pub struct Script {
    program: Program,
}

impl Script {
    /// Compiles `source`; refuses anything outside the supported subset, naming the construct
    /// and its position.
    ///
    /// ```
    /// use logfleet_pipeline::script::Script;
    ///
    /// assert!(Script::compile("ctx.event?.outcome == 'failure'").is_ok());
    /// let error = Script::compile("ctx.a = new TreeMap()").unwrap_err();
    /// assert_eq!(error.reason(), "unsupported construct [new TreeMap()] at 1:9");
    /// assert_eq!((error.line(), error.column()), (1, 9));
    /// ```
    pub fn compile(source: &str) -> Result<Script, ScriptError> {
        Ok(Script {
            program: parser::parse(source)?,
        })
    }

    /// Evaluates the script as a processor condition (`if`): `ctx` is a read-only view of the
    /// document. A result that is not a boolean is an error, as in Elasticsearch.
    pub fn test(
        &self,
        document: &IngestDocument<'_>,
        params: &JsonObject<'_>,
    ) -> Result<bool, PipelineError> {
        let mut evaluator = Evaluator::new(
            &self.program,
            Value::Context(document),
            Value::JsonMap(params),
        );
        match evaluator.run()? {
            Value::Bool(result) => Ok(result),
            other => Err(PipelineError::illegal_argument(format!(
                "condition script must return a boolean, but returned [{}]",
                other.type_name()
            ))),
        }
    }

    /// Runs the script as the `script` processor: it may read and change `ctx`. Changes go
    /// into the document — assigning `ctx._index` changes its target — and
    /// `source_modified` is set when the source changed. After a runtime error the changes
    /// made before it stay, as in Elasticsearch.
    pub fn execute<'a>(
        &self,
        document: &mut IngestDocument<'a>,
        params: &JsonObject<'_>,
    ) -> Result<(), PipelineError> {
        let params = if self.program.uses_params {
            let owned: Vec<(Text<'a>, Value<'a>)> = params
                .iter()
                .map(|(key, value)| (Text::from(key.as_ref()), Value::copy(value)))
                .collect();
            value::new_map(owned, Origin::Script)
        } else {
            Value::Null
        };
        let context = take_context(document);
        let mut evaluator = Evaluator::new(&self.program, Value::Map(context.clone()), params);
        let outcome = evaluator.run();
        let source_modified = evaluator.source_modified;
        drop(evaluator);
        let restored = restore_context(document, &context, source_modified);
        // A script may leave cycles (`m.self = m`); clearing the root lets them be freed.
        if let Ok(mut context) = context.try_borrow_mut() {
            context.entries.clear();
        }
        outcome?;
        restored
    }
}

/// Moves the document into a `ctx` map: `_index`, the metadata, `_ingest` (when present) and
/// the source members.
fn take_context<'a>(document: &mut IngestDocument<'a>) -> SharedMap<'a> {
    let mut entries = vec![(
        Text::Borrowed("_index"),
        Value::Str(Text::from(document.target.as_str())),
    )];
    entries.extend(adopt_members(
        std::mem::take(&mut document.metadata),
        Origin::Metadata,
    ));
    let ingest = std::mem::take(&mut document.ingest);
    if !ingest.is_empty() {
        entries.push((
            Text::Borrowed("_ingest"),
            Value::adopt(JsonValue::Object(ingest), Origin::Metadata),
        ));
    }
    entries.extend(adopt_members(
        std::mem::take(&mut document.source),
        Origin::Source,
    ));
    Rc::new(RefCell::new(Map {
        entries,
        origin: Origin::Context,
    }))
}

/// Puts `ctx` back into the document. A member that cannot become JSON (a non-finite
/// number, a map that contains itself) is stored as null and reported, so that the document
/// is never lost.
fn restore_context<'a>(
    document: &mut IngestDocument<'a>,
    context: &SharedMap<'a>,
    source_modified: bool,
) -> Result<(), PipelineError> {
    let context = read(context)?;
    let mut first_error = None;
    let mut source = JsonObject::default();
    for (key_text, member) in &context.entries {
        let json = member.to_json(1).unwrap_or_else(|error| {
            first_error.get_or_insert(error);
            JsonValue::Null
        });
        let key = key_text.as_str();
        if key == "_index" {
            match json {
                JsonValue::String(target) => document.target = target.into_owned(),
                JsonValue::Null => {}
                other => document.target = other.to_string(),
            }
        } else if METADATA_FIELDS.contains(&key) {
            if json != JsonValue::Null {
                document.metadata.insert(key.to_owned(), json);
            }
        } else if key == "_ingest" {
            match json {
                JsonValue::Object(ingest) => document.ingest = ingest,
                _ => {
                    first_error.get_or_insert(PipelineError::illegal_argument(
                        "[_ingest] must be a map".to_owned(),
                    ));
                }
            }
        } else {
            source.insert(key_text.clone().into_cow(), json);
        }
    }
    document.source = source;
    if source_modified {
        document.source_modified = true;
    }
    first_error.map_or(Ok(()), Err)
}
