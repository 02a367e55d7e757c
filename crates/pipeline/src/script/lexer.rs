//! Tokens of the Painless subset, each with the line and column it starts at.
//!
//! Painless's lexer is context-sensitive in one place, and so is this one: a `/` where an
//! operand is expected starts a regex literal (`/fo+/i`), anywhere else it divides. The regex
//! is read as one token so that the parser can refuse it by name instead of tripping over the
//! quotes or brackets inside it.

use std::fmt;

use super::ScriptError;

/// Where a token starts: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Position {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A name or keyword; the parser tells them apart.
    Identifier,
    /// An integer literal: its digits (no prefix), radix and whether it ends in `L`.
    Integer {
        digits: String,
        radix: u32,
        long: bool,
    },
    /// A floating point literal (`1.5`, `2e3`, `1d`, `1f`).
    Decimal(f64),
    /// A string literal, escapes resolved.
    String(String),
    /// A regex literal, refused by the parser.
    Regex,
    /// Punctuation or an operator, as written.
    Symbol(&'static str),
    /// The end of the source.
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'s> {
    pub kind: Kind,
    /// The source text of the token.
    pub text: &'s str,
    /// The byte offset of the token in the source.
    pub offset: usize,
    pub at: Position,
}

impl Token<'_> {
    pub fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self.kind, Kind::Symbol(found) if found == symbol)
    }

    pub fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Identifier && self.text == word
    }

    /// The token as messages name it.
    pub fn describe(&self) -> &str {
        match self.kind {
            Kind::End => "<EOF>",
            _ => self.text,
        }
    }
}

/// Operators and punctuation, longest first so that the first match is the longest.
const SYMBOLS: [&str; 59] = [
    ">>>=", "==~", "===", "!==", ">>>", "<<=", ">>=", "==", "!=", "<=", ">=", "&&", "||", "++",
    "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "?.", "?:", "->", "::", "=~", "<<", ">>",
    "(", ")", "[", "]", "{", "}", ".", ",", ";", ":", "?", "=", "<", ">", "!", "~", "+", "-", "*",
    "/", "%", "&", "|", "^", "@", "#", "$", "\\", "`",
];

/// Keywords after which an operand is expected, so that a `/` there starts a regex.
const OPERAND_KEYWORDS: [&str; 7] = ["return", "in", "instanceof", "new", "else", "do", "throw"];

/// Splits `source` into tokens, ending with [`Kind::End`].
pub(crate) fn tokenize(source: &str) -> Result<Vec<Token<'_>>, ScriptError> {
    let mut lexer = Lexer {
        source,
        offset: 0,
        at: Position { line: 1, column: 1 },
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'s> {
    source: &'s str,
    offset: usize,
    at: Position,
    tokens: Vec<Token<'s>>,
}

impl<'s> Lexer<'s> {
    fn rest(&self) -> &'s str {
        &self.source[self.offset..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let next = self.peek()?;
        self.offset += next.len_utf8();
        if next == '\n' {
            self.at.line += 1;
            self.at.column = 1;
        } else {
            self.at.column += 1;
        }
        Some(next)
    }

    fn run(&mut self) -> Result<(), ScriptError> {
        loop {
            self.skip_blanks_and_comments()?;
            let start = self.offset;
            let at = self.at;
            let Some(first) = self.peek() else {
                self.tokens.push(Token {
                    kind: Kind::End,
                    text: "",
                    offset: start,
                    at,
                });
                return Ok(());
            };
            let kind = if first.is_ascii_alphabetic() || first == '_' {
                while self
                    .peek()
                    .is_some_and(|next| next.is_ascii_alphanumeric() || next == '_')
                {
                    self.bump();
                }
                Kind::Identifier
            } else if first.is_ascii_digit()
                || (first == '.' && self.peek_second().is_some_and(|next| next.is_ascii_digit()))
            {
                self.number(at)?
            } else if first == '\'' || first == '"' {
                self.string(first, at)?
            } else if first == '/' && self.operand_expected() {
                self.regex(at)?
            } else {
                let rest = self.rest();
                let Some(symbol) = SYMBOLS.iter().find(|symbol| rest.starts_with(**symbol)) else {
                    return Err(ScriptError::new(
                        format!("unexpected character [{first}]"),
                        at,
                    ));
                };
                for _ in 0..symbol.len() {
                    self.bump();
                }
                Kind::Symbol(symbol)
            };
            self.tokens.push(Token {
                kind,
                text: &self.source[start..self.offset],
                offset: start,
                at,
            });
        }
    }

    fn skip_blanks_and_comments(&mut self) -> Result<(), ScriptError> {
        loop {
            let rest = self.rest();
            if rest.starts_with("//") {
                while self.peek().is_some_and(|next| next != '\n') {
                    self.bump();
                }
            } else if rest.starts_with("/*") {
                let at = self.at;
                self.bump();
                self.bump();
                while !self.rest().starts_with("*/") {
                    if self.bump().is_none() {
                        return Err(ScriptError::new("unterminated comment".to_owned(), at));
                    }
                }
                self.bump();
                self.bump();
            } else if self.peek().is_some_and(char::is_whitespace) {
                self.bump();
            } else {
                return Ok(());
            }
        }
    }

    /// Whether the previous token leaves the parser expecting an operand.
    fn operand_expected(&self) -> bool {
        match self.tokens.last() {
            None => true,
            Some(token) => match &token.kind {
                Kind::Identifier => OPERAND_KEYWORDS.contains(&token.text),
                Kind::Symbol(symbol) => !matches!(*symbol, ")" | "]" | "++" | "--"),
                Kind::Integer { .. } | Kind::Decimal(_) | Kind::String(_) | Kind::Regex => false,
                Kind::End => true,
            },
        }
    }

    fn digits(&mut self, radix: u32) -> &'s str {
        let start = self.offset;
        while self.peek().is_some_and(|next| next.is_digit(radix)) {
            self.bump();
        }
        &self.source[start..self.offset]
    }

    fn number(&mut self, at: Position) -> Result<Kind, ScriptError> {
        let start = self.offset;
        let rest = self.rest();
        if rest.starts_with("0x") || rest.starts_with("0X") {
            self.bump();
            self.bump();
            let digits = self.digits(16).to_owned();
            let long = self.integer_suffix();
            if digits.is_empty() {
                return Err(ScriptError::new("invalid hex constant".to_owned(), at));
            }
            return self.end_of_number(Kind::Integer {
                digits,
                radix: 16,
                long,
            });
        }
        self.digits(10);
        let mut decimal = false;
        if self.peek() == Some('.') && self.peek_second().is_some_and(|next| next.is_ascii_digit())
        {
            decimal = true;
            self.bump();
            self.digits(10);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let exponent = &self.rest()[1..];
            let signed = exponent.starts_with(['+', '-']);
            let digit_at = usize::from(signed);
            if exponent[digit_at..].starts_with(|next: char| next.is_ascii_digit()) {
                decimal = true;
                self.bump();
                if signed {
                    self.bump();
                }
                self.digits(10);
            }
        }
        let body = &self.source[start..self.offset];
        if matches!(self.peek(), Some('f' | 'F' | 'd' | 'D')) {
            self.bump();
            decimal = true;
        }
        if decimal {
            let value: f64 = body
                .parse()
                .map_err(|_| ScriptError::new(format!("invalid decimal constant [{body}]"), at))?;
            return self.end_of_number(Kind::Decimal(value));
        }
        let long = self.integer_suffix();
        // Java reads a leading zero as octal, and so does Painless.
        let (digits, radix) = if body.len() > 1 && body.starts_with('0') {
            if !body.bytes().all(|digit| (b'0'..=b'7').contains(&digit)) {
                return Err(ScriptError::new(
                    format!("invalid octal constant [{body}]"),
                    at,
                ));
            }
            (body[1..].to_owned(), 8)
        } else {
            (body.to_owned(), 10)
        };
        self.end_of_number(Kind::Integer {
            digits,
            radix,
            long,
        })
    }

    fn integer_suffix(&mut self) -> bool {
        if matches!(self.peek(), Some('l' | 'L')) {
            self.bump();
            return true;
        }
        false
    }

    /// A number must not run into a name (`12abc`).
    fn end_of_number(&mut self, kind: Kind) -> Result<Kind, ScriptError> {
        match self.peek() {
            Some(next) if next.is_ascii_alphanumeric() || next == '_' => Err(ScriptError::new(
                format!("unexpected character [{next}]"),
                self.at,
            )),
            _ => Ok(kind),
        }
    }

    fn string(&mut self, quote: char, at: Position) -> Result<Kind, ScriptError> {
        self.bump();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(ScriptError::new("unterminated string".to_owned(), at));
                }
                Some(found) if found == quote => return Ok(Kind::String(text)),
                Some('\\') => {
                    let escape_at = self.at;
                    // Painless itself only knows `\\` and the quote; the control escapes are
                    // accepted too, since refusing them helps nobody.
                    let escaped = match self.bump() {
                        Some('\\') => '\\',
                        Some('\'') => '\'',
                        Some('"') => '"',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some(other) => {
                            return Err(ScriptError::new(
                                format!("invalid escape [\\{other}]"),
                                escape_at,
                            ));
                        }
                        None => {
                            return Err(ScriptError::new("unterminated string".to_owned(), at));
                        }
                    };
                    text.push(escaped);
                }
                Some(other) => text.push(other),
            }
        }
    }

    fn regex(&mut self, at: Position) -> Result<Kind, ScriptError> {
        self.bump();
        loop {
            match self.bump() {
                None | Some('\n') => {
                    return Err(ScriptError::new("unterminated regex".to_owned(), at));
                }
                Some('\\') => {
                    self.bump();
                }
                Some('/') => break,
                Some(_) => {}
            }
        }
        while self.peek().is_some_and(|next| next.is_ascii_alphabetic()) {
            self.bump();
        }
        Ok(Kind::Regex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<Kind> {
        tokenize(source)
            .unwrap()
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let tokens = tokenize("ctx.a\n  == 'é' // done\n/* x */ 1").unwrap();
        let positions: Vec<String> = tokens.iter().map(|token| token.at.to_string()).collect();
        assert_eq!(
            positions,
            ["1:1", "1:4", "1:5", "2:3", "2:6", "3:9", "3:10"]
        );
    }

    #[test]
    fn numbers_of_every_form() {
        assert_eq!(
            kinds("1 2L 0x1F 010 1.5 2e3 .5 1d 3f"),
            [
                Kind::Integer {
                    digits: "1".into(),
                    radix: 10,
                    long: false
                },
                Kind::Integer {
                    digits: "2".into(),
                    radix: 10,
                    long: true
                },
                Kind::Integer {
                    digits: "1F".into(),
                    radix: 16,
                    long: false
                },
                Kind::Integer {
                    digits: "10".into(),
                    radix: 8,
                    long: false
                },
                Kind::Decimal(1.5),
                Kind::Decimal(2000.0),
                Kind::Decimal(0.5),
                Kind::Decimal(1.0),
                Kind::Decimal(3.0),
                Kind::End
            ]
        );
        assert!(tokenize("12abc").is_err());
        assert!(tokenize("09").is_err());
    }

    #[test]
    fn strings_resolve_escapes() {
        assert_eq!(
            kinds(r#"'it\'s' "a \"b\" \\ c""#),
            [
                Kind::String("it's".into()),
                Kind::String("a \"b\" \\ c".into()),
                Kind::End
            ]
        );
        let error = tokenize("x = 'open").unwrap_err();
        assert_eq!(error.reason(), "unterminated string at 1:5");
        let error = tokenize(r"'\q'").unwrap_err();
        assert_eq!(error.reason(), r"invalid escape [\q] at 1:3");
    }

    #[test]
    fn slash_divides_after_an_operand_and_starts_a_regex_elsewhere() {
        assert_eq!(
            kinds("a / b"),
            [
                Kind::Identifier,
                Kind::Symbol("/"),
                Kind::Identifier,
                Kind::End
            ]
        );
        assert_eq!(
            kinds("x =~ /it's [a-z]/i"),
            [Kind::Identifier, Kind::Symbol("=~"), Kind::Regex, Kind::End]
        );
        assert_eq!(kinds("(1) / 2")[3], Kind::Symbol("/"));
    }

    #[test]
    fn longest_operator_wins() {
        assert_eq!(
            kinds("a?.b ?: c ==~ d"),
            [
                Kind::Identifier,
                Kind::Symbol("?."),
                Kind::Identifier,
                Kind::Symbol("?:"),
                Kind::Identifier,
                Kind::Symbol("==~"),
                Kind::Identifier,
                Kind::End
            ]
        );
        let error = tokenize("a ¤ b").unwrap_err();
        assert_eq!(error.reason(), "unexpected character [¤] at 1:3");
        assert!(tokenize("/* never closed").is_err());
    }
}
