//! The compiled form of a script: statements and expressions with names resolved.
//!
//! Local variables are slots numbered at compile time (Painless resolves them statically too),
//! so evaluation indexes a vector instead of searching scopes; method and class names are
//! checked at compile time, so an unsupported one is refused before any document is seen.

use std::sync::Arc;

use super::lexer::Position;

/// A whole script: its functions, its statements and the declared type of each local slot.
#[derive(Debug)]
pub(crate) struct Program {
    pub functions: Vec<Function>,
    pub statements: Vec<Statement>,
    pub slot_types: Vec<Type>,
    /// Whether the script reads `params`, which a `script` processor then copies for the run.
    pub uses_params: bool,
}

/// A function the script declares before its statements (`boolean isPrivate(def ip) {…}`).
/// Its locals are slots of its own frame, its parameters the first of them.
#[derive(Debug)]
pub(crate) struct Function {
    pub name: Arc<str>,
    pub parameters: Vec<Type>,
    /// `None` for `void`.
    pub returns: Option<Type>,
    pub slot_types: Vec<Type>,
    pub body: Vec<Statement>,
}

/// One `catch (Class name) {…}` of a `try`.
#[derive(Debug)]
pub(crate) struct Catch {
    pub class: ExceptionClass,
    /// The local that holds what was caught: its message, as a string.
    pub slot: usize,
    pub body: Statement,
}

/// The exception classes a `catch` may name, with the errors each one catches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExceptionClass {
    /// `Exception` and `RuntimeException`: every error a script can recover from.
    Any,
    NullPointer,
    IllegalArgument,
    NumberFormat,
    ClassCast,
    Arithmetic,
    IndexOutOfBounds,
    UnsupportedOperation,
    NoSuchElement,
}

impl ExceptionClass {
    pub fn from_name(name: &str) -> Option<ExceptionClass> {
        Some(match name {
            "Exception" | "RuntimeException" => ExceptionClass::Any,
            "NullPointerException" => ExceptionClass::NullPointer,
            "IllegalArgumentException" => ExceptionClass::IllegalArgument,
            "NumberFormatException" => ExceptionClass::NumberFormat,
            "ClassCastException" => ExceptionClass::ClassCast,
            "ArithmeticException" => ExceptionClass::Arithmetic,
            "IndexOutOfBoundsException" => ExceptionClass::IndexOutOfBounds,
            "UnsupportedOperationException" => ExceptionClass::UnsupportedOperation,
            "NoSuchElementException" => ExceptionClass::NoSuchElement,
            _ => return None,
        })
    }

    /// Whether an error of Elasticsearch type `kind` is an instance of this class. The limits
    /// of a run (`script_exception`: the loop budget, string and collection sizes, the call
    /// depth) are errors in Painless, not exceptions, and no `catch` takes them.
    pub fn catches(self, kind: &str) -> bool {
        match self {
            ExceptionClass::Any => kind != "script_exception",
            ExceptionClass::NullPointer => kind == "null_pointer_exception",
            // NumberFormatException is an IllegalArgumentException.
            ExceptionClass::IllegalArgument => {
                kind == "illegal_argument_exception" || kind == "number_format_exception"
            }
            ExceptionClass::NumberFormat => kind == "number_format_exception",
            ExceptionClass::ClassCast => kind == "class_cast_exception",
            ExceptionClass::Arithmetic => kind == "arithmetic_exception",
            ExceptionClass::IndexOutOfBounds => {
                kind == "index_out_of_bounds_exception"
                    || kind == "string_index_out_of_bounds_exception"
            }
            ExceptionClass::UnsupportedOperation => kind == "unsupported_operation_exception",
            ExceptionClass::NoSuchElement => kind == "no_such_element_exception",
        }
    }
}

/// Which view of a map `removeIf` filters: `keySet()`, `values()` or `entrySet()`. Removing
/// through a view removes the entries from the map, as in Java.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapView {
    Keys,
    Values,
    Entries,
}

#[derive(Debug)]
pub(crate) enum Statement {
    Expression(Expression),
    Declare {
        slot: usize,
        value: Option<Expression>,
        at: Position,
    },
    Block(Vec<Statement>),
    /// `if … else if … else …`, flat so that a long chain does not nest.
    If {
        branches: Vec<(Expression, Statement)>,
        otherwise: Option<Box<Statement>>,
    },
    While {
        condition: Expression,
        body: Box<Statement>,
    },
    DoWhile {
        body: Box<Statement>,
        condition: Expression,
    },
    For {
        initialize: Vec<Statement>,
        condition: Option<Expression>,
        update: Vec<Expression>,
        body: Box<Statement>,
    },
    ForEach {
        slot: usize,
        iterable: Expression,
        body: Box<Statement>,
        at: Position,
    },
    Break,
    Continue,
    Return(Option<Expression>),
    /// `try {…} catch (Exception e) {…}…`
    Try {
        body: Box<Statement>,
        catches: Vec<Catch>,
    },
    Empty,
}

#[derive(Debug)]
pub(crate) struct Expression {
    pub kind: ExpressionKind,
    pub at: Position,
    /// The height of the tree under this node; the parser bounds it so that evaluating (and
    /// dropping) a tree never recurses deeper than the stack allows.
    pub depth: u32,
}

impl ExpressionKind {
    /// The greatest depth among the sub-expressions.
    pub fn child_depth(&self) -> u32 {
        fn deepest<'e>(children: impl IntoIterator<Item = &'e Expression>) -> u32 {
            children
                .into_iter()
                .map(|child| child.depth)
                .max()
                .unwrap_or(0)
        }
        match self {
            ExpressionKind::Null
            | ExpressionKind::Bool(_)
            | ExpressionKind::Int(_)
            | ExpressionKind::Long(_)
            | ExpressionKind::Double(_)
            | ExpressionKind::String(_)
            | ExpressionKind::Local(_)
            | ExpressionKind::Context
            | ExpressionKind::Params => 0,
            ExpressionKind::List(items) => deepest(items),
            ExpressionKind::Map(entries) => entries
                .iter()
                .map(|(key, value)| key.depth.max(value.depth))
                .max()
                .unwrap_or(0),
            ExpressionKind::Field { target, .. } => target.depth,
            ExpressionKind::Index { target, index } => target.depth.max(index.depth),
            ExpressionKind::Call {
                target, arguments, ..
            } => target.depth.max(deepest(arguments)),
            ExpressionKind::Static { arguments, .. }
            | ExpressionKind::New { arguments, .. }
            | ExpressionKind::CallFunction { arguments, .. } => deepest(arguments),
            ExpressionKind::RemoveIf {
                target, predicate, ..
            } => target.depth.max(predicate.depth),
            ExpressionKind::Not(operand) | ExpressionKind::Negate(operand) => operand.depth,
            ExpressionKind::Binary { left, right, .. }
            | ExpressionKind::And(left, right)
            | ExpressionKind::Or(left, right)
            | ExpressionKind::Elvis {
                value: left,
                fallback: right,
            }
            | ExpressionKind::Assign {
                target: left,
                value: right,
                ..
            } => left.depth.max(right.depth),
            ExpressionKind::Conditional {
                condition,
                then,
                otherwise,
            } => condition.depth.max(then.depth).max(otherwise.depth),
            ExpressionKind::InstanceOf { value, .. } | ExpressionKind::Cast { value, .. } => {
                value.depth
            }
            ExpressionKind::Increment { target, .. } => target.depth,
        }
    }
}

#[derive(Debug)]
pub(crate) enum ExpressionKind {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    String(Arc<str>),
    List(Vec<Expression>),
    Map(Vec<(Expression, Expression)>),
    Local(usize),
    Context,
    Params,
    Field {
        target: Box<Expression>,
        name: Arc<str>,
        null_safe: bool,
    },
    Index {
        target: Box<Expression>,
        index: Box<Expression>,
    },
    Call {
        target: Box<Expression>,
        method: &'static str,
        arguments: Vec<Expression>,
        null_safe: bool,
    },
    Static {
        function: StaticFunction,
        arguments: Vec<Expression>,
    },
    New {
        class: NewClass,
        arguments: Vec<Expression>,
    },
    /// A call of the script's own function number `function`.
    CallFunction {
        function: usize,
        arguments: Vec<Expression>,
    },
    /// `target.removeIf(x -> predicate)`, or through a view of a map
    /// (`map.values().removeIf(v -> v == null)`): `parameter` is the lambda's slot.
    RemoveIf {
        target: Box<Expression>,
        view: Option<MapView>,
        parameter: usize,
        predicate: Box<Expression>,
        null_safe: bool,
    },
    Not(Box<Expression>),
    Negate(Box<Expression>),
    Binary {
        operator: Operator,
        left: Box<Expression>,
        right: Box<Expression>,
    },
    And(Box<Expression>, Box<Expression>),
    Or(Box<Expression>, Box<Expression>),
    Conditional {
        condition: Box<Expression>,
        then: Box<Expression>,
        otherwise: Box<Expression>,
    },
    Elvis {
        value: Box<Expression>,
        fallback: Box<Expression>,
    },
    InstanceOf {
        value: Box<Expression>,
        class: Type,
    },
    Cast {
        value: Box<Expression>,
        to: Type,
    },
    /// `target = value`, or `target op= value` when `operator` is set.
    Assign {
        target: Box<Expression>,
        operator: Option<Operator>,
        value: Box<Expression>,
    },
    /// `++x`, `x--`…: `delta` is 1 or -1; `prefix` says which value the expression has.
    Increment {
        target: Box<Expression>,
        delta: i32,
        prefix: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Remainder,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Operator {
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Add => "+",
            Operator::Subtract => "-",
            Operator::Multiply => "*",
            Operator::Divide => "/",
            Operator::Remainder => "%",
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
        }
    }
}

/// The types a declaration, cast or `instanceof` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Def,
    Object,
    String,
    Int,
    Long,
    Double,
    Boolean,
    BoxedInteger,
    BoxedLong,
    BoxedDouble,
    BoxedBoolean,
    Number,
    Map,
    HashMap,
    List,
    ArrayList,
    Set,
    HashSet,
    Collection,
    MapEntry,
    /// `String[]`, `def[]`…: arrays are lists here (`splitOnToken` returns one).
    Array,
    StringTokenizer,
}

impl Type {
    /// The type a name in the source stands for; `Map.Entry` is looked up as `Map.Entry`.
    pub fn from_name(name: &str) -> Option<Type> {
        Some(match name {
            "def" => Type::Def,
            "Object" => Type::Object,
            "String" => Type::String,
            "int" => Type::Int,
            "long" => Type::Long,
            "double" | "float" => Type::Double,
            "boolean" => Type::Boolean,
            "Integer" => Type::BoxedInteger,
            "Long" => Type::BoxedLong,
            "Double" | "Float" => Type::BoxedDouble,
            "Boolean" => Type::BoxedBoolean,
            "Number" => Type::Number,
            "Map" => Type::Map,
            "HashMap" => Type::HashMap,
            "List" => Type::List,
            "ArrayList" => Type::ArrayList,
            "Set" => Type::Set,
            "HashSet" => Type::HashSet,
            "Collection" => Type::Collection,
            "Map.Entry" => Type::MapEntry,
            "StringTokenizer" => Type::StringTokenizer,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::Def => "def",
            Type::Object => "java.lang.Object",
            Type::String => "java.lang.String",
            Type::Int => "int",
            Type::Long => "long",
            Type::Double => "double",
            Type::Boolean => "boolean",
            Type::BoxedInteger => "java.lang.Integer",
            Type::BoxedLong => "java.lang.Long",
            Type::BoxedDouble => "java.lang.Double",
            Type::BoxedBoolean => "java.lang.Boolean",
            Type::Number => "java.lang.Number",
            Type::Map => "java.util.Map",
            Type::HashMap => "java.util.HashMap",
            Type::List => "java.util.List",
            Type::ArrayList => "java.util.ArrayList",
            Type::Set => "java.util.Set",
            Type::HashSet => "java.util.HashSet",
            Type::Collection => "java.util.Collection",
            Type::MapEntry => "java.util.Map$Entry",
            Type::Array => "array",
            Type::StringTokenizer => "java.util.StringTokenizer",
        }
    }
}

/// The classes `new` may build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewClass {
    ArrayList,
    HashMap,
    HashSet,
    StringTokenizer,
}

/// The static methods of the whitelisted classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaticFunction {
    ParseInt,
    ParseLong,
    ParseDouble,
    ParseBoolean,
    StringValueOf,
    StringJoin,
    MathMax,
    MathMin,
    MathAbs,
    MathRound,
    MathFloor,
    MathCeil,
    MathSqrt,
    MathPow,
}

impl StaticFunction {
    /// The function `Class.method` names, and how many arguments it takes.
    pub fn lookup(class: &str, method: &str) -> Option<(StaticFunction, usize)> {
        Some(match (class, method) {
            ("Integer", "parseInt" | "valueOf") => (StaticFunction::ParseInt, 1),
            ("Long", "parseLong" | "valueOf") => (StaticFunction::ParseLong, 1),
            ("Double", "parseDouble" | "valueOf") => (StaticFunction::ParseDouble, 1),
            ("Boolean", "parseBoolean" | "valueOf") => (StaticFunction::ParseBoolean, 1),
            ("String", "valueOf") => (StaticFunction::StringValueOf, 1),
            ("String", "join") => (StaticFunction::StringJoin, 2),
            ("Math", "max") => (StaticFunction::MathMax, 2),
            ("Math", "min") => (StaticFunction::MathMin, 2),
            ("Math", "abs") => (StaticFunction::MathAbs, 1),
            ("Math", "round") => (StaticFunction::MathRound, 1),
            ("Math", "floor") => (StaticFunction::MathFloor, 1),
            ("Math", "ceil") => (StaticFunction::MathCeil, 1),
            ("Math", "sqrt") => (StaticFunction::MathSqrt, 1),
            ("Math", "pow") => (StaticFunction::MathPow, 2),
            _ => return None,
        })
    }
}

/// The classes whose static methods scripts may call.
pub(crate) const STATIC_CLASSES: [&str; 6] =
    ["Integer", "Long", "Double", "Boolean", "String", "Math"];

/// Every instance method the subset knows; which receiver has which is decided when called,
/// as Painless does for `def` values.
pub(crate) const METHODS: [&str; 40] = [
    "contains",
    "startsWith",
    "endsWith",
    "isEmpty",
    "length",
    "toLowerCase",
    "toUpperCase",
    "trim",
    "substring",
    "indexOf",
    "lastIndexOf",
    "replace",
    "splitOnToken",
    "equals",
    "equalsIgnoreCase",
    "charAt",
    "size",
    "get",
    "add",
    "remove",
    "addAll",
    "containsKey",
    "containsValue",
    "getOrDefault",
    "put",
    "putAll",
    "keySet",
    "values",
    "entrySet",
    "getKey",
    "getValue",
    "toString",
    "clear",
    "set",
    "intValue",
    "longValue",
    "doubleValue",
    "nextToken",
    "hasMoreTokens",
    "countTokens",
];
