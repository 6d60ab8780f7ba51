//! The audience rule language, e.g.
//! `plan in ["pro", "team"] and signed_up_days_ago < 14 and event("export") >= 1`.
//!
//! Grammar (keywords are case-insensitive; `and` binds tighter than `or`):
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | test
//! test    := operand ( cmp value | ["not"] "in" list | "contains" value
//!                    | "starts" "with" value | "exists" )
//! operand := ident ("." ident)* | "event" "(" string ")"
//!          | "account" "." ident ("." ident)* | "account" "." "event" "(" string ")"
//! cmp     := "=" | "!=" | "<" | "<=" | ">" | ">="
//! value   := string | number | "true" | "false"
//! list    := "[" [value ("," value)*] "]"
//! ```
//! `account.…` reaches the attributes and event counts of the user's active
//! account (B2B: the company they belong to); a user with no account matches
//! no `account.…` test.
//! Rules are parsed on save (errors carry a position) and evaluated server-side.
//! Evaluation is total: a missing attribute or a type mismatch makes a test false,
//! and `!=` / `not in` are the negations of `=` / `in`.

use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

pub const MAX_RULE_BYTES: usize = 4096;
pub const MAX_DEPTH: usize = 32;
pub const MAX_LIST: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test(Test),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A (possibly dotted) attribute path: `plan`, `company.size`.
    Attr(String),
    /// How many times the user tracked an event: `event("export")`.
    Event(String),
    /// An attribute of the user's account: `account.plan`.
    AccountAttr(String),
    /// How many times anyone in the user's account tracked an event: `account.event("sso_connected")`.
    AccountEvent(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Cmp(Operand, CmpOp, Literal),
    In(Operand, bool /* negated */, Vec<Literal>),
    Contains(Operand, Literal),
    StartsWith(Operand, Literal),
    Exists(Operand),
}

/// A parse error with its position (byte offset, and 1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(CmpOp),
    Eof,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(_) => "a string".into(),
        Tok::Num(_) => "a number".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Op(_) => "an operator".into(),
        Tok::Eof => "the end of the rule".into(),
    }
}

impl<'a> Lexer<'a> {
    fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let before = &self.src[..offset.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError {
            offset,
            line,
            column,
            message: message.into(),
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    /// The next token and where it starts.
    fn next(&mut self) -> Result<(Tok, usize), ParseError> {
        while let Some(c) = self.peek_char() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok((Tok::Eof, start));
        };
        let single = |s: &mut Self, t: Tok| {
            s.pos += 1;
            Ok((t, start))
        };
        match c {
            '(' => single(self, Tok::LParen),
            ')' => single(self, Tok::RParen),
            '[' => single(self, Tok::LBracket),
            ']' => single(self, Tok::RBracket),
            ',' => single(self, Tok::Comma),
            '=' => {
                self.pos += 1;
                if self.peek_char() == Some('=') {
                    self.pos += 1; // `==` is accepted as `=`
                }
                Ok((Tok::Op(CmpOp::Eq), start))
            }
            '!' => {
                self.pos += 1;
                if self.peek_char() == Some('=') {
                    self.pos += 1;
                    Ok((Tok::Op(CmpOp::Ne), start))
                } else {
                    Err(self.error(start, "expected `!=`; use `not` for negation"))
                }
            }
            '<' | '>' => {
                self.pos += 1;
                let eq = self.peek_char() == Some('=');
                if eq {
                    self.pos += 1;
                }
                let op = match (c, eq) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Ok((Tok::Op(op), start))
            }
            '"' => self.string(start),
            c if c.is_ascii_digit() || c == '-' || c == '.' => self.number(start),
            c if c.is_ascii_alphabetic() || c == '_' => {
                // Identifiers, with `.` joining path segments (`company.size`).
                let bytes = self.src.as_bytes();
                let mut end = start;
                while end < bytes.len() {
                    let b = bytes[end];
                    let seg_start = |i: usize| {
                        bytes
                            .get(i)
                            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                    };
                    if b.is_ascii_alphanumeric() || b == b'_' || (b == b'.' && seg_start(end + 1)) {
                        end += 1;
                    } else {
                        break;
                    }
                }
                self.pos = end;
                Ok((Tok::Ident(self.src[start..end].to_owned()), start))
            }
            other => Err(self.error(start, format!("unexpected character `{other}`"))),
        }
    }

    fn string(&mut self, start: usize) -> Result<(Tok, usize), ParseError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                return Err(self.error(start, "unterminated string"));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let esc_at = self.pos - 1;
                    let Some(e) = self.peek_char() else {
                        return Err(self.error(start, "unterminated string"));
                    };
                    self.pos += e.len_utf8();
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'u' => {
                            let hex = self.src.get(self.pos..self.pos + 4);
                            let ch = hex
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32);
                            match ch {
                                Some(ch) => {
                                    out.push(ch);
                                    self.pos += 4;
                                }
                                None => {
                                    return Err(
                                        self.error(esc_at, "bad \\u escape (need 4 hex digits)")
                                    )
                                }
                            }
                        }
                        _ => return Err(self.error(esc_at, format!("unknown escape `\\{e}`"))),
                    }
                }
                c => out.push(c),
            }
            if out.len() > 1000 {
                return Err(self.error(start, "string longer than 1000 bytes"));
            }
        }
        Ok((Tok::Str(out), start))
    }

    fn number(&mut self, start: usize) -> Result<(Tok, usize), ParseError> {
        let len = self.src[start..]
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(self.src.len() - start);
        self.pos = start + len;
        let text = &self.src[start..self.pos];
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() && !text.contains("inf") => Ok((Tok::Num(n), start)),
            _ => Err(self.error(start, format!("`{text}` is not a number"))),
        }
    }
}

// ---------------------------------------------------------------- parser

struct Parser<'a> {
    lex: Lexer<'a>,
    tok: Tok,
    at: usize,
    depth: usize,
}

fn kw(t: &Tok, word: &str) -> bool {
    matches!(t, Tok::Ident(s) if s.eq_ignore_ascii_case(word))
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "contains", "starts", "with", "exists", "true", "false",
];

impl<'a> Parser<'a> {
    fn bump(&mut self) -> Result<(), ParseError> {
        let (tok, at) = self.lex.next()?;
        self.tok = tok;
        self.at = at;
        Ok(())
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        self.lex.error(self.at, message)
    }

    fn expected(&self, what: &str) -> ParseError {
        self.err(format!("expected {what}, found {}", describe(&self.tok)))
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!("rule nests deeper than {MAX_DEPTH} levels")));
        }
        let mut left = self.and()?;
        while kw(&self.tok, "or") {
            self.bump()?;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        while kw(&self.tok, "and") {
            self.bump()?;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if kw(&self.tok, "not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.err(format!("rule nests deeper than {MAX_DEPTH} levels")));
            }
            self.bump()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.tok == Tok::LParen {
            self.bump()?;
            let inner = self.expr()?;
            if self.tok != Tok::RParen {
                return Err(self.expected("`)`"));
            }
            self.bump()?;
            return Ok(inner);
        }
        self.test().map(Expr::Test)
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let Tok::Ident(first) = self.tok.clone() else {
            return Err(self.expected("an attribute name or event(\"…\")"));
        };
        if KEYWORDS.iter().any(|k| first.eq_ignore_ascii_case(k)) {
            return Err(self.expected("an attribute name or event(\"…\")"));
        }
        let start = self.at;
        self.bump()?;
        let account = first == "account.event";
        if (first == "event" || account) && self.tok == Tok::LParen {
            self.bump()?;
            let Tok::Str(name) = self.tok.clone() else {
                return Err(self.expected("an event name in quotes"));
            };
            if name.is_empty() || name.len() > 100 {
                return Err(self.err("event names are 1 to 100 bytes"));
            }
            self.bump()?;
            if self.tok != Tok::RParen {
                return Err(self.expected("`)`"));
            }
            self.bump()?;
            return Ok(if account {
                Operand::AccountEvent(name)
            } else {
                Operand::Event(name)
            });
        }
        let path = first;
        if path.len() > 200 {
            return Err(self
                .lex
                .error(start, "attribute paths are at most 200 bytes"));
        }
        Ok(match path.strip_prefix("account.") {
            Some(rest) => Operand::AccountAttr(rest.to_owned()),
            None => Operand::Attr(path),
        })
    }

    fn literal(&mut self) -> Result<Literal, ParseError> {
        let lit = match &self.tok {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Num(n) => Literal::Num(*n),
            t if kw(t, "true") => Literal::Bool(true),
            t if kw(t, "false") => Literal::Bool(false),
            _ => return Err(self.expected("a value (a string, a number, true or false)")),
        };
        self.bump()?;
        Ok(lit)
    }

    fn list(&mut self) -> Result<Vec<Literal>, ParseError> {
        if self.tok != Tok::LBracket {
            return Err(self.expected("a list like [\"a\", \"b\"]"));
        }
        self.bump()?;
        let mut items = Vec::new();
        if self.tok == Tok::RBracket {
            self.bump()?;
            return Ok(items);
        }
        loop {
            items.push(self.literal()?);
            if items.len() > MAX_LIST {
                return Err(self.err(format!("lists hold at most {MAX_LIST} values")));
            }
            match self.tok {
                Tok::Comma => self.bump()?,
                Tok::RBracket => {
                    self.bump()?;
                    return Ok(items);
                }
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
    }

    fn test(&mut self) -> Result<Test, ParseError> {
        let operand = self.operand()?;
        match self.tok.clone() {
            Tok::Op(op) => {
                self.bump()?;
                Ok(Test::Cmp(operand, op, self.literal()?))
            }
            t if kw(&t, "in") => {
                self.bump()?;
                Ok(Test::In(operand, false, self.list()?))
            }
            t if kw(&t, "not") => {
                self.bump()?;
                if !kw(&self.tok, "in") {
                    return Err(self.expected("`in` after `not`"));
                }
                self.bump()?;
                Ok(Test::In(operand, true, self.list()?))
            }
            t if kw(&t, "contains") => {
                self.bump()?;
                Ok(Test::Contains(operand, self.literal()?))
            }
            t if kw(&t, "starts") => {
                self.bump()?;
                if !kw(&self.tok, "with") {
                    return Err(self.expected("`with` after `starts`"));
                }
                self.bump()?;
                Ok(Test::StartsWith(operand, self.literal()?))
            }
            t if kw(&t, "exists") => {
                self.bump()?;
                Ok(Test::Exists(operand))
            }
            _ => Err(self.expected(
                "an operator (=, !=, <, <=, >, >=, in, not in, contains, starts with, exists)",
            )),
        }
    }
}

pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let lex = Lexer { src, pos: 0 };
    if src.len() > MAX_RULE_BYTES {
        return Err(lex.error(0, format!("rules are at most {MAX_RULE_BYTES} bytes")));
    }
    let mut p = Parser {
        lex,
        tok: Tok::Eof,
        at: 0,
        depth: 0,
    };
    p.bump()?;
    if p.tok == Tok::Eof {
        return Err(p.err("the rule is empty"));
    }
    let e = p.expr()?;
    if p.tok != Tok::Eof {
        return Err(p.expected("`and`, `or` or the end of the rule"));
    }
    Ok(e)
}

// ---------------------------------------------------------------- printer

fn write_str_lit(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write_str_lit(f, s),
            Literal::Num(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Attr(a) => f.write_str(a),
            Operand::Event(e) => {
                f.write_str("event(")?;
                write_str_lit(f, e)?;
                f.write_str(")")
            }
            Operand::AccountAttr(a) => write!(f, "account.{a}"),
            Operand::AccountEvent(e) => {
                f.write_str("account.event(")?;
                write_str_lit(f, e)?;
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Test::Cmp(o, op, v) => write!(f, "{o} {op} {v}"),
            Test::In(o, negated, vs) => {
                write!(f, "{o} {}in [", if *negated { "not " } else { "" })?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Test::Contains(o, v) => write!(f, "{o} contains {v}"),
            Test::StartsWith(o, v) => write!(f, "{o} starts with {v}"),
            Test::Exists(o) => write!(f, "{o} exists"),
        }
    }
}

fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Not(..) | Expr::Test(..) => 3,
    }
}

fn write_child(f: &mut fmt::Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Expr {
    /// Canonical text: `parse(&e.to_string()) == Ok(e)` for every valid rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Or(l, r) | Expr::And(l, r) => {
                let p = prec(self);
                // Left-associative: a right child of the same precedence needs parentheses.
                write_child(f, l, prec(l) < p)?;
                f.write_str(if p == 1 { " or " } else { " and " })?;
                write_child(f, r, prec(r) <= p)
            }
            Expr::Not(inner) => {
                f.write_str("not ")?;
                write_child(f, inner, prec(inner) < 3)
            }
            Expr::Test(t) => write!(f, "{t}"),
        }
    }
}

// ---------------------------------------------------------------- evaluation

fn count<'a>(counts: &HashMap<String, u64>, name: &str) -> Cow<'a, Json> {
    Cow::Owned(Json::from(counts.get(name).copied().unwrap_or(0)))
}

/// What a rule is evaluated against: the end user's attributes, their tracked
/// event counts, and the time (for `*_days_ago` attributes derived from `*_at`).
pub struct Subject<'a> {
    pub attributes: &'a serde_json::Map<String, Json>,
    pub event_counts: &'a HashMap<String, u64>,
    pub now_millis: i64,
    /// The user's active account, when they have one.
    pub account: Option<AccountSubject<'a>>,
}

/// An account as rules see it: its attributes and its members' event counts.
#[derive(Clone, Copy)]
pub struct AccountSubject<'a> {
    pub attributes: &'a serde_json::Map<String, Json>,
    pub event_counts: &'a HashMap<String, u64>,
    /// Times each guide (by id) was shown to any member: "once per account".
    pub shown: &'a HashMap<String, u32>,
}

impl Subject<'_> {
    /// The operand's value; borrowed when it is an attribute as stored.
    fn lookup(&self, operand: &Operand) -> Option<Cow<'_, Json>> {
        match operand {
            Operand::Event(name) => Some(count(self.event_counts, name)),
            Operand::Attr(path) => self.attribute(self.attributes, path),
            Operand::AccountEvent(name) => self.account.map(|a| count(a.event_counts, name)),
            Operand::AccountAttr(path) => self
                .account
                .and_then(|a| self.attribute(a.attributes, path)),
        }
    }

    fn attribute<'b>(
        &self,
        attributes: &'b serde_json::Map<String, Json>,
        path: &str,
    ) -> Option<Cow<'b, Json>> {
        let mut cur: Option<&Json> = None;
        for (i, seg) in path.split('.').enumerate() {
            cur = if i == 0 {
                attributes.get(seg)
            } else {
                cur.and_then(|c| c.get(seg))
            };
        }
        match cur {
            Some(Json::Null) | None => self.derived_days_ago(attributes, path).map(Cow::Owned),
            Some(v) => Some(Cow::Borrowed(v)),
        }
    }

    /// `signed_up_days_ago` from `signed_up_at` (RFC 3339, or Unix seconds).
    fn derived_days_ago(
        &self,
        attributes: &serde_json::Map<String, Json>,
        path: &str,
    ) -> Option<Json> {
        let base = path.strip_suffix("_days_ago")?;
        let at = attributes.get(&format!("{base}_at"))?;
        let millis = match at {
            Json::Number(n) => n.as_f64().map(|s| (s * 1000.0) as i64)?,
            Json::String(s) => crate::Timestamp::parse_rfc3339(s)?.millis(),
            _ => return None,
        };
        let days = (self.now_millis - millis).div_euclid(crate::Timestamp::DAY_MS);
        Some(Json::from(days))
    }
}

fn lit_eq(v: &Json, lit: &Literal) -> bool {
    match (v, lit) {
        (Json::String(a), Literal::Str(b)) => a == b,
        (Json::Number(a), Literal::Num(b)) => a.as_f64() == Some(*b),
        (Json::Bool(a), Literal::Bool(b)) => a == b,
        _ => false,
    }
}

fn ordered(v: &Json, op: CmpOp, lit: &Literal) -> bool {
    let ord = match (v, lit) {
        (Json::Number(a), Literal::Num(b)) => a.as_f64().and_then(|a| a.partial_cmp(b)),
        (Json::String(a), Literal::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        CmpOp::Lt => ord.is_lt(),
        CmpOp::Le => ord.is_le(),
        CmpOp::Gt => ord.is_gt(),
        CmpOp::Ge => ord.is_ge(),
        CmpOp::Eq => ord.is_eq(),
        CmpOp::Ne => ord.is_ne(),
    }
}

impl Test {
    fn eval(&self, s: &Subject<'_>) -> bool {
        match self {
            Test::Cmp(o, CmpOp::Eq, lit) => s.lookup(o).is_some_and(|v| lit_eq(&v, lit)),
            Test::Cmp(o, CmpOp::Ne, lit) => !s.lookup(o).is_some_and(|v| lit_eq(&v, lit)),
            Test::Cmp(o, op, lit) => s.lookup(o).is_some_and(|v| ordered(&v, *op, lit)),
            Test::In(o, negated, list) => {
                let hit = s
                    .lookup(o)
                    .is_some_and(|v| list.iter().any(|l| lit_eq(&v, l)));
                hit != *negated
            }
            Test::Contains(o, lit) => match (s.lookup(o).as_deref(), lit) {
                (Some(Json::String(h)), Literal::Str(n)) => h.contains(n.as_str()),
                (Some(Json::Array(items)), lit) => items.iter().any(|i| lit_eq(i, lit)),
                _ => false,
            },
            Test::StartsWith(o, lit) => match (s.lookup(o).as_deref(), lit) {
                (Some(Json::String(h)), Literal::Str(n)) => h.starts_with(n.as_str()),
                _ => false,
            },
            Test::Exists(o) => s.lookup(o).is_some(),
        }
    }
}

impl Expr {
    pub fn eval(&self, s: &Subject<'_>) -> bool {
        match self {
            Expr::Or(l, r) => l.eval(s) || r.eval(s),
            Expr::And(l, r) => l.eval(s) && r.eval(s),
            Expr::Not(e) => !e.eval(s),
            Expr::Test(t) => t.eval(s),
        }
    }

    /// Event names the rule counts for the user, so the caller loads only those counts.
    pub fn events(&self) -> Vec<&str> {
        self.events_of(false)
    }

    /// Event names the rule counts for the user's account.
    pub fn account_events(&self) -> Vec<&str> {
        self.events_of(true)
    }

    /// Whether the rule reads the user's account at all.
    pub fn reads_account(&self) -> bool {
        let mut found = false;
        self.visit(&mut |o| {
            found |= matches!(o, Operand::AccountAttr(_) | Operand::AccountEvent(_))
        });
        found
    }

    fn events_of(&self, account: bool) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |o| match o {
            Operand::Event(name) if !account => out.push(name.as_str()),
            Operand::AccountEvent(name) if account => out.push(name.as_str()),
            _ => {}
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Calls `f` with every operand of the rule.
    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Operand)) {
        match self {
            Expr::Or(l, r) | Expr::And(l, r) => {
                l.visit(f);
                r.visit(f);
            }
            Expr::Not(e) => e.visit(f),
            Expr::Test(t) => {
                let o = match t {
                    Test::Cmp(o, ..)
                    | Test::In(o, ..)
                    | Test::Contains(o, _)
                    | Test::StartsWith(o, _)
                    | Test::Exists(o) => o,
                };
                f(o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn account_operands_read_the_users_account() {
        let rule = parse(r#"account.plan = "team" and account.event("sso_connected") = 0 and event("export") > 0"#).unwrap();
        assert_eq!(rule.events(), ["export"]);
        assert_eq!(rule.account_events(), ["sso_connected"]);
        assert!(rule.reads_account());
        assert!(!parse("plan = \"team\"").unwrap().reads_account());
        assert_eq!(
            rule.to_string(),
            r#"account.plan = "team" and account.event("sso_connected") = 0 and event("export") > 0"#
        );
        let attributes = serde_json::Map::new();
        let counts = HashMap::from([("export".to_owned(), 2u64)]);
        let team: serde_json::Map<String, Json> =
            serde_json::from_str(r#"{"plan": "team", "seats": 12}"#).unwrap();
        let (none, sso) = (
            HashMap::new(),
            HashMap::from([("sso_connected".to_owned(), 1u64)]),
        );
        let with = |account: Option<AccountSubject<'_>>| {
            rule.eval(&Subject {
                attributes: &attributes,
                event_counts: &counts,
                now_millis: 0,
                account,
            })
        };
        assert!(with(Some(AccountSubject {
            attributes: &team,
            event_counts: &none,
            shown: &HashMap::new(),
        })));
        assert!(
            !with(Some(AccountSubject {
                attributes: &team,
                event_counts: &sso,
                shown: &HashMap::new(),
            })),
            "SSO connected"
        );
        assert!(!with(None), "no account: no account test holds");
        // `account` alone is a user attribute like any other.
        assert_eq!(
            parse("account exists").unwrap().to_string(),
            "account exists"
        );
    }
    use serde_json::json;

    fn subject_eval(rule: &str, attrs: Json, events: &[(&str, u64)]) -> bool {
        let Json::Object(attributes) = attrs else {
            panic!()
        };
        let counts: HashMap<String, u64> =
            events.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        let s = Subject {
            attributes: &attributes,
            event_counts: &counts,
            now_millis: 1_700_000_000_000,
            account: None,
        };
        parse(rule).unwrap().eval(&s)
    }

    #[test]
    fn the_spec_example() {
        let rule = r#"plan in ["pro","team"] and signed_up_days_ago < 14 and event("export") >= 1"#;
        let e = parse(rule).unwrap();
        assert_eq!(
            e.to_string(),
            r#"plan in ["pro", "team"] and signed_up_days_ago < 14 and event("export") >= 1"#
        );
        assert_eq!(e.events(), ["export"]);
        assert!(subject_eval(
            rule,
            json!({"plan": "pro", "signed_up_days_ago": 3}),
            &[("export", 2)]
        ));
        assert!(!subject_eval(
            rule,
            json!({"plan": "free", "signed_up_days_ago": 3}),
            &[("export", 2)]
        ));
        assert!(!subject_eval(
            rule,
            json!({"plan": "pro", "signed_up_days_ago": 30}),
            &[("export", 2)]
        ));
        assert!(!subject_eval(
            rule,
            json!({"plan": "pro", "signed_up_days_ago": 3}),
            &[]
        ));
        // Derived from signed_up_at (3 days before "now").
        let at = "2023-11-11T22:13:20Z";
        assert!(subject_eval(
            rule,
            json!({"plan": "team", "signed_up_at": at}),
            &[("export", 1)]
        ));
    }

    #[test]
    fn operators() {
        let a = json!({"plan": "pro", "seats": 5, "beta": true, "email": "ada@acme.io",
                       "tags": ["admin", "eu"], "company": {"size": 250}});
        let cases = [
            (r#"plan = "pro""#, true),
            (r#"plan != "pro""#, false),
            (r#"missing != "pro""#, true),
            (r#"missing = "pro""#, false),
            ("seats > 4 and seats <= 5", true),
            ("seats >= 6", false),
            ("beta = true", true),
            (r#"email contains "@acme""#, true),
            (r#"email starts with "ada""#, true),
            (r#"tags contains "eu""#, true),
            (r#"tags contains "us""#, false),
            ("company.size > 100", true),
            ("company.name exists", false),
            ("not company.name exists", true),
            (r#"plan not in ["free", "trial"]"#, true),
            (r#"missing not in ["free"]"#, true),
            (r#"seats = "5""#, false),
            (r#"plan = "free" or (seats = 5 and not beta = false)"#, true),
            (r#"PLAN_X exists OR plan = "pro""#, true),
        ];
        for (rule, want) in cases {
            assert_eq!(subject_eval(rule, a.clone(), &[]), want, "{rule}");
        }
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("", 1, "empty"),
            ("plan =", 7, "expected a value"),
            ("plan = \"pro\" and", 17, "attribute name"),
            ("plan in \"pro\"", 9, "list"),
            ("(plan = 1", 10, "`)`"),
            ("plan ~ 1", 6, "unexpected character"),
            ("plan = 1 plan = 2", 10, "end of the rule"),
            ("event(export) > 1", 7, "event name"),
            ("plan = \"unterminated", 8, "unterminated"),
            ("and = 1", 1, "attribute name"),
            ("plan starts \"x\"", 13, "`with`"),
            ("x = 1e999", 5, "not a number"),
        ];
        for (rule, column, text) in cases {
            let e = parse(rule).unwrap_err();
            assert_eq!(e.column, column, "{rule}: {e}");
            assert!(e.message.contains(text), "{rule}: {e}");
        }
        let e = parse("plan = 1 and\n  seats >").unwrap_err();
        assert_eq!((e.line, e.column), (2, 10), "{e}");
    }

    #[test]
    fn limits() {
        let deep = format!("{}x = 1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().message.contains("deeper"));
        let nots = format!("{}x = 1", "not ".repeat(40));
        assert!(parse(&nots).unwrap_err().message.contains("deeper"));
        let list = format!("x in [{}]", vec!["1"; 101].join(","));
        assert!(parse(&list).unwrap_err().message.contains("at most"));
        assert!(parse(&"x".repeat(5000)).is_err());
    }

    fn literal() -> impl Strategy<Value = Literal> {
        prop_oneof![
            ".{0,12}".prop_map(Literal::Str),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Literal::Num),
            any::<bool>().prop_map(Literal::Bool),
        ]
    }

    fn operand() -> impl Strategy<Value = Operand> {
        let ident = || {
            "[a-z_][a-z0-9_]{0,8}".prop_filter("not a keyword", |s| {
                !KEYWORDS.contains(&s.as_str()) && s != "event" && s != "account"
            })
        };
        prop_oneof![
            prop::collection::vec(ident(), 1..3).prop_map(|p| Operand::Attr(p.join("."))),
            ".{1,10}".prop_map(Operand::Event),
            prop::collection::vec(ident(), 1..3).prop_map(|p| Operand::AccountAttr(p.join("."))),
            ".{1,10}".prop_map(Operand::AccountEvent),
        ]
    }

    fn test_strategy() -> impl Strategy<Value = Test> {
        let cmp = prop_oneof![
            Just(CmpOp::Eq),
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Gt),
            Just(CmpOp::Ge)
        ];
        prop_oneof![
            (operand(), cmp, literal()).prop_map(|(o, c, l)| Test::Cmp(o, c, l)),
            (
                operand(),
                any::<bool>(),
                prop::collection::vec(literal(), 0..4)
            )
                .prop_map(|(o, n, l)| Test::In(o, n, l)),
            (operand(), literal()).prop_map(|(o, l)| Test::Contains(o, l)),
            (operand(), literal()).prop_map(|(o, l)| Test::StartsWith(o, l)),
            operand().prop_map(Test::Exists),
        ]
    }

    fn expr_strategy() -> impl Strategy<Value = Expr> {
        test_strategy()
            .prop_map(Expr::Test)
            .prop_recursive(5, 24, 2, |inner| {
                prop_oneof![
                    (inner.clone(), inner.clone())
                        .prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
                    (inner.clone(), inner.clone())
                        .prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
                    inner.prop_map(|e| Expr::Not(Box::new(e))),
                ]
            })
    }

    fn json_strategy() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            ".{0,8}".prop_map(Json::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::from),
                prop::collection::hash_map("[a-z_]{1,6}", inner, 0..4)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn print_then_parse_is_identity(e in expr_strategy()) {
            let text = e.to_string();
            prop_assert_eq!(parse(&text), Ok(e), "{}", text);
        }

        #[test]
        fn parse_is_total(s in ".{0,120}") {
            let _ = parse(&s);
        }

        #[test]
        fn evaluation_is_total(e in expr_strategy(), attrs in prop::collection::hash_map("[a-z_]{1,6}", json_strategy(), 0..6), now in any::<i64>()) {
            let attributes: serde_json::Map<String, Json> = attrs.into_iter().collect();
            let counts = HashMap::new();
            let s = Subject { attributes: &attributes, event_counts: &counts, now_millis: now, account: None };
            let _ = e.eval(&s);
        }
    }
}
