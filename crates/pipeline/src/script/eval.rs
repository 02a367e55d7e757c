//! Evaluation of a compiled [`Program`] against one document.
//!
//! The evaluator walks the tree; its recursion is bounded by the parser's limits on nesting.
//! Loops share one budget of iterations per run, as Painless's loop counter does. Runtime
//! errors carry the kind of the Java exception Painless would throw, and the position of the
//! expression that failed.

use std::rc::Rc;

use crate::PipelineError;
use crate::document::METADATA_FIELDS;

use super::ast::{
    Catch, Expression, ExpressionKind, MapView, NewClass, Operator, Program, Statement,
    StaticFunction, Type,
};
use super::lexer::Position;
use super::value::{
    Map, Origin, SharedList, SharedMap, Text, Tokenizer, Value, contains, java_equals, new_list,
    new_map, read, string, write,
};

/// How many loop iterations one run may take, as Painless's `max_loop_counter` default.
pub(crate) const MAX_LOOP_ITERATIONS: u32 = 1_000_000;
/// The longest string a script may build, in bytes.
pub(crate) const MAX_STRING_LENGTH: usize = 64 * 1024 * 1024;
/// The most items a script may put in one collection.
pub(crate) const MAX_COLLECTION_SIZE: usize = 1_000_000;
/// How deeply a script's functions may call each other: Elasticsearch's default limit on the
/// depth of a document's objects (`index.mapping.depth.limit`), so that a function that walks
/// a document recursively reaches every level a document may have.
pub(crate) const MAX_CALL_DEPTH: u32 = 20;

pub(crate) fn error(kind: &'static str, reason: String) -> PipelineError {
    PipelineError::new(kind, reason)
}

pub(crate) fn null_pointer(what: &str, at: Position) -> PipelineError {
    error("null_pointer_exception", format!("{what} at {at}"))
}

pub(crate) fn class_cast(from: &Value<'_>, to: &str, at: Position) -> PipelineError {
    error(
        "class_cast_exception",
        format!("Cannot cast {} to {to} at {at}", from.type_name()),
    )
}

fn read_only(at: Position) -> PipelineError {
    error(
        "unsupported_operation_exception",
        format!("the document cannot be changed in a condition at {at}"),
    )
}

pub(crate) fn check_string_length(length: usize, at: Position) -> Result<(), PipelineError> {
    if length > MAX_STRING_LENGTH {
        return Err(error(
            "script_exception",
            format!("a string would be longer than [{MAX_STRING_LENGTH}] bytes at {at}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_collection_size(size: usize, at: Position) -> Result<(), PipelineError> {
    if size > MAX_COLLECTION_SIZE {
        return Err(error(
            "script_exception",
            format!("a collection would hold more than [{MAX_COLLECTION_SIZE}] items at {at}"),
        ));
    }
    Ok(())
}

/// What a statement tells the statements around it.
enum Flow<'v> {
    Next,
    Break,
    Continue,
    Return(Value<'v>),
}

/// Where an assignment or increment writes.
enum Place<'v> {
    Local(usize),
    Member {
        container: Value<'v>,
        key: Value<'v>,
    },
}

pub(crate) struct Evaluator<'p, 'v> {
    program: &'p Program,
    /// The locals of the running frame: the script's, or a function's while it runs.
    locals: Vec<Value<'v>>,
    /// The declared types of the running frame's slots.
    slot_types: &'p [Type],
    /// How many function calls are under way.
    calls: u32,
    context: Value<'v>,
    params: Value<'v>,
    iterations: u32,
    /// Whether a map or list of the document's source was changed.
    pub source_modified: bool,
}

impl<'p, 'v> Evaluator<'p, 'v> {
    pub fn new(program: &'p Program, context: Value<'v>, params: Value<'v>) -> Self {
        Evaluator {
            program,
            locals: vec![Value::Null; program.slot_types.len()],
            slot_types: &program.slot_types,
            calls: 0,
            context,
            params,
            iterations: 0,
            source_modified: false,
        }
    }

    /// Runs the script; its value is what it returned (or its final expression).
    pub fn run(&mut self) -> Result<Value<'v>, PipelineError> {
        for statement in &self.program.statements {
            if let Flow::Return(value) = self.statement(statement)? {
                return Ok(value);
            }
        }
        Ok(Value::Null)
    }

    // Statements.

    fn count_iteration(&mut self) -> Result<(), PipelineError> {
        self.iterations += 1;
        if self.iterations > MAX_LOOP_ITERATIONS {
            return Err(error(
                "script_exception",
                "The maximum number of statements that can be executed in a loop has been reached."
                    .to_owned(),
            ));
        }
        Ok(())
    }

    // Each kind of statement and expression is evaluated by a function of its own, so that
    // the recursive dispatchers keep small stack frames (debug builds give every local of a
    // function its own slot).
    fn statement(&mut self, statement: &Statement) -> Result<Flow<'v>, PipelineError> {
        match statement {
            Statement::Expression(expression) => {
                self.expression(expression)?;
                Ok(Flow::Next)
            }
            Statement::Declare { slot, value, at } => self.declare(*slot, value.as_ref(), *at),
            Statement::Block(statements) => self.block(statements),
            Statement::If {
                branches,
                otherwise,
            } => self.if_statement(branches, otherwise.as_deref()),
            Statement::While { condition, body } => self.while_loop(condition, body),
            Statement::DoWhile { body, condition } => self.do_while_loop(body, condition),
            Statement::For {
                initialize,
                condition,
                update,
                body,
            } => self.for_loop(initialize, condition.as_ref(), update, body),
            Statement::ForEach {
                slot,
                iterable,
                body,
                at,
            } => self.for_each_loop(*slot, iterable, body, *at),
            Statement::Break => Ok(Flow::Break),
            Statement::Continue => Ok(Flow::Continue),
            Statement::Return(value) => self.return_statement(value.as_ref()),
            Statement::Try { body, catches } => self.try_statement(body, catches),
            Statement::Empty => Ok(Flow::Next),
        }
    }

    /// Runs `body`; an error one of the `catch` clauses takes runs that clause instead, with
    /// the error's message in its variable. What `body` changed before the error stays.
    fn try_statement(
        &mut self,
        body: &Statement,
        catches: &[Catch],
    ) -> Result<Flow<'v>, PipelineError> {
        let failure = match self.statement(body) {
            Ok(flow) => return Ok(flow),
            Err(failure) => failure,
        };
        let Some(handler) = catches
            .iter()
            .find(|handler| handler.class.catches(failure.kind))
        else {
            return Err(failure);
        };
        self.locals[handler.slot] = string(failure.reason);
        self.statement(&handler.body)
    }

    fn declare(
        &mut self,
        slot: usize,
        value: Option<&Expression>,
        at: Position,
    ) -> Result<Flow<'v>, PipelineError> {
        let declared_type = self.slot_type(slot);
        let initial = match value {
            Some(value) => self.expression(value)?,
            None => default_value(declared_type),
        };
        self.locals[slot] = implicit_cast(initial, declared_type, at)?;
        Ok(Flow::Next)
    }

    fn block(&mut self, statements: &[Statement]) -> Result<Flow<'v>, PipelineError> {
        for statement in statements {
            let flow = self.statement(statement)?;
            if !matches!(flow, Flow::Next) {
                return Ok(flow);
            }
        }
        Ok(Flow::Next)
    }

    fn if_statement(
        &mut self,
        branches: &[(Expression, Statement)],
        otherwise: Option<&Statement>,
    ) -> Result<Flow<'v>, PipelineError> {
        for (condition, then) in branches {
            if self.condition(condition)? {
                return self.statement(then);
            }
        }
        match otherwise {
            Some(otherwise) => self.statement(otherwise),
            None => Ok(Flow::Next),
        }
    }

    /// Runs a loop body once; `Some` when the loop must stop with that flow.
    fn loop_body(&mut self, body: &Statement) -> Result<Option<Flow<'v>>, PipelineError> {
        self.count_iteration()?;
        Ok(match self.statement(body)? {
            Flow::Break => Some(Flow::Next),
            Flow::Return(value) => Some(Flow::Return(value)),
            Flow::Next | Flow::Continue => None,
        })
    }

    fn while_loop(
        &mut self,
        condition: &Expression,
        body: &Statement,
    ) -> Result<Flow<'v>, PipelineError> {
        while self.condition(condition)? {
            if let Some(flow) = self.loop_body(body)? {
                return Ok(flow);
            }
        }
        Ok(Flow::Next)
    }

    fn do_while_loop(
        &mut self,
        body: &Statement,
        condition: &Expression,
    ) -> Result<Flow<'v>, PipelineError> {
        loop {
            if let Some(flow) = self.loop_body(body)? {
                return Ok(flow);
            }
            if !self.condition(condition)? {
                return Ok(Flow::Next);
            }
        }
    }

    fn for_loop(
        &mut self,
        initialize: &[Statement],
        condition: Option<&Expression>,
        update: &[Expression],
        body: &Statement,
    ) -> Result<Flow<'v>, PipelineError> {
        for statement in initialize {
            self.statement(statement)?;
        }
        loop {
            if let Some(condition) = condition
                && !self.condition(condition)?
            {
                return Ok(Flow::Next);
            }
            if let Some(flow) = self.loop_body(body)? {
                return Ok(flow);
            }
            for expression in update {
                self.expression(expression)?;
            }
        }
    }

    fn for_each_loop(
        &mut self,
        slot: usize,
        iterable: &Expression,
        body: &Statement,
        at: Position,
    ) -> Result<Flow<'v>, PipelineError> {
        let collection = self.expression(iterable)?;
        // Iterating a copy lets the body change the collection, where Java would throw a
        // ConcurrentModificationException.
        let items = if collection.is_collection() {
            collection.list_items()?
        } else if collection.is_map() {
            collection
                .map_entries()?
                .into_iter()
                .map(|(key, _)| Value::Str(key))
                .collect()
        } else if matches!(collection, Value::Null) {
            return Err(null_pointer(
                "cannot iterate over a null value",
                iterable.at,
            ));
        } else {
            return Err(error(
                "illegal_argument_exception",
                format!(
                    "cannot iterate over a value of type [{}] at {}",
                    collection.type_name(),
                    iterable.at
                ),
            ));
        };
        let declared_type = self.slot_type(slot);
        for item in items {
            self.locals[slot] = implicit_cast(item, declared_type, at)?;
            if let Some(flow) = self.loop_body(body)? {
                return Ok(flow);
            }
        }
        Ok(Flow::Next)
    }

    fn return_statement(&mut self, value: Option<&Expression>) -> Result<Flow<'v>, PipelineError> {
        let value = match value {
            Some(value) => self.expression(value)?,
            None => Value::Null,
        };
        Ok(Flow::Return(value))
    }

    fn slot_type(&self, slot: usize) -> Type {
        self.slot_types.get(slot).copied().unwrap_or(Type::Def)
    }

    /// A value that must be a boolean: an `if`, a loop condition, an operand of `&&`.
    fn condition(&mut self, expression: &Expression) -> Result<bool, PipelineError> {
        match self.expression(expression)? {
            Value::Bool(flag) => Ok(flag),
            Value::Null => Err(null_pointer("cannot use null as a boolean", expression.at)),
            other => Err(class_cast(&other, "java.lang.Boolean", expression.at)),
        }
    }

    // Expressions.

    pub(super) fn expression(
        &mut self,
        expression: &Expression,
    ) -> Result<Value<'v>, PipelineError> {
        let at = expression.at;
        match &expression.kind {
            ExpressionKind::Null => Ok(Value::Null),
            ExpressionKind::Bool(flag) => Ok(Value::Bool(*flag)),
            ExpressionKind::Int(integer) => Ok(Value::Int(*integer)),
            ExpressionKind::Long(integer) => Ok(Value::Long(*integer)),
            ExpressionKind::Double(double) => Ok(Value::Double(*double)),
            ExpressionKind::String(text) => Ok(Value::Str(Text::Shared(text.clone()))),
            ExpressionKind::List(items) => self.list_literal(items),
            ExpressionKind::Map(entries) => self.map_literal(entries),
            ExpressionKind::Local(slot) => {
                Ok(self.locals.get(*slot).cloned().unwrap_or(Value::Null))
            }
            ExpressionKind::Context => Ok(self.context.clone()),
            ExpressionKind::Params => Ok(self.params.clone()),
            ExpressionKind::Field {
                target,
                name,
                null_safe,
            } => self.field_access(target, name, *null_safe, at),
            ExpressionKind::Index { target, index } => self.index_access(target, index, at),
            ExpressionKind::Call {
                target,
                method,
                arguments,
                null_safe,
            } => self.method_call(target, method, arguments, *null_safe, at),
            ExpressionKind::Static {
                function,
                arguments,
            } => self.static_call(*function, arguments, at),
            ExpressionKind::New { class, arguments } => self.new_instance(*class, arguments, at),
            ExpressionKind::CallFunction {
                function,
                arguments,
            } => self.call_function(*function, arguments, at),
            ExpressionKind::RemoveIf {
                target,
                view,
                parameter,
                predicate,
                null_safe,
            } => self.remove_if(target, *view, *parameter, predicate, *null_safe, at),
            ExpressionKind::Not(operand) => self.not(operand),
            ExpressionKind::Negate(operand) => self.negate(operand, at),
            ExpressionKind::Binary {
                operator,
                left,
                right,
            } => self.binary_operation(*operator, left, right, at),
            ExpressionKind::And(left, right) => self.and(left, right),
            ExpressionKind::Or(left, right) => self.or(left, right),
            ExpressionKind::Conditional {
                condition,
                then,
                otherwise,
            } => self.conditional(condition, then, otherwise),
            ExpressionKind::Elvis { value, fallback } => self.elvis(value, fallback),
            ExpressionKind::InstanceOf { value, class } => self.instance_of(value, *class),
            ExpressionKind::Cast { value, to } => self.cast(value, *to, at),
            ExpressionKind::Assign {
                target,
                operator,
                value,
            } => self.assign(target, *operator, value),
            ExpressionKind::Increment {
                target,
                delta,
                prefix,
            } => self.increment(target, *delta, *prefix, at),
        }
    }

    fn list_literal(&mut self, items: &[Expression]) -> Result<Value<'v>, PipelineError> {
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            values.push(self.expression(item)?);
        }
        Ok(new_list(values, false))
    }

    fn map_literal(
        &mut self,
        entries: &[(Expression, Expression)],
    ) -> Result<Value<'v>, PipelineError> {
        let mut map = Map::new(Origin::Script);
        for (key, value) in entries {
            let key = map_key(self.expression(key)?)?;
            let value = self.expression(value)?;
            map.put(key, value);
        }
        Ok(Value::Map(Rc::new(std::cell::RefCell::new(map))))
    }

    fn field_access(
        &mut self,
        target: &Expression,
        name: &str,
        null_safe: bool,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let action = || format!("cannot access field [{name}] of a null value");
        match self.receiver(target, null_safe, action, at)? {
            Some(object) => field(&object, name, at),
            None => Ok(Value::Null),
        }
    }

    /// Evaluates what `.name` or `.name()` applies to: `None` when it is null and the access
    /// is null-safe (`?.`), a null pointer when it is null and not.
    fn receiver(
        &mut self,
        target: &Expression,
        null_safe: bool,
        action: impl FnOnce() -> String,
        at: Position,
    ) -> Result<Option<Value<'v>>, PipelineError> {
        match self.expression(target)? {
            Value::Null if null_safe => Ok(None),
            Value::Null => Err(null_pointer(&action(), at)),
            present => Ok(Some(present)),
        }
    }

    fn index_access(
        &mut self,
        target: &Expression,
        index: &Expression,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let object = self.expression(target)?;
        let index = self.expression(index)?;
        self.load(&object, &index, at)
    }

    fn method_call(
        &mut self,
        target: &Expression,
        method: &str,
        arguments: &[Expression],
        null_safe: bool,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let action = || format!("cannot call [{method}] on a null value");
        let Some(receiver) = self.receiver(target, null_safe, action, at)? else {
            return Ok(Value::Null);
        };
        let arguments = self.arguments(arguments)?;
        self.call(receiver, method, arguments, at)
    }

    fn static_call(
        &mut self,
        function: StaticFunction,
        arguments: &[Expression],
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let arguments = self.arguments(arguments)?;
        super::methods::call_static(function, &arguments, at)
    }

    fn new_instance(
        &mut self,
        class: NewClass,
        arguments: &[Expression],
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let mut arguments = self.arguments(arguments)?.into_iter();
        let first = arguments.next();
        if class == NewClass::StringTokenizer {
            return tokenizer(first.unwrap_or(Value::Null), arguments.next(), at);
        }
        construct(class, first, at)
    }

    /// Calls the script's function number `index` in a frame of its own.
    fn call_function(
        &mut self,
        index: usize,
        arguments: &[Expression],
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let program = self.program;
        let function = &program.functions[index];
        if self.calls >= MAX_CALL_DEPTH {
            return Err(error(
                "script_exception",
                format!(
                    "function [{}] called more than [{MAX_CALL_DEPTH}] calls deep at {at}",
                    function.name
                ),
            ));
        }
        let values = self.arguments(arguments)?;
        let mut frame = vec![Value::Null; function.slot_types.len()];
        for (slot, (value, parameter_type)) in
            values.into_iter().zip(&function.parameters).enumerate()
        {
            frame[slot] = implicit_cast(value, *parameter_type, at)?;
        }
        let caller_locals = std::mem::replace(&mut self.locals, frame);
        let caller_types = std::mem::replace(&mut self.slot_types, &function.slot_types);
        self.calls += 1;
        let outcome = self.block(&function.body);
        self.calls -= 1;
        self.locals = caller_locals;
        self.slot_types = caller_types;
        let returned = match outcome? {
            Flow::Return(value) => value,
            _ => Value::Null,
        };
        match function.returns {
            None => Ok(Value::Null),
            Some(declared) => implicit_cast(returned, declared, at),
        }
    }

    /// `removeIf`: evaluates the predicate on every item (or key, value or entry of a map)
    /// first, then removes those it holds for, so that the predicate never sees a half-changed
    /// collection.
    fn remove_if(
        &mut self,
        target: &Expression,
        view: Option<MapView>,
        parameter: usize,
        predicate: &Expression,
        null_safe: bool,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let action = || "cannot call [removeIf] on a null value".to_owned();
        let Some(receiver) = self.receiver(target, null_safe, action, at)? else {
            return Ok(Value::Null);
        };
        let not_found = |receiver: &Value<'_>| {
            error(
                "illegal_argument_exception",
                format!(
                    "dynamic method [{}, removeIf/1] not found at {at}",
                    receiver.type_name()
                ),
            )
        };
        match view {
            None => {
                if !receiver.is_collection() {
                    return Err(not_found(&receiver));
                }
                let items = receiver.list_items()?;
                let mut doomed = Vec::with_capacity(items.len());
                for item in items {
                    self.locals[parameter] = item;
                    doomed.push(self.condition(predicate)?);
                }
                if !doomed.contains(&true) {
                    return Ok(Value::Bool(false));
                }
                let list = self.list_to_change(&receiver, at)?;
                let mut list = write(&list)?;
                if list.items.len() != doomed.len() {
                    return Err(concurrent_modification(at));
                }
                let mut verdicts = doomed.into_iter();
                list.items.retain(|_| !verdicts.next().unwrap_or(false));
                Ok(Value::Bool(true))
            }
            Some(view) => {
                if !receiver.is_map() {
                    return Err(not_found(&receiver));
                }
                let mut doomed = Vec::new();
                for (key, value) in receiver.map_entries()? {
                    self.locals[parameter] = match view {
                        MapView::Keys => Value::Str(key.clone()),
                        MapView::Values => value,
                        MapView::Entries => Value::Entry(Rc::new((key.clone(), value))),
                    };
                    if self.condition(predicate)? {
                        doomed.push(key);
                    }
                }
                if doomed.is_empty() {
                    return Ok(Value::Bool(false));
                }
                let map = self.map_to_change(&receiver, None, at)?;
                let mut map = write(&map)?;
                for key in &doomed {
                    map.remove(key.as_str());
                }
                Ok(Value::Bool(true))
            }
        }
    }

    fn not(&mut self, operand: &Expression) -> Result<Value<'v>, PipelineError> {
        Ok(Value::Bool(!self.condition(operand)?))
    }

    fn negate(&mut self, operand: &Expression, at: Position) -> Result<Value<'v>, PipelineError> {
        match self.expression(operand)? {
            Value::Int(integer) => Ok(Value::Int(integer.wrapping_neg())),
            Value::Long(integer) => Ok(Value::Long(integer.wrapping_neg())),
            Value::Double(double) => Ok(Value::Double(-double)),
            Value::Null => Err(null_pointer("cannot negate a null value", at)),
            other => Err(error(
                "class_cast_exception",
                format!(
                    "Cannot apply [-] operation to type [{}] at {at}",
                    other.type_name()
                ),
            )),
        }
    }

    fn binary_operation(
        &mut self,
        operator: Operator,
        left: &Expression,
        right: &Expression,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let left = self.expression(left)?;
        let right = self.expression(right)?;
        binary(operator, &left, &right, at)
    }

    fn and(&mut self, left: &Expression, right: &Expression) -> Result<Value<'v>, PipelineError> {
        Ok(Value::Bool(self.condition(left)? && self.condition(right)?))
    }

    fn or(&mut self, left: &Expression, right: &Expression) -> Result<Value<'v>, PipelineError> {
        Ok(Value::Bool(self.condition(left)? || self.condition(right)?))
    }

    fn conditional(
        &mut self,
        condition: &Expression,
        then: &Expression,
        otherwise: &Expression,
    ) -> Result<Value<'v>, PipelineError> {
        if self.condition(condition)? {
            self.expression(then)
        } else {
            self.expression(otherwise)
        }
    }

    fn elvis(
        &mut self,
        value: &Expression,
        fallback: &Expression,
    ) -> Result<Value<'v>, PipelineError> {
        match self.expression(value)? {
            Value::Null => self.expression(fallback),
            present => Ok(present),
        }
    }

    fn instance_of(&mut self, value: &Expression, class: Type) -> Result<Value<'v>, PipelineError> {
        Ok(Value::Bool(instance_of(&self.expression(value)?, class)))
    }

    fn cast(
        &mut self,
        value: &Expression,
        to: Type,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let value = self.expression(value)?;
        explicit_cast(value, to, at)
    }

    fn increment(
        &mut self,
        target: &Expression,
        delta: i32,
        prefix: bool,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        let place = self.place(target)?;
        let old = self.read_place(&place, at)?;
        let new = match old {
            Value::Int(integer) => Value::Int(integer.wrapping_add(delta)),
            Value::Long(integer) => Value::Long(integer.wrapping_add(i64::from(delta))),
            Value::Double(double) => Value::Double(double + f64::from(delta)),
            Value::Null => return Err(null_pointer("cannot increment a null value", at)),
            ref other => {
                return Err(error(
                    "class_cast_exception",
                    format!(
                        "Cannot apply [{}] operation to type [{}] at {at}",
                        if delta > 0 { "++" } else { "--" },
                        other.type_name()
                    ),
                ));
            }
        };
        let stored = self.write_place(place, new, at)?;
        Ok(if prefix { stored } else { old })
    }

    fn arguments(&mut self, arguments: &[Expression]) -> Result<Vec<Value<'v>>, PipelineError> {
        let mut values = Vec::with_capacity(arguments.len());
        for argument in arguments {
            values.push(self.expression(argument)?);
        }
        Ok(values)
    }

    /// `object[index]`: a map member (missing is null) or a list item (negative counts from the
    /// end, as Painless allows).
    fn load(
        &self,
        object: &Value<'v>,
        index: &Value<'v>,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        if object.is_map() {
            let key = map_key(index.clone())?;
            return Ok(object.map_get(key.as_str())?.unwrap_or(Value::Null));
        }
        if object.is_collection() && !object.is_set() {
            let items = object.size()?;
            let position = list_index(index, items, true, at)?;
            return Ok(match object {
                Value::JsonList(items) => Value::view(&items[position]),
                Value::List(list) => read(list)?.items[position].clone(),
                _ => Value::Null,
            });
        }
        if matches!(object, Value::Null) {
            return Err(null_pointer("cannot index into a null value", at));
        }
        Err(error(
            "illegal_argument_exception",
            format!(
                "Attempting to address a non-array-like type [{}] as an array at {at}",
                object.type_name()
            ),
        ))
    }

    fn place(&mut self, target: &Expression) -> Result<Place<'v>, PipelineError> {
        match &target.kind {
            ExpressionKind::Local(slot) => Ok(Place::Local(*slot)),
            ExpressionKind::Field { target, name, .. } => {
                let container = self.expression(target)?;
                Ok(Place::Member {
                    container,
                    key: Value::Str(Text::Shared(name.clone())),
                })
            }
            ExpressionKind::Index { target, index } => {
                let container = self.expression(target)?;
                let key = self.expression(index)?;
                Ok(Place::Member { container, key })
            }
            _ => Err(error(
                "script_exception",
                format!("invalid assignment target at {}", target.at),
            )),
        }
    }

    fn read_place(&self, place: &Place<'v>, at: Position) -> Result<Value<'v>, PipelineError> {
        match place {
            Place::Local(slot) => Ok(self.locals.get(*slot).cloned().unwrap_or(Value::Null)),
            Place::Member { container, key } => {
                if matches!(container, Value::Null) {
                    return Err(null_pointer(
                        &format!("cannot access [{}] of a null value", describe_key(key)),
                        at,
                    ));
                }
                self.load(container, key, at)
            }
        }
    }

    /// Stores `value` at `place`; returns what was stored (converted to a local's type).
    fn write_place(
        &mut self,
        place: Place<'v>,
        value: Value<'v>,
        at: Position,
    ) -> Result<Value<'v>, PipelineError> {
        match place {
            Place::Local(slot) => {
                let stored = implicit_cast(value, self.slot_type(slot), at)?;
                if let Some(local) = self.locals.get_mut(slot) {
                    *local = stored.clone();
                }
                Ok(stored)
            }
            Place::Member { container, key } => match &container {
                Value::Map(map) => {
                    let key = map_key(key)?;
                    self.note_change(read(map)?.origin, Some(key.as_str()));
                    write(map)?.put(key, value.clone());
                    Ok(value)
                }
                Value::List(list) if !read(list)?.set => {
                    let length = read(list)?.items.len();
                    let position = list_index(&key, length, true, at)?;
                    self.note_change(read(list)?.origin, None);
                    write(list)?.items[position] = value.clone();
                    Ok(value)
                }
                Value::Context(_) | Value::JsonMap(_) | Value::JsonList(_) => Err(read_only(at)),
                Value::Null => Err(null_pointer(
                    &format!("cannot assign [{}] of a null value", describe_key(&key)),
                    at,
                )),
                other => Err(error(
                    "illegal_argument_exception",
                    format!(
                        "cannot assign [{}] on a value of type [{}] at {at}",
                        describe_key(&key),
                        other.type_name()
                    ),
                )),
            },
        }
    }

    fn assign(
        &mut self,
        target: &Expression,
        operator: Option<Operator>,
        value: &Expression,
    ) -> Result<Value<'v>, PipelineError> {
        let at = target.at;
        let place = self.place(target)?;
        let new = match operator {
            None => self.expression(value)?,
            Some(operator) => {
                let old = self.read_place(&place, at)?;
                let right = self.expression(value)?;
                let combined = binary(operator, &old, &right, at)?;
                // Java's compound assignment casts back to the variable's type: `i += 1.5`.
                match place {
                    Place::Local(slot)
                        if matches!(
                            self.slot_type(slot),
                            Type::Int | Type::Long | Type::Double
                        ) =>
                    {
                        explicit_cast(combined, self.slot_type(slot), at)?
                    }
                    _ => combined,
                }
            }
        };
        self.write_place(place, new, at)
    }

    /// Records that a shared map or list is about to change.
    pub(super) fn note_change(&mut self, origin: Origin, key: Option<&str>) {
        let changes_source = match origin {
            Origin::Source => true,
            // Setting `_index` or `_id` through `ctx` leaves the source as it was.
            Origin::Context => {
                key.is_none_or(|key| key != "_ingest" && !METADATA_FIELDS.contains(&key))
            }
            Origin::Script | Origin::Metadata => false,
        };
        if changes_source {
            self.source_modified = true;
        }
    }

    /// The map a method is about to change.
    pub(super) fn map_to_change(
        &mut self,
        receiver: &Value<'v>,
        key: Option<&str>,
        at: Position,
    ) -> Result<SharedMap<'v>, PipelineError> {
        match receiver {
            Value::Map(map) => {
                self.note_change(read(map)?.origin, key);
                Ok(map.clone())
            }
            _ => Err(read_only(at)),
        }
    }

    /// The list a method is about to change.
    pub(super) fn list_to_change(
        &mut self,
        receiver: &Value<'v>,
        at: Position,
    ) -> Result<SharedList<'v>, PipelineError> {
        match receiver {
            Value::List(list) => {
                self.note_change(read(list)?.origin, None);
                Ok(list.clone())
            }
            _ => Err(read_only(at)),
        }
    }
}

fn describe_key(key: &Value<'_>) -> String {
    key.java_string().unwrap_or_default()
}

/// Map keys are strings here, as in a JSON document; other keys are used as their `toString`.
pub(crate) fn map_key(key: Value<'_>) -> Result<Text<'_>, PipelineError> {
    match key {
        Value::Str(text) => Ok(text),
        other => Ok(Text::from(other.java_string()?)),
    }
}

/// An index into a list of `length` items; `negative` allows Painless's `list[-1]`.
pub(crate) fn list_index(
    index: &Value<'_>,
    length: usize,
    negative: bool,
    at: Position,
) -> Result<usize, PipelineError> {
    let Some(requested) = index.as_i64() else {
        if matches!(index, Value::Null) {
            return Err(null_pointer("cannot use null as a list index", at));
        }
        return Err(class_cast(index, "java.lang.Integer", at));
    };
    let length_signed = i64::try_from(length).unwrap_or(i64::MAX);
    let normalized = if negative && requested < 0 {
        requested + length_signed
    } else {
        requested
    };
    if normalized < 0 || normalized >= length_signed {
        return Err(error(
            "index_out_of_bounds_exception",
            format!("Index {requested} out of bounds for length {length} at {at}"),
        ));
    }
    usize::try_from(normalized).map_err(|_| {
        error(
            "index_out_of_bounds_exception",
            format!("Index {requested} out of bounds for length {length} at {at}"),
        )
    })
}

/// `object.name`: a map member (missing is null), `length` of a list, or an entry's parts.
fn field<'v>(object: &Value<'v>, name: &str, at: Position) -> Result<Value<'v>, PipelineError> {
    if object.is_map() {
        return Ok(object.map_get(name)?.unwrap_or(Value::Null));
    }
    match (object, name) {
        (list, "length") if list.is_collection() => {
            Ok(Value::Int(i32::try_from(list.size()?).unwrap_or(i32::MAX)))
        }
        (Value::Entry(entry), "key") => Ok(Value::Str(entry.0.clone())),
        (Value::Entry(entry), "value") => Ok(entry.1.clone()),
        _ => Err(error(
            "illegal_argument_exception",
            format!(
                "Unable to find dynamic field [{name}] for class [{}] at {at}",
                object.type_name()
            ),
        )),
    }
}

fn concurrent_modification(at: Position) -> PipelineError {
    error(
        "concurrent_modification_exception",
        format!("the collection changed while removeIf read it at {at}"),
    )
}

/// `new StringTokenizer(text)` or `new StringTokenizer(text, delimiters)`; Java's default
/// delimiters are the whitespace characters.
fn tokenizer<'v>(
    text: Value<'v>,
    delimiters: Option<Value<'v>>,
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    let text = match text {
        Value::Str(text) => text,
        Value::Null => return Err(null_pointer("cannot tokenize a null string", at)),
        other => return Err(class_cast(&other, "java.lang.String", at)),
    };
    let delimiters = match delimiters {
        None => Text::from(" \t\n\r\u{c}".to_owned()),
        Some(Value::Str(delimiters)) => delimiters,
        Some(Value::Null) => return Err(null_pointer("null delimiters", at)),
        Some(other) => return Err(class_cast(&other, "java.lang.String", at)),
    };
    Ok(Value::Tokenizer(Rc::new(std::cell::RefCell::new(
        Tokenizer::new(text.as_str(), delimiters.as_str()),
    ))))
}

/// `new ArrayList(…)`, `new HashMap(…)`, `new HashSet(…)`: empty, or a shallow copy.
fn construct<'v>(
    class: NewClass,
    from: Option<Value<'v>>,
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    match (class, from) {
        (NewClass::StringTokenizer, from) => tokenizer(from.unwrap_or(Value::Null), None, at),
        (NewClass::HashMap, None) => Ok(new_map(Vec::new(), Origin::Script)),
        (NewClass::HashMap, Some(map)) if map.is_map() => {
            Ok(new_map(map.map_entries()?, Origin::Script))
        }
        (NewClass::ArrayList | NewClass::HashSet, None) => {
            Ok(new_list(Vec::new(), class == NewClass::HashSet))
        }
        // `new ArrayList(16)` sets a capacity.
        (NewClass::ArrayList | NewClass::HashSet, Some(Value::Int(_))) => {
            Ok(new_list(Vec::new(), class == NewClass::HashSet))
        }
        (NewClass::ArrayList, Some(collection)) if collection.is_collection() => {
            Ok(new_list(collection.list_items()?, false))
        }
        (NewClass::HashSet, Some(collection)) if collection.is_collection() => {
            let mut items: Vec<Value<'v>> = Vec::new();
            for item in collection.list_items()? {
                if !contains(&items, &item)? {
                    items.push(item);
                }
            }
            Ok(new_list(items, true))
        }
        (_, Some(Value::Null)) => Err(null_pointer("cannot copy a null collection", at)),
        (class, Some(other)) => Err(class_cast(
            &other,
            match class {
                NewClass::HashMap => "java.util.Map",
                _ => "java.util.Collection",
            },
            at,
        )),
    }
}

fn default_value<'v>(declared_type: Type) -> Value<'v> {
    match declared_type {
        Type::Int => Value::Int(0),
        Type::Long => Value::Long(0),
        Type::Double => Value::Double(0.0),
        Type::Boolean => Value::Bool(false),
        _ => Value::Null,
    }
}

pub(crate) fn instance_of(value: &Value<'_>, class: Type) -> bool {
    match class {
        _ if matches!(value, Value::Null) => false,
        Type::Def | Type::Object => true,
        Type::String => matches!(value, Value::Str(_)),
        Type::Int | Type::BoxedInteger => matches!(value, Value::Int(_)),
        Type::Long | Type::BoxedLong => matches!(value, Value::Long(_)),
        Type::Double | Type::BoxedDouble => matches!(value, Value::Double(_)),
        Type::Boolean | Type::BoxedBoolean => matches!(value, Value::Bool(_)),
        Type::Number => value.is_number(),
        Type::Map | Type::HashMap => value.is_map(),
        Type::List | Type::ArrayList | Type::Array => value.is_collection() && !value.is_set(),
        Type::Set | Type::HashSet => value.is_set(),
        Type::Collection => value.is_collection(),
        Type::MapEntry => matches!(value, Value::Entry(_)),
        Type::StringTokenizer => matches!(value, Value::Tokenizer(_)),
    }
}

/// The conversion of an assignment to a typed variable: widening only, as Painless allows for
/// `def` values; `null` into a primitive is a null pointer.
pub(crate) fn implicit_cast<'v>(
    value: Value<'v>,
    to: Type,
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    Ok(match (to, value) {
        (Type::Def | Type::Object, value) => value,
        (Type::Int | Type::Long | Type::Double | Type::Boolean, Value::Null) => {
            return Err(null_pointer(
                &format!("cannot assign null to a variable of type [{}]", to.name()),
                at,
            ));
        }
        (_, Value::Null) => Value::Null,
        (Type::Long | Type::BoxedLong, Value::Int(integer)) => Value::Long(i64::from(integer)),
        (Type::Double | Type::BoxedDouble, number @ (Value::Int(_) | Value::Long(_))) => {
            Value::Double(number.as_f64().unwrap_or_default())
        }
        (to, value) if instance_of(&value, to) => value,
        (to, value) => return Err(class_cast(&value, to.name(), at)),
    })
}

/// An explicit cast: numeric casts may narrow (`(int) 2.7` is 2), the others check the type.
pub(crate) fn explicit_cast<'v>(
    value: Value<'v>,
    to: Type,
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    if !value.is_number() {
        return implicit_cast(value, to, at);
    }
    Ok(match (to, &value) {
        // Rust's `as` saturates and maps NaN to zero, as Java's narrowing does.
        (Type::Int, Value::Long(integer)) => Value::Int(*integer as i32),
        (Type::Int, Value::Double(double)) => Value::Int(*double as i32),
        (Type::Long, Value::Double(double)) => Value::Long(*double as i64),
        _ => return implicit_cast(value, to, at),
    })
}

/// Painless's `==`: numbers compare by value across types, everything else by `equals`.
pub(crate) fn loose_equals(left: &Value<'_>, right: &Value<'_>) -> Result<bool, PipelineError> {
    if left.is_number() && right.is_number() {
        if matches!(left, Value::Double(_)) || matches!(right, Value::Double(_)) {
            return Ok(left.as_f64() == right.as_f64());
        }
        return Ok(left.as_i64() == right.as_i64());
    }
    java_equals(left, right, 0)
}

/// The promoted type of a numeric operation.
enum Promoted {
    Int(i32, i32),
    Long(i64, i64),
    Double(f64, f64),
}

fn promote(
    operator: Operator,
    left: &Value<'_>,
    right: &Value<'_>,
    at: Position,
) -> Result<Promoted, PipelineError> {
    match (left, right) {
        (Value::Int(left), Value::Int(right)) => Ok(Promoted::Int(*left, *right)),
        (Value::Double(_), _) | (_, Value::Double(_)) if left.is_number() && right.is_number() => {
            Ok(Promoted::Double(
                left.as_f64().unwrap_or_default(),
                right.as_f64().unwrap_or_default(),
            ))
        }
        _ if left.is_number() && right.is_number() => Ok(Promoted::Long(
            left.as_i64().unwrap_or_default(),
            right.as_i64().unwrap_or_default(),
        )),
        (Value::Null, _) | (_, Value::Null) => Err(null_pointer(
            &format!("cannot apply [{}] to a null value", operator.symbol()),
            at,
        )),
        _ => Err(error(
            "class_cast_exception",
            format!(
                "Cannot apply [{}] operation to types [{}] and [{}] at {at}",
                operator.symbol(),
                left.type_name(),
                right.type_name()
            ),
        )),
    }
}

/// `+`, `-`, `*`, `/` or `%` on longs, wrapping on overflow as Java does.
fn integer_arithmetic(
    operator: Operator,
    left: i64,
    right: i64,
    at: Position,
) -> Result<i64, PipelineError> {
    if right == 0 && matches!(operator, Operator::Divide | Operator::Remainder) {
        return Err(error("arithmetic_exception", format!("/ by zero at {at}")));
    }
    Ok(match operator {
        Operator::Add => left.wrapping_add(right),
        Operator::Subtract => left.wrapping_sub(right),
        Operator::Multiply => left.wrapping_mul(right),
        Operator::Divide => left.wrapping_div(right),
        _ => left.wrapping_rem(right),
    })
}

pub(crate) fn binary<'v>(
    operator: Operator,
    left: &Value<'v>,
    right: &Value<'v>,
    at: Position,
) -> Result<Value<'v>, PipelineError> {
    match operator {
        Operator::Equal => return Ok(Value::Bool(loose_equals(left, right)?)),
        Operator::NotEqual => return Ok(Value::Bool(!loose_equals(left, right)?)),
        Operator::Add if matches!(left, Value::Str(_)) || matches!(right, Value::Str(_)) => {
            let (left, right) = (left.java_string()?, right.java_string()?);
            check_string_length(left.len() + right.len(), at)?;
            return Ok(string(left + &right));
        }
        _ => {}
    }
    let promoted = promote(operator, left, right, at)?;
    let comparison = |ordering: Option<std::cmp::Ordering>| {
        use std::cmp::Ordering::{Greater, Less};
        Value::Bool(match (operator, ordering) {
            (_, None) => false,
            (Operator::Less, Some(found)) => found == Less,
            (Operator::LessOrEqual, Some(found)) => found != Greater,
            (Operator::Greater, Some(found)) => found == Greater,
            (_, Some(found)) => found != Less,
        })
    };
    Ok(match operator {
        Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual => {
            match promoted {
                Promoted::Int(left, right) => comparison(left.partial_cmp(&right)),
                Promoted::Long(left, right) => comparison(left.partial_cmp(&right)),
                Promoted::Double(left, right) => comparison(left.partial_cmp(&right)),
            }
        }
        _ => match promoted {
            // Computing in 64 bits and truncating wraps exactly as Java's `int` arithmetic
            // does, `Integer.MIN_VALUE / -1` included.
            Promoted::Int(left, right) => {
                Value::Int(
                    integer_arithmetic(operator, i64::from(left), i64::from(right), at)? as i32,
                )
            }
            Promoted::Long(left, right) => {
                Value::Long(integer_arithmetic(operator, left, right, at)?)
            }
            Promoted::Double(left, right) => Value::Double(match operator {
                Operator::Add => left + right,
                Operator::Subtract => left - right,
                Operator::Multiply => left * right,
                Operator::Divide => left / right,
                _ => left % right,
            }),
        },
    })
}
