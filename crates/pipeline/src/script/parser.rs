//! A recursive-descent parser with precedence climbing for binary operators, from tokens to
//! the [`Program`] the evaluator runs.
//!
//! Names are resolved here: locals become slots, `ctx` and `params` become roots, and anything
//! outside the subset (regexes, lambdas, `new` of other classes, unknown methods or classes)
//! is refused with its name and position, so a pipeline is rejected when it is stored rather
//! than on the first document. Nesting is bounded twice — by the parser's own recursion and by
//! the height of each expression tree — so that neither parsing nor evaluating can overflow
//! the stack.

use std::sync::Arc;

use super::ScriptError;
use super::ast::Expression;
use super::ast::{
    Catch, ExceptionClass, ExpressionKind, Function, METHODS, MapView, NewClass, Operator, Program,
    STATIC_CLASSES, Statement, StaticFunction, Type,
};
use super::lexer::{Kind, Position, Token, tokenize};

/// How deeply statements and parenthesised expressions may nest while parsing.
const MAX_NESTING: u32 = 64;
/// How tall an expression tree may be (`a + b + c + …` grows one level per operand).
const MAX_EXPRESSION_DEPTH: u32 = 256;

/// Words that cannot name a variable.
const RESERVED: [&str; 25] = [
    "if",
    "else",
    "while",
    "do",
    "for",
    "in",
    "continue",
    "break",
    "return",
    "new",
    "try",
    "catch",
    "throw",
    "this",
    "instanceof",
    "true",
    "false",
    "null",
    "def",
    "ctx",
    "params",
    "switch",
    "case",
    "super",
    "function",
];

pub(crate) fn parse(source: &str) -> Result<Program, ScriptError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        source,
        tokens,
        position: 0,
        nesting: 0,
        loops: 0,
        scopes: vec![Vec::new()],
        slot_types: Vec::new(),
        uses_params: false,
        function_names: Vec::new(),
    };
    // Functions come first, as in Painless; they are named before any body is read, so that
    // they may call each other whatever their order, and themselves.
    parser.function_names = parser.scan_functions();
    let mut functions = Vec::with_capacity(parser.function_names.len());
    while parser.function_header(parser.position).is_some() {
        functions.push(parser.function()?);
    }
    let mut statements = Vec::new();
    while parser.peek().kind != Kind::End {
        statements.push(parser.statement()?);
    }
    // As in Painless, a script that ends with an expression returns its value: that is how a
    // condition such as `ctx.a == 1` yields its boolean.
    if let Some(Statement::Expression(_)) = statements.last()
        && let Some(Statement::Expression(last)) = statements.pop()
    {
        statements.push(Statement::Return(Some(last)));
    }
    Ok(Program {
        functions,
        statements,
        slot_types: parser.slot_types,
        uses_params: parser.uses_params,
    })
}

struct Parser<'s> {
    source: &'s str,
    tokens: Vec<Token<'s>>,
    position: usize,
    nesting: u32,
    /// How many loops enclose the statement being parsed, for `break` and `continue`.
    loops: u32,
    scopes: Vec<Vec<(&'s str, usize)>>,
    slot_types: Vec<Type>,
    uses_params: bool,
    /// The script's functions, by index: name and number of parameters.
    function_names: Vec<(&'s str, usize)>,
}

fn unsupported(construct: &str, at: Position) -> ScriptError {
    ScriptError::new(format!("unsupported construct [{construct}]"), at)
}

impl<'s> Parser<'s> {
    fn peek(&self) -> &Token<'s> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Token<'s> {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.position + ahead).min(last)]
    }

    fn advance(&mut self) -> Token<'s> {
        let token = self.peek().clone();
        if token.kind != Kind::End {
            self.position += 1;
        }
        token
    }

    fn unexpected(&self) -> ScriptError {
        let token = self.peek();
        ScriptError::new(format!("unexpected token [{}]", token.describe()), token.at)
    }

    fn eat(&mut self, symbol: &str) -> bool {
        if self.peek().is_symbol(symbol) {
            self.advance();
            return true;
        }
        false
    }

    fn expect(&mut self, symbol: &str) -> Result<Token<'s>, ScriptError> {
        if self.peek().is_symbol(symbol) {
            return Ok(self.advance());
        }
        Err(self.unexpected())
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ScriptError> {
        if self.peek().is_word(word) {
            self.advance();
            return Ok(());
        }
        Err(self.unexpected())
    }

    fn identifier(&mut self) -> Result<Token<'s>, ScriptError> {
        if self.peek().kind == Kind::Identifier {
            return Ok(self.advance());
        }
        Err(self.unexpected())
    }

    fn descend(&mut self) -> Result<(), ScriptError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(ScriptError::new(
                "the script is nested too deeply".to_owned(),
                self.peek().at,
            ));
        }
        Ok(())
    }

    fn ascend(&mut self) {
        self.nesting -= 1;
    }

    /// The source text from token `first` to the token before the current one, for naming a
    /// refused construct; long ones are cut short.
    fn text_since(&self, first: usize) -> String {
        let start = self.tokens[first].offset;
        let end = self.tokens[self.position.saturating_sub(1).max(first)].offset
            + self.tokens[self.position.saturating_sub(1).max(first)]
                .text
                .len();
        let text = self.source.get(start..end).unwrap_or_default();
        if text.chars().count() > 60 {
            let cut: String = text.chars().take(57).collect();
            return format!("{cut}...");
        }
        text.to_owned()
    }

    fn make(&self, kind: ExpressionKind, at: Position) -> Result<Expression, ScriptError> {
        let depth = kind.child_depth() + 1;
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(ScriptError::new(
                "the expression is nested too deeply".to_owned(),
                at,
            ));
        }
        Ok(Expression { kind, at, depth })
    }

    // Names and scopes.

    fn lookup(&self, name: &str) -> Option<usize> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|scope| scope.iter().rev())
            .find(|(declared, _)| *declared == name)
            .map(|(_, slot)| *slot)
    }

    fn declare(&mut self, name: &Token<'s>, declared_type: Type) -> Result<usize, ScriptError> {
        if RESERVED.contains(&name.text) || Type::from_name(name.text).is_some() {
            return Err(self.unexpected_at(name));
        }
        if self.lookup(name.text).is_some() {
            return Err(ScriptError::new(
                format!("variable [{}] is already defined", name.text),
                name.at,
            ));
        }
        let slot = self.slot_types.len();
        self.slot_types.push(declared_type);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.text, slot));
        }
        Ok(slot)
    }

    fn unexpected_at(&self, token: &Token<'_>) -> ScriptError {
        ScriptError::new(format!("unexpected token [{}]", token.describe()), token.at)
    }

    /// Whether a type name starts here: `String`, `def`, `Map.Entry`, `String[]`…; returns
    /// how many tokens it spans.
    fn type_ahead(&self) -> Option<(Type, usize)> {
        self.type_at(self.position)
    }

    /// The token at absolute index `index` (the end token past the last).
    fn token(&self, index: usize) -> &Token<'s> {
        &self.tokens[index.min(self.tokens.len() - 1)]
    }

    /// [`Parser::type_ahead`] at an absolute index.
    fn type_at(&self, index: usize) -> Option<(Type, usize)> {
        let first = self.token(index);
        if first.kind != Kind::Identifier {
            return None;
        }
        let (mut found, mut length) = if first.text == "Map"
            && self.token(index + 1).is_symbol(".")
            && self.token(index + 2).is_word("Entry")
        {
            (Type::MapEntry, 3)
        } else {
            (Type::from_name(first.text)?, 1)
        };
        if self.token(index + length).is_symbol("[")
            && self.token(index + length + 1).is_symbol("]")
        {
            found = Type::Array;
            length += 2;
        }
        Some((found, length))
    }

    // Functions.

    /// Whether a function declaration (`boolean name(def a, …) {`) starts at `index`: its
    /// name, its number of parameters and the index of its body's `{`.
    fn function_header(&self, index: usize) -> Option<(&'s str, usize, usize)> {
        let return_length = if self.token(index).is_word("void") {
            1
        } else {
            self.type_at(index)?.1
        };
        let name = self.token(index + return_length);
        if name.kind != Kind::Identifier
            || RESERVED.contains(&name.text)
            || !self.token(index + return_length + 1).is_symbol("(")
        {
            return None;
        }
        let mut at = index + return_length + 2;
        let mut arity = 0;
        let mut depth = 0_usize;
        loop {
            let token = self.token(at);
            match token.kind {
                Kind::End => return None,
                Kind::Symbol("(") => depth += 1,
                Kind::Symbol(")") if depth == 0 => break,
                Kind::Symbol(")") => depth -= 1,
                Kind::Symbol(",") if depth == 0 => arity += 1,
                _ if arity == 0 => arity = 1,
                _ => {}
            }
            at += 1;
        }
        let body = at + 1;
        self.token(body)
            .is_symbol("{")
            .then_some((name.text, arity, body))
    }

    /// The functions declared at the start of the script, in order, found by skipping over
    /// their bodies.
    fn scan_functions(&self) -> Vec<(&'s str, usize)> {
        let mut found = Vec::new();
        let mut index = self.position;
        while let Some((name, arity, body)) = self.function_header(index) {
            let mut depth = 0_usize;
            let mut at = body;
            loop {
                match self.token(at).kind {
                    Kind::End => return found,
                    Kind::Symbol("{") => depth += 1,
                    Kind::Symbol("}") => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            found.push((name, arity));
            index = at + 1;
        }
        found
    }

    /// A function declaration: its parameters and locals are slots of a frame of its own.
    fn function(&mut self) -> Result<Function, ScriptError> {
        let returns = if self.peek().is_word("void") {
            self.advance();
            None
        } else {
            Some(self.type_name()?)
        };
        let name = self.identifier()?;
        let scopes = std::mem::replace(&mut self.scopes, vec![Vec::new()]);
        let slot_types = std::mem::take(&mut self.slot_types);
        let loops = std::mem::replace(&mut self.loops, 0);
        let parsed = self.function_rest(name.text);
        self.scopes = scopes;
        self.loops = loops;
        let frame_types = std::mem::replace(&mut self.slot_types, slot_types);
        let (parameters, body) = parsed?;
        Ok(Function {
            name: Arc::from(name.text),
            parameters,
            returns,
            slot_types: frame_types,
            body,
        })
    }

    fn function_rest(&mut self, name: &str) -> Result<(Vec<Type>, Vec<Statement>), ScriptError> {
        self.expect("(")?;
        let mut parameters = Vec::new();
        while !self.peek().is_symbol(")") {
            if !parameters.is_empty() {
                self.expect(",")?;
            }
            let parameter_type = self.type_name()?;
            let parameter = self.identifier()?;
            self.declare(&parameter, parameter_type)?;
            parameters.push(parameter_type);
        }
        self.expect(")")?;
        let Statement::Block(body) = self.block()? else {
            return Err(ScriptError::new(
                format!("function [{name}] has no body"),
                self.peek().at,
            ));
        };
        Ok((parameters, body))
    }

    /// A call of one of the script's functions, from its name on.
    fn function_call(
        &mut self,
        function: usize,
        name: &Token<'s>,
    ) -> Result<Expression, ScriptError> {
        let arguments = self.arguments()?;
        let arity = self.function_names[function].1;
        if arguments.len() != arity {
            return Err(ScriptError::new(
                format!(
                    "function [{}] takes [{arity}] arguments, not [{}]",
                    name.text,
                    arguments.len()
                ),
                name.at,
            ));
        }
        self.make(
            ExpressionKind::CallFunction {
                function,
                arguments,
            },
            name.at,
        )
    }

    fn type_name(&mut self) -> Result<Type, ScriptError> {
        let Some((found, length)) = self.type_ahead() else {
            let token = self.peek();
            if token.kind == Kind::Identifier {
                return Err(unsupported(&format!("type {}", token.text), token.at));
            }
            return Err(self.unexpected());
        };
        self.position += length;
        Ok(found)
    }

    // Statements.

    fn statement(&mut self) -> Result<Statement, ScriptError> {
        self.descend()?;
        let statement = self.statement_inner()?;
        self.ascend();
        Ok(statement)
    }

    fn scoped_statement(&mut self) -> Result<Statement, ScriptError> {
        self.scopes.push(Vec::new());
        let statement = self.statement();
        self.scopes.pop();
        statement
    }

    fn loop_body(&mut self) -> Result<Statement, ScriptError> {
        self.loops += 1;
        let body = self.scoped_statement();
        self.loops -= 1;
        body
    }

    // Each statement has a function of its own, so that the recursive ones keep small stack
    // frames (debug builds give every local of a function its own slot).
    fn statement_inner(&mut self) -> Result<Statement, ScriptError> {
        let token = self.peek().clone();
        if token.is_symbol("{") {
            return self.block();
        }
        if token.is_symbol(";") {
            self.advance();
            return Ok(Statement::Empty);
        }
        if token.kind == Kind::Identifier {
            match token.text {
                "if" => return self.if_statement(),
                "while" => return self.while_statement(),
                "do" => return self.do_while_statement(),
                "for" => {
                    self.advance();
                    self.scopes.push(Vec::new());
                    let statement = self.for_statement();
                    self.scopes.pop();
                    return statement;
                }
                "break" | "continue" => return self.break_or_continue(&token),
                "return" => return self.return_statement(),
                "try" => return self.try_statement(),
                "throw" | "switch" | "synchronized" | "catch" | "class" | "import" => {
                    return Err(unsupported(token.text, token.at));
                }
                _ => {}
            }
            if let Some((_, length)) = self.type_ahead()
                && self.peek_at(length).kind == Kind::Identifier
            {
                if self.peek_at(length + 1).is_symbol("(") {
                    // Functions are declared before the script's statements, as in Painless.
                    let name = self.peek_at(length).text;
                    return Err(ScriptError::new(
                        format!("function [{name}] must be declared before the statements"),
                        token.at,
                    ));
                }
                let declaration = self.declaration()?;
                self.terminator()?;
                return Ok(declaration);
            }
        }
        let expression = self.expression()?;
        self.terminator()?;
        Ok(Statement::Expression(expression))
    }

    fn block(&mut self) -> Result<Statement, ScriptError> {
        self.expect("{")?;
        self.scopes.push(Vec::new());
        let mut statements = Vec::new();
        while !self.peek().is_symbol("}") {
            if self.peek().kind == Kind::End {
                return Err(self.unexpected());
            }
            statements.push(self.statement()?);
        }
        self.advance();
        self.scopes.pop();
        Ok(Statement::Block(statements))
    }

    fn if_statement(&mut self) -> Result<Statement, ScriptError> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        self.advance();
        loop {
            self.expect("(")?;
            let condition = self.expression()?;
            self.expect(")")?;
            branches.push((condition, self.scoped_statement()?));
            if !self.peek().is_word("else") {
                break;
            }
            self.advance();
            if !self.peek().is_word("if") {
                otherwise = Some(Box::new(self.scoped_statement()?));
                break;
            }
            self.advance();
        }
        Ok(Statement::If {
            branches,
            otherwise,
        })
    }

    /// `try {…} catch (Exception e) {…}`, with one or more `catch` clauses; `finally` is not
    /// part of the subset.
    fn try_statement(&mut self) -> Result<Statement, ScriptError> {
        let at = self.advance().at;
        if !self.peek().is_symbol("{") {
            return Err(self.unexpected());
        }
        let body = Box::new(self.block()?);
        let mut catches = Vec::new();
        while self.peek().is_word("catch") {
            self.advance();
            self.expect("(")?;
            let class = self.identifier()?;
            let Some(exception) = ExceptionClass::from_name(class.text) else {
                return Err(unsupported(&format!("catch ({})", class.text), class.at));
            };
            let name = self.identifier()?;
            self.expect(")")?;
            if !self.peek().is_symbol("{") {
                return Err(self.unexpected());
            }
            self.scopes.push(Vec::new());
            let caught = self
                .declare(&name, Type::Def)
                .and_then(|slot| Ok((slot, self.block()?)));
            self.scopes.pop();
            let (slot, handler) = caught?;
            catches.push(Catch {
                class: exception,
                slot,
                body: handler,
            });
        }
        if self.peek().is_word("finally") {
            return Err(unsupported("finally", self.peek().at));
        }
        if catches.is_empty() {
            return Err(ScriptError::new("[try] without [catch]".to_owned(), at));
        }
        Ok(Statement::Try { body, catches })
    }

    fn while_statement(&mut self) -> Result<Statement, ScriptError> {
        self.advance();
        self.expect("(")?;
        let condition = self.expression()?;
        self.expect(")")?;
        let body = Box::new(self.loop_body()?);
        Ok(Statement::While { condition, body })
    }

    fn do_while_statement(&mut self) -> Result<Statement, ScriptError> {
        self.advance();
        let body = Box::new(self.loop_body()?);
        self.expect_word("while")?;
        self.expect("(")?;
        let condition = self.expression()?;
        self.expect(")")?;
        self.terminator()?;
        Ok(Statement::DoWhile { body, condition })
    }

    fn break_or_continue(&mut self, token: &Token<'s>) -> Result<Statement, ScriptError> {
        self.advance();
        if self.loops == 0 {
            return Err(ScriptError::new(
                format!("[{}] outside of a loop", token.text),
                token.at,
            ));
        }
        self.terminator()?;
        Ok(if token.text == "break" {
            Statement::Break
        } else {
            Statement::Continue
        })
    }

    fn return_statement(&mut self) -> Result<Statement, ScriptError> {
        self.advance();
        let value = if self.at_terminator() {
            None
        } else {
            Some(self.expression()?)
        };
        self.terminator()?;
        Ok(Statement::Return(value))
    }

    fn at_terminator(&self) -> bool {
        let next = self.peek();
        next.is_symbol(";") || next.is_symbol("}") || next.kind == Kind::End
    }

    /// A statement ends with `;`, which Painless lets the last statement of a block or of the
    /// script leave out.
    fn terminator(&mut self) -> Result<(), ScriptError> {
        if self.eat(";") {
            return Ok(());
        }
        let next = self.peek();
        if next.is_symbol("}") || next.kind == Kind::End {
            return Ok(());
        }
        Err(self.unexpected())
    }

    /// `Type a = 1, b;` — several declarations become a block, which has no scope of its own
    /// at run time (slots are resolved already).
    fn declaration(&mut self) -> Result<Statement, ScriptError> {
        let declared_type = self.type_name()?;
        let mut declarations = Vec::new();
        loop {
            let name = self.identifier()?;
            let value = if self.eat("=") {
                Some(self.expression()?)
            } else {
                None
            };
            let slot = self.declare(&name, declared_type)?;
            declarations.push(Statement::Declare {
                slot,
                value,
                at: name.at,
            });
            if !self.eat(",") {
                break;
            }
        }
        if declarations.len() == 1
            && let Some(single) = declarations.pop()
        {
            return Ok(single);
        }
        Ok(Statement::Block(declarations))
    }

    fn for_statement(&mut self) -> Result<Statement, ScriptError> {
        self.expect("(")?;
        // `for (def x : list)`, `for (Map.Entry e : map.entrySet())` or `for (x in list)`.
        let each = match self.type_ahead() {
            Some((declared_type, length))
                if self.peek_at(length).kind == Kind::Identifier
                    && self.peek_at(length + 1).is_symbol(":") =>
            {
                self.position += length;
                Some(declared_type)
            }
            _ if self.peek().kind == Kind::Identifier && self.peek_at(1).is_word("in") => {
                Some(Type::Def)
            }
            _ => None,
        };
        if let Some(declared_type) = each {
            let name = self.identifier()?;
            self.advance();
            let iterable = self.expression()?;
            self.expect(")")?;
            let slot = self.declare(&name, declared_type)?;
            let body = Box::new(self.loop_body()?);
            return Ok(Statement::ForEach {
                slot,
                iterable,
                body,
                at: name.at,
            });
        }
        let mut initialize = Vec::new();
        if !self.peek().is_symbol(";") {
            if self
                .type_ahead()
                .is_some_and(|(_, length)| self.peek_at(length).kind == Kind::Identifier)
            {
                initialize.push(self.declaration()?);
            } else {
                loop {
                    initialize.push(Statement::Expression(self.expression()?));
                    if !self.eat(",") {
                        break;
                    }
                }
            }
        }
        self.expect(";")?;
        let condition = if self.peek().is_symbol(";") {
            None
        } else {
            Some(self.expression()?)
        };
        self.expect(";")?;
        let mut update = Vec::new();
        if !self.peek().is_symbol(")") {
            loop {
                update.push(self.expression()?);
                if !self.eat(",") {
                    break;
                }
            }
        }
        self.expect(")")?;
        let body = Box::new(self.loop_body()?);
        Ok(Statement::For {
            initialize,
            condition,
            update,
            body,
        })
    }

    // Expressions.

    fn expression(&mut self) -> Result<Expression, ScriptError> {
        self.descend()?;
        let target = self.binary(0)?;
        let operator = match self.peek().kind {
            Kind::Symbol("=") => Some(None),
            Kind::Symbol("+=") => Some(Some(Operator::Add)),
            Kind::Symbol("-=") => Some(Some(Operator::Subtract)),
            Kind::Symbol("*=") => Some(Some(Operator::Multiply)),
            Kind::Symbol("/=") => Some(Some(Operator::Divide)),
            Kind::Symbol("%=") => Some(Some(Operator::Remainder)),
            Kind::Symbol(symbol @ ("&=" | "|=" | "^=" | "<<=" | ">>=" | ">>>=")) => {
                return Err(unsupported(
                    &format!("bitwise operator {symbol}"),
                    self.peek().at,
                ));
            }
            _ => None,
        };
        let Some(operator) = operator else {
            self.ascend();
            return Ok(target);
        };
        let assign_at = self.advance().at;
        self.check_assignable(&target, assign_at)?;
        let value = self.expression()?;
        self.ascend();
        let at = target.at;
        self.make(
            ExpressionKind::Assign {
                target: Box::new(target),
                operator,
                value: Box::new(value),
            },
            at,
        )
    }

    fn check_assignable(&self, target: &Expression, at: Position) -> Result<(), ScriptError> {
        match target.kind {
            ExpressionKind::Local(_)
            | ExpressionKind::Field {
                null_safe: false, ..
            }
            | ExpressionKind::Index { .. } => Ok(()),
            // Only variables, fields and indexes can be assigned.
            _ => Err(ScriptError::new("invalid assignment target".to_owned(), at)),
        }
    }

    /// Binary operators by precedence climbing; `minimum` is the weakest binding accepted.
    fn binary(&mut self, minimum: u8) -> Result<Expression, ScriptError> {
        let mut left = self.unary()?;
        while let Some((symbol, power)) = self.infix_operator(minimum)? {
            self.advance();
            left = match symbol {
                "instanceof" => self.instance_of(left)?,
                "?:" => self.elvis(left, power)?,
                "?" => self.conditional(left, power)?,
                _ => self.binary_operator(left, symbol, power)?,
            };
        }
        Ok(left)
    }

    /// The infix operator next in the source and its binding power, when it binds at least
    /// as tightly as `minimum`; refuses the operators outside the subset.
    fn infix_operator(&self, minimum: u8) -> Result<Option<(&'static str, u8)>, ScriptError> {
        let token = self.peek();
        let symbol = match token.kind {
            Kind::Symbol(symbol) => symbol,
            Kind::Identifier if token.text == "instanceof" => "instanceof",
            _ => return Ok(None),
        };
        let refused = match symbol {
            "=~" | "==~" => Some(format!("regex operator {symbol}")),
            "&" | "|" | "^" | "<<" | ">>" | ">>>" => Some(format!("bitwise operator {symbol}")),
            "===" | "!==" => Some(format!("reference equality {symbol}")),
            "->" => Some("lambda ->".to_owned()),
            "::" => Some("method reference ::".to_owned()),
            _ => None,
        };
        if let Some(construct) = refused {
            return Err(unsupported(&construct, token.at));
        }
        let power = match symbol {
            "?:" => 2,
            "?" => 3,
            "||" => 4,
            "&&" => 5,
            "==" | "!=" => 6,
            "instanceof" => 7,
            "<" | "<=" | ">" | ">=" => 8,
            "+" | "-" => 9,
            "*" | "/" | "%" => 10,
            _ => return Ok(None),
        };
        Ok((power >= minimum).then_some((symbol, power)))
    }

    fn instance_of(&mut self, left: Expression) -> Result<Expression, ScriptError> {
        let at = self.peek().at;
        let class = self.type_name()?;
        if matches!(
            class,
            Type::Def | Type::Int | Type::Long | Type::Double | Type::Boolean
        ) {
            return Err(unsupported(&format!("instanceof {}", class.name()), at));
        }
        let at = left.at;
        let kind = ExpressionKind::InstanceOf {
            value: Box::new(left),
            class,
        };
        self.make(kind, at)
    }

    /// `left ?: fallback`, right-associative: `a ?: b ?: c` is `a ?: (b ?: c)`.
    fn elvis(&mut self, left: Expression, power: u8) -> Result<Expression, ScriptError> {
        self.descend()?;
        let fallback = self.binary(power)?;
        self.ascend();
        let at = left.at;
        let kind = ExpressionKind::Elvis {
            value: Box::new(left),
            fallback: Box::new(fallback),
        };
        self.make(kind, at)
    }

    fn conditional(&mut self, left: Expression, power: u8) -> Result<Expression, ScriptError> {
        self.descend()?;
        let then = self.expression()?;
        self.expect(":")?;
        let otherwise = self.binary(power)?;
        self.ascend();
        let at = left.at;
        let kind = ExpressionKind::Conditional {
            condition: Box::new(left),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        };
        self.make(kind, at)
    }

    fn binary_operator(
        &mut self,
        left: Expression,
        symbol: &str,
        power: u8,
    ) -> Result<Expression, ScriptError> {
        let right = Box::new(self.binary(power + 1)?);
        let at = left.at;
        let left = Box::new(left);
        let kind = match symbol {
            "||" => ExpressionKind::Or(left, right),
            "&&" => ExpressionKind::And(left, right),
            _ => {
                let operator = match symbol {
                    "==" => Operator::Equal,
                    "!=" => Operator::NotEqual,
                    "<" => Operator::Less,
                    "<=" => Operator::LessOrEqual,
                    ">" => Operator::Greater,
                    ">=" => Operator::GreaterOrEqual,
                    "+" => Operator::Add,
                    "-" => Operator::Subtract,
                    "*" => Operator::Multiply,
                    "/" => Operator::Divide,
                    _ => Operator::Remainder,
                };
                ExpressionKind::Binary {
                    operator,
                    left,
                    right,
                }
            }
        };
        self.make(kind, at)
    }

    fn unary(&mut self) -> Result<Expression, ScriptError> {
        let symbol = match self.peek().kind {
            Kind::Symbol(symbol) => symbol,
            _ => "",
        };
        match symbol {
            "!" | "-" | "+" => self.prefix_operator(symbol),
            "~" => Err(unsupported("bitwise operator ~", self.peek().at)),
            "++" | "--" => self.prefix_increment(symbol),
            "(" => match self.cast_ahead() {
                Some((to, length)) => self.cast(to, length),
                None => self.primary_and_postfix(),
            },
            _ => self.primary_and_postfix(),
        }
    }

    fn primary_and_postfix(&mut self) -> Result<Expression, ScriptError> {
        let primary = self.primary()?;
        self.postfix(primary)
    }

    fn prefix_operator(&mut self, symbol: &str) -> Result<Expression, ScriptError> {
        let at = self.advance().at;
        // `-2147483648` is an int, although `2147483648` alone is not.
        if symbol == "-" && matches!(self.peek().kind, Kind::Integer { .. }) {
            let literal = self.advance();
            let number = self.integer(&literal, true)?;
            return self.postfix(number);
        }
        self.descend()?;
        let operand = Box::new(self.unary()?);
        self.ascend();
        let kind = match symbol {
            "!" => ExpressionKind::Not(operand),
            "-" => ExpressionKind::Negate(operand),
            // Unary plus checks that its operand is a number and changes nothing.
            _ => ExpressionKind::Cast {
                value: operand,
                to: Type::Number,
            },
        };
        self.make(kind, at)
    }

    fn prefix_increment(&mut self, symbol: &str) -> Result<Expression, ScriptError> {
        let at = self.advance().at;
        self.descend()?;
        let operand = self.unary()?;
        self.ascend();
        self.check_assignable(&operand, at)?;
        let kind = ExpressionKind::Increment {
            target: Box::new(operand),
            delta: if symbol == "++" { 1 } else { -1 },
            prefix: true,
        };
        self.make(kind, at)
    }

    /// Whether `(Type)` starts here; the type and how many tokens it spans.
    fn cast_ahead(&mut self) -> Option<(Type, usize)> {
        if self.peek_at(1).kind != Kind::Identifier {
            return None;
        }
        self.position += 1;
        let found = self.type_ahead();
        self.position -= 1;
        found.filter(|(_, length)| self.peek_at(1 + length).is_symbol(")"))
    }

    fn cast(&mut self, to: Type, length: usize) -> Result<Expression, ScriptError> {
        let at = self.peek().at;
        self.position += 2 + length;
        self.descend()?;
        let operand = self.unary()?;
        self.ascend();
        let kind = ExpressionKind::Cast {
            value: Box::new(operand),
            to,
        };
        self.make(kind, at)
    }

    fn integer(&self, literal: &Token<'_>, negative: bool) -> Result<Expression, ScriptError> {
        let Kind::Integer {
            digits,
            radix,
            long,
        } = &literal.kind
        else {
            return Err(self.unexpected_at(literal));
        };
        let invalid = || {
            let sign = if negative { "-" } else { "" };
            let kind = if *long { "long" } else { "int" };
            ScriptError::new(
                format!("invalid {kind} constant [{sign}{}]", literal.text),
                literal.at,
            )
        };
        let magnitude = u64::from_str_radix(digits, *radix).map_err(|_| invalid())?;
        // Hex and octal constants may spell a negative number in two's complement, as in Java.
        let kind = if *long {
            let value = if *radix == 10 {
                i128::from(magnitude)
            } else {
                i128::from(magnitude as i64)
            };
            let value = if negative { -value } else { value };
            ExpressionKind::Long(i64::try_from(value).map_err(|_| invalid())?)
        } else {
            let value = if *radix == 10 {
                i64::try_from(magnitude).map_err(|_| invalid())?
            } else {
                i64::from(u32::try_from(magnitude).map_err(|_| invalid())? as i32)
            };
            let value = if negative { -value } else { value };
            ExpressionKind::Int(i32::try_from(value).map_err(|_| invalid())?)
        };
        self.make(kind, literal.at)
    }

    /// Whether `( a, b ) ->` starts here.
    fn lambda_ahead(&self) -> bool {
        let mut depth = 0usize;
        let mut ahead = 0;
        loop {
            let token = self.peek_at(ahead);
            match token.kind {
                Kind::End => return false,
                Kind::Symbol("(") => depth += 1,
                Kind::Symbol(")") => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return self.peek_at(ahead + 1).is_symbol("->");
                    }
                }
                _ => {}
            }
            ahead += 1;
        }
    }

    fn primary(&mut self) -> Result<Expression, ScriptError> {
        let token = self.peek().clone();
        let at = token.at;
        let kind = match &token.kind {
            Kind::End => return Err(self.unexpected()),
            Kind::Integer { .. } => {
                self.advance();
                return self.integer(&token, false);
            }
            Kind::Decimal(value) => {
                self.advance();
                ExpressionKind::Double(*value)
            }
            Kind::String(text) => {
                self.advance();
                ExpressionKind::String(Arc::from(text.as_str()))
            }
            Kind::Regex => return Err(unsupported(token.text, at)),
            Kind::Symbol("(") => {
                if self.lambda_ahead() {
                    return Err(unsupported("lambda ->", at));
                }
                self.advance();
                let inner = self.expression()?;
                self.expect(")")?;
                return Ok(inner);
            }
            Kind::Symbol("[") => return self.collection_literal(),
            Kind::Symbol("/") => return Err(unsupported("regex literal", at)),
            Kind::Symbol(_) => return Err(self.unexpected()),
            Kind::Identifier => return self.name(),
        };
        self.make(kind, at)
    }

    fn collection_literal(&mut self) -> Result<Expression, ScriptError> {
        let at = self.expect("[")?.at;
        if self.eat(":") {
            self.expect("]")?;
            return self.make(ExpressionKind::Map(Vec::new()), at);
        }
        if self.eat("]") {
            return self.make(ExpressionKind::List(Vec::new()), at);
        }
        let first = self.expression()?;
        if self.eat(":") {
            let mut entries = vec![(first, self.expression()?)];
            while self.eat(",") {
                let key = self.expression()?;
                self.expect(":")?;
                entries.push((key, self.expression()?));
            }
            self.expect("]")?;
            return self.make(ExpressionKind::Map(entries), at);
        }
        let mut items = vec![first];
        while self.eat(",") {
            items.push(self.expression()?);
        }
        self.expect("]")?;
        self.make(ExpressionKind::List(items), at)
    }

    fn arguments(&mut self) -> Result<Vec<Expression>, ScriptError> {
        self.expect("(")?;
        let mut arguments = Vec::new();
        if self.eat(")") {
            return Ok(arguments);
        }
        loop {
            arguments.push(self.expression()?);
            if self.eat(")") {
                return Ok(arguments);
            }
            self.expect(",")?;
        }
    }

    fn name(&mut self) -> Result<Expression, ScriptError> {
        let first = self.position;
        let token = self.advance();
        let at = token.at;
        let name = token.text;
        if self.peek().is_symbol("->") {
            return Err(unsupported("lambda ->", at));
        }
        if self.peek().is_symbol("::") {
            return Err(unsupported("method reference ::", self.peek().at));
        }
        let kind = match name {
            "true" => ExpressionKind::Bool(true),
            "false" => ExpressionKind::Bool(false),
            "null" => ExpressionKind::Null,
            "ctx" => ExpressionKind::Context,
            "params" => {
                self.uses_params = true;
                ExpressionKind::Params
            }
            "new" => return self.new_instance(first),
            "this" | "super" | "function" => return Err(unsupported(name, at)),
            _ if RESERVED.contains(&name) => return Err(self.unexpected_at(&token)),
            _ => {
                if let Some(slot) = self.lookup(name) {
                    ExpressionKind::Local(slot)
                } else if STATIC_CLASSES.contains(&name) && self.peek().is_symbol(".") {
                    return self.static_call(name, first);
                } else if let Some(function) = self
                    .function_names
                    .iter()
                    .position(|(declared, _)| *declared == name)
                    .filter(|_| self.peek().is_symbol("("))
                {
                    return self.function_call(function, &token);
                } else if self.peek().is_symbol("(") {
                    return Err(unsupported(&format!("function call {name}()"), at));
                } else if name.starts_with(|first: char| first.is_ascii_uppercase())
                    || name == "java"
                    || name == "org"
                {
                    while self.peek().is_symbol(".") && self.peek_at(1).kind == Kind::Identifier {
                        self.position += 2;
                    }
                    return Err(unsupported(&self.text_since(first), at));
                } else {
                    return Err(ScriptError::new(
                        format!("cannot resolve symbol [{name}]"),
                        at,
                    ));
                }
            }
        };
        self.make(kind, at)
    }

    fn static_call(&mut self, class: &str, first: usize) -> Result<Expression, ScriptError> {
        let at = self.tokens[first].at;
        self.expect(".")?;
        let method = self.identifier()?;
        let Some((function, arity)) = StaticFunction::lookup(class, method.text) else {
            return Err(unsupported(&self.text_since(first), at));
        };
        if !self.peek().is_symbol("(") {
            return Err(unsupported(&self.text_since(first), at));
        }
        let arguments = self.arguments()?;
        if arguments.len() != arity {
            return Err(ScriptError::new(
                format!(
                    "[{class}.{}] takes [{arity}] arguments, not [{}]",
                    method.text,
                    arguments.len()
                ),
                method.at,
            ));
        }
        let start = self.tokens[first].at;
        self.make(
            ExpressionKind::Static {
                function,
                arguments,
            },
            start,
        )
    }

    fn new_instance(&mut self, first: usize) -> Result<Expression, ScriptError> {
        let at = self.tokens[first].at;
        let class = self.identifier()?;
        let known = match class.text {
            "ArrayList" => Some(NewClass::ArrayList),
            "HashMap" | "LinkedHashMap" => Some(NewClass::HashMap),
            "HashSet" => Some(NewClass::HashSet),
            "StringTokenizer" => Some(NewClass::StringTokenizer),
            _ => None,
        };
        if self.peek().is_symbol("[") || self.peek().is_symbol("<") {
            return Err(unsupported(
                &format!("new {}{}", class.text, self.peek().text),
                at,
            ));
        }
        let arguments = self.arguments()?;
        let Some(class) = known else {
            return Err(unsupported(&self.text_since(first), at));
        };
        let most = if class == NewClass::StringTokenizer {
            2
        } else {
            1
        };
        let least = usize::from(class == NewClass::StringTokenizer);
        if arguments.len() > most || arguments.len() < least {
            return Err(unsupported(&self.text_since(first), at));
        }
        self.make(ExpressionKind::New { class, arguments }, at)
    }

    /// `.removeIf(x -> predicate)`, from its `(` on: the one place a lambda is part of the
    /// subset, as the integration pipelines use it to drop nulls and empty values. On
    /// `map.values()`, `keySet()` or `entrySet()` it removes entries from the map itself.
    fn remove_if(
        &mut self,
        target: Expression,
        null_safe: bool,
    ) -> Result<Expression, ScriptError> {
        let at = target.at;
        self.expect("(")?;
        let parenthesised = self.eat("(");
        let parameter = self.identifier()?;
        if parenthesised {
            self.expect(")")?;
        }
        self.expect("->")?;
        if self.peek().is_symbol("{") {
            return Err(unsupported("lambda with a block body", self.peek().at));
        }
        self.scopes.push(Vec::new());
        let parsed = self
            .declare(&parameter, Type::Def)
            .and_then(|slot| Ok((slot, self.expression()?)));
        self.scopes.pop();
        let (slot, predicate) = parsed?;
        self.expect(")")?;
        let view = match &target.kind {
            ExpressionKind::Call {
                method,
                arguments,
                null_safe: false,
                ..
            } if arguments.is_empty() => match *method {
                "keySet" => Some(MapView::Keys),
                "values" => Some(MapView::Values),
                "entrySet" => Some(MapView::Entries),
                _ => None,
            },
            _ => None,
        };
        let target = match (view, target.kind) {
            (Some(_), ExpressionKind::Call { target: map, .. }) => *map,
            (_, kind) => Expression {
                kind,
                at: target.at,
                depth: target.depth,
            },
        };
        self.make(
            ExpressionKind::RemoveIf {
                target: Box::new(target),
                view,
                parameter: slot,
                predicate: Box::new(predicate),
                null_safe,
            },
            at,
        )
    }

    fn postfix(&mut self, mut expression: Expression) -> Result<Expression, ScriptError> {
        loop {
            let token = self.peek().clone();
            let Kind::Symbol(symbol) = token.kind else {
                return Ok(expression);
            };
            let at = expression.at;
            let kind = match symbol {
                "." | "?." => {
                    self.advance();
                    let name = self.identifier()?;
                    let null_safe = symbol == "?.";
                    if name.is_word("removeIf") && self.peek().is_symbol("(") {
                        expression = self.remove_if(expression, null_safe)?;
                        continue;
                    }
                    if self.peek().is_symbol("(") {
                        // Arguments first, so that a lambda among them is named as such.
                        let arguments = self.arguments()?;
                        let Some(method) = METHODS.iter().find(|known| **known == name.text) else {
                            return Err(unsupported(&format!("{}()", name.text), name.at));
                        };
                        ExpressionKind::Call {
                            target: Box::new(expression),
                            method,
                            arguments,
                            null_safe,
                        }
                    } else {
                        ExpressionKind::Field {
                            target: Box::new(expression),
                            name: Arc::from(name.text),
                            null_safe,
                        }
                    }
                }
                "[" => {
                    self.advance();
                    let index = self.expression()?;
                    self.expect("]")?;
                    ExpressionKind::Index {
                        target: Box::new(expression),
                        index: Box::new(index),
                    }
                }
                "++" | "--" => {
                    self.advance();
                    self.check_assignable(&expression, token.at)?;
                    let incremented = self.make(
                        ExpressionKind::Increment {
                            target: Box::new(expression),
                            delta: if symbol == "++" { 1 } else { -1 },
                            prefix: false,
                        },
                        at,
                    )?;
                    return Ok(incremented);
                }
                _ => return Ok(expression),
            };
            expression = self.make(kind, at)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> String {
        match parse(source) {
            Ok(program) => panic!("{source} parsed: {program:?}"),
            Err(error) => error.reason().to_owned(),
        }
    }

    #[test]
    fn parses_the_subset() {
        for source in [
            "ctx?.url?.original != null && ctx.url.original.contains('?')",
            "def x = 1; int y = 2, z; x += y; z = x * 2 - -1; return z",
            "for (def item : ctx.list) { if (item == null) { continue } }",
            "for (int i = 0; i < 10; i++) { ctx.n = i }",
            "for (Map.Entry entry : ctx.entrySet()) { entry.getKey() }",
            "for (x in [1, 2]) { }",
            "String[] parts = 'a b'.splitOnToken(' '); parts.length",
            "def m = [:]; def l = []; def n = ['a': 1, 'b': [2]]; (String) n.a",
            "ctx.a instanceof Map ? 1 : ctx.b ?: 2",
            "do { ctx.n-- } while (ctx.n > 0);",
            "new ArrayList(ctx.keySet()); new HashMap(); new HashSet()",
            "Math.max(1, 2L) + Integer.parseInt('3')",
            "-2147483648; -9223372036854775808L; 0xFFFFFFFF",
        ] {
            if let Err(error) = parse(source) {
                panic!("{source}: {error}");
            }
        }
    }

    #[test]
    fn refuses_what_is_outside_the_subset_by_name() {
        assert_eq!(
            error("ctx.a = new TreeMap()"),
            "unsupported construct [new TreeMap()] at 1:9"
        );
        assert_eq!(
            error("ctx.a =~ /fo+/"),
            "unsupported construct [regex operator =~] at 1:7"
        );
        assert_eq!(
            error("if (/fo+/.matcher(ctx.a).matches()) {}"),
            "unsupported construct [/fo+/] at 1:5"
        );
        assert_eq!(
            error("ctx.list.forEach(x -> x == null)"),
            "unsupported construct [lambda ->] at 1:18"
        );
        assert_eq!(
            error("ctx.list.stream()"),
            "unsupported construct [stream()] at 1:10"
        );
        assert_eq!(
            error("Debug.explain(ctx)"),
            "unsupported construct [Debug.explain] at 1:1"
        );
        assert_eq!(
            error("java.util.Collections.sort(ctx.a)"),
            "unsupported construct [java.util.Collections.sort] at 1:1"
        );
        assert_eq!(
            error("def f(x) { return x } f(1)"),
            "unsupported construct [type x] at 1:7"
        );
        assert_eq!(
            error("ctx.a = ctx.b & 1"),
            "unsupported construct [bitwise operator &] at 1:15"
        );
        assert_eq!(
            error("ctx.a ==~ /x/"),
            "unsupported construct [regex operator ==~] at 1:7"
        );
        assert_eq!(
            error("Math.random()"),
            "unsupported construct [Math.random] at 1:1"
        );
        assert_eq!(
            error("try { ctx.a = 1 } catch (Exception e) {} finally {}"),
            "unsupported construct [finally] at 1:42"
        );
        assert_eq!(
            error("new String[2]"),
            "unsupported construct [new String[] at 1:1"
        );
    }

    #[test]
    fn reports_unexpected_tokens_and_names() {
        assert_eq!(error("ctx.a == "), "unexpected token [<EOF>] at 1:10");
        assert_eq!(
            error("ctx.a = 1 ctx.b = 2"),
            "unexpected token [ctx] at 1:11"
        );
        assert_eq!(error("if (ctx.a { }"), "unexpected token [{] at 1:11");
        assert_eq!(error("x = 1"), "cannot resolve symbol [x] at 1:1");
        assert_eq!(
            error("def x = 1; def x = 2"),
            "variable [x] is already defined at 1:16"
        );
        assert_eq!(error("break"), "[break] outside of a loop at 1:1");
        assert_eq!(error("1 = 2"), "invalid assignment target at 1:3");
        assert_eq!(
            error("int x = 2147483648"),
            "invalid int constant [2147483648] at 1:9"
        );
        assert_eq!(error("ctx.a)"), "unexpected token [)] at 1:6");
    }

    #[test]
    fn the_final_expression_is_the_result() {
        let program = parse("def a = 1; a == 1").unwrap();
        assert!(matches!(
            program.statements.last(),
            Some(Statement::Return(Some(_)))
        ));
        let program = parse("ctx.a = 1;").unwrap();
        assert!(matches!(
            program.statements.last(),
            Some(Statement::Return(Some(_)))
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let parentheses = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(error(&parentheses).contains("nested too deeply"));
        let blocks = format!("{}{}", "{".repeat(100_000), "}".repeat(100_000));
        assert!(error(&blocks).contains("nested too deeply"));
        let negations = format!("{}true", "!".repeat(100_000));
        assert!(error(&negations).contains("nested too deeply"));
        let sum = format!("1{}", " + 1".repeat(100_000));
        assert!(error(&sum).contains("nested too deeply"));
        let chain = format!("ctx{}", ".a".repeat(100_000));
        assert!(error(&chain).contains("nested too deeply"));
        let lists = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(error(&lists).contains("nested too deeply"));
        let conditionals = "true ? 1 : ".repeat(100_000) + "1";
        assert!(error(&conditionals).contains("nested too deeply"));
    }
}
