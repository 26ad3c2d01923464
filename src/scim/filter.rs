//! SCIM filters (RFC 7644 section 3.4.2.2) and PATCH paths (section 3.5.2), parsed leniently the
//! way Microsoft Entra ID writes them (`EQ`, unquoted `externalId eq jyoung`,
//! `emails[type eq "work"].value eq "x"`), and evaluated against JSON resources.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::json::{first_ci, get_ci};
use super::path::AttrPath;
use super::schema::{AttrType, Attribute, SchemaSet};

/// Longest chain of comparisons and deepest nesting a filter may have (guards the stack).
const MAX_TERMS: usize = 1000;
const MAX_DEPTH: usize = 64;

/// A comparison operator (RFC 7644 section 3.4.2.2, table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// Parses an operator name case-insensitively (`eq`, `EQ`, `Eq`).
    pub fn from_name(name: &str) -> Option<Self> {
        const ALL: [(&str, CompareOp); 9] = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ];
        ALL.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, op)| *op)
    }

    /// The lowercase operator name, as written in a filter.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed filter expression. Inside a value path, attribute paths are relative to the element.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`, e.g. `userName eq "bjensen"`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    /// `path pr`.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `emails[type eq "work"]` or, with `sub`, Entra's `emails[type eq "work"].value eq "x"`:
    /// some element matches `filter` (and its `sub` attribute compares true).
    /// `emails[type eq "work"].value pr` parses as `emails[type eq "work" and value pr]`.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
        sub: Option<(String, CompareOp, Value)>,
    },
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_filter(s)
    }
}

impl fmt::Display for Filter {
    /// Renders the canonical form (quoted strings, lowercase operators); it parses back equal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grouped = |f: &mut fmt::Formatter<'_>, inner: &Filter, group: bool| {
            if group {
                write!(f, "({inner})")
            } else {
                write!(f, "{inner}")
            }
        };
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(a, b) => {
                grouped(f, a, matches!(**a, Filter::Or(..)))?;
                f.write_str(" and ")?;
                grouped(f, b, matches!(**b, Filter::Or(..) | Filter::And(..)))
            }
            Filter::Or(a, b) => {
                write!(f, "{a} or ")?;
                grouped(f, b, matches!(**b, Filter::Or(..)))
            }
            Filter::Not(a) => write!(f, "not ({a})"),
            Filter::ValuePath { attr, filter, sub } => {
                write!(f, "{attr}[{filter}]")?;
                match sub {
                    Some((name, op, value)) => write!(f, ".{name} {op} {value}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A syntax error in a filter or PATCH path: byte offset into the input and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    /// Byte offset of the problem in the input.
    pub offset: usize,
    /// What went wrong and what was expected.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for FilterError {}

/// A PATCH `path`: `members[value eq "id"]`, `emails[type eq "work"].value`,
/// `urn:...:User:manager`, `name.givenName` (the sub-attribute goes in `sub`, never in `attr`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute, with optional URN; `attr.sub` is always `None`.
    pub attr: AttrPath,
    /// The value selection filter between brackets, relative to each element.
    pub filter: Option<Filter>,
    /// The sub-attribute after the attribute or after the bracketed filter.
    pub sub: Option<String>,
}

/// Parses a filter expression (the `filter` query parameter, already URL-decoded).
pub fn parse_filter(input: &str) -> Result<Filter, FilterError> {
    let mut p = Parser::new(input);
    let filter = p.parse_or()?;
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error(format!(
            "expected `and`, `or` or the end of the filter, {}",
            p.found()
        )));
    }
    Ok(filter)
}

/// Parses a PATCH operation path (RFC 7644 section 3.5.2 `PATH` rule, plus Entra's forms).
pub fn parse_patch_path(input: &str) -> Result<PatchPath, FilterError> {
    let mut p = Parser::new(input);
    p.skip_ws();
    let (start, token) = p.path_token();
    if token.is_empty() {
        return Err(p.error(format!("expected an attribute name, {}", p.found())));
    }
    let mut attr = AttrPath::parse(token).map_err(|m| FilterError {
        offset: start,
        message: m,
    })?;
    let mut sub = attr.sub.take();
    let mut filter = None;
    if p.peek() == Some(b'[') {
        if sub.is_some() {
            return Err(p.error(format!(
                "a value filter must follow the attribute itself, as in `{}[...]`, not a sub-attribute",
                attr.name
            )));
        }
        let (f, s) = p.value_filter_tail()?;
        filter = Some(f);
        sub = s;
    }
    p.skip_ws();
    if !p.at_end() {
        return Err(p.error(format!(
            "unexpected text after the PATCH path, {}",
            p.found()
        )));
    }
    Ok(PatchPath { attr, filter, sub })
}

/// What `matches` needs besides the resource: schemas (for `caseExact`) and the core schema URN.
pub struct MatchContext<'a> {
    /// Schemas consulted for `caseExact`; may be empty (everything but `id`/`externalId` is then
    /// case-insensitive).
    pub schemas: &'a SchemaSet,
    /// The resource's core schema URN: a path qualified with it means a top-level attribute.
    pub core_urn: &'a str,
    /// Compare every string case-sensitively (a server quirk scimcheck can simulate).
    pub force_case_exact: bool,
}

/// Whether `resource` (a JSON object) satisfies `filter`.
pub fn matches(filter: &Filter, resource: &Value, cx: &MatchContext) -> bool {
    eval(filter, resource, Scope::Root, cx)
}

/// Whether one element of the multi-valued attribute `parent_name` (in the schema `parent_urn`,
/// `None` for the core schema) satisfies a value filter such as the `type eq "work"` of
/// `emails[type eq "work"]`.
pub(crate) fn matches_element(
    filter: &Filter,
    element: &Value,
    parent_urn: Option<&str>,
    parent_name: &str,
    cx: &MatchContext,
) -> bool {
    eval(
        filter,
        element,
        Scope::Element {
            urn: parent_urn,
            name: parent_name,
        },
        cx,
    )
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    terms: usize,
    in_brackets: bool,
}

fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'$' | b':' | b'.')
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'$')
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
            terms: 0,
            in_brackets: false,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn error(&self, message: String) -> FilterError {
        FilterError {
            offset: self.pos,
            message,
        }
    }

    /// Describes what is at the current position, for error messages.
    fn found(&self) -> String {
        let rest = &self.src[self.pos..];
        if rest.is_empty() {
            return "but the input ends there".into();
        }
        let mut chars = rest.chars();
        let first = chars.next().into_iter();
        let token: String = first
            .chain(chars.take_while(|c| !c.is_whitespace()))
            .take(24)
            .collect();
        format!("found `{token}`")
    }

    /// Takes a run of bytes satisfying `pred`, returning its start offset and text.
    fn take_while(&mut self, pred: fn(u8) -> bool) -> (usize, &'a str) {
        let start = self.pos;
        while self.peek().is_some_and(pred) {
            self.pos += 1;
        }
        (start, &self.src[start..self.pos])
    }

    fn path_token(&mut self) -> (usize, &'a str) {
        self.take_while(is_path_char)
    }

    /// Consumes the keyword `kw` (case-insensitive) if it comes next as a whole word.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        let bytes = self.src.as_bytes();
        let end = self.pos + kw.len();
        let word = bytes.get(self.pos..end);
        let boundary = bytes
            .get(end)
            .is_none_or(|&b| b.is_ascii_whitespace() || b == b'(');
        if word.is_some_and(|w| w.eq_ignore_ascii_case(kw.as_bytes())) && boundary {
            self.pos = end;
            true
        } else {
            false
        }
    }

    fn parse_or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_and()?;
        while self.eat_keyword("or") {
            let right = self.parse_and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.parse_unary()?;
        while self.eat_keyword("and") {
            let right = self.parse_unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Filter, FilterError> {
        self.skip_ws();
        if self.depth >= MAX_DEPTH {
            return Err(self.error("the filter is nested too deeply".into()));
        }
        self.depth += 1;
        let result = self.parse_unary_inner();
        self.depth -= 1;
        result
    }

    fn parse_unary_inner(&mut self) -> Result<Filter, FilterError> {
        let start = self.pos;
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let inner = self.parse_or()?;
            self.skip_ws();
            if self.peek() != Some(b')') {
                return Err(self.error(format!(
                    "expected `)` to close the `(` at byte {start}, {}",
                    self.found()
                )));
            }
            self.pos += 1;
            return Ok(inner);
        }
        if self.eat_keyword("not") {
            // `not` is also a legal attribute name: `not eq "x"` compares it.
            self.skip_ws();
            let after = self.pos;
            let (_, word) = self.take_while(|b| b.is_ascii_alphabetic());
            self.pos = after;
            let is_operator =
                CompareOp::from_name(word).is_some() || word.eq_ignore_ascii_case("pr");
            if !is_operator || self.peek() == Some(b'(') {
                return Ok(Filter::Not(Box::new(self.parse_unary()?)));
            }
            self.pos = start;
        }
        self.parse_attr_expr()
    }

    /// `attrPath pr`, `attrPath op value`, or a value path `attr[filter]` (with optional `.sub`).
    fn parse_attr_expr(&mut self) -> Result<Filter, FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.error(format!("the filter has more than {MAX_TERMS} comparisons")));
        }
        let (start, token) = self.path_token();
        if token.is_empty() {
            return Err(self.error(format!(
                "expected an attribute name, `not` or `(`, {}",
                self.found()
            )));
        }
        let path = AttrPath::parse(token).map_err(|m| FilterError {
            offset: start,
            message: m,
        })?;
        self.skip_ws();
        if self.peek() == Some(b'[') {
            if self.in_brackets {
                return Err(self.error("value filters cannot be nested".into()));
            }
            if path.sub.is_some() {
                return Err(self.error(format!(
                    "a value filter must follow the attribute itself, as in `{}[...]`, not a sub-attribute",
                    path.name
                )));
            }
            let (filter, sub) = self.value_filter_tail()?;
            let Some(sub) = sub else {
                return Ok(Filter::ValuePath {
                    attr: path,
                    filter: Box::new(filter),
                    sub: None,
                });
            };
            let sub_path = AttrPath::simple(&sub);
            return Ok(
                match self.parse_operator_and_value(&format!("{token}[...].{sub}"), sub_path)? {
                    Filter::Compare { op, value, .. } => Filter::ValuePath {
                        attr: path,
                        filter: Box::new(filter),
                        sub: Some((sub, op, value)),
                    },
                    present => Filter::ValuePath {
                        attr: path,
                        filter: Box::new(Filter::And(Box::new(filter), Box::new(present))),
                        sub: None,
                    },
                },
            );
        }
        self.parse_operator_and_value(token, path)
    }

    /// After `attr`, at `[`: parses `[filter]` and an optional `.sub`.
    fn value_filter_tail(&mut self) -> Result<(Filter, Option<String>), FilterError> {
        let open = self.pos;
        self.pos += 1;
        self.in_brackets = true;
        let filter = self.parse_or();
        self.in_brackets = false;
        let filter = filter?;
        self.skip_ws();
        if self.peek() != Some(b']') {
            return Err(self.error(format!(
                "expected `]` to close the `[` at byte {open}, {}",
                self.found()
            )));
        }
        self.pos += 1;
        if self.peek() != Some(b'.') {
            return Ok((filter, None));
        }
        self.pos += 1;
        let (start, name) = self.take_while(is_name_char);
        let valid = name
            .as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'$');
        if !valid {
            return Err(FilterError {
                offset: start,
                message: format!("expected a sub-attribute name after `].`, {}", self.found()),
            });
        }
        Ok((filter, Some(name.to_string())))
    }

    fn parse_operator_and_value(
        &mut self,
        shown: &str,
        path: AttrPath,
    ) -> Result<Filter, FilterError> {
        self.skip_ws();
        let op_start = self.pos;
        let (_, word) = self.take_while(|b| b.is_ascii_alphabetic());
        let boundary = self
            .peek()
            .is_none_or(|b| b.is_ascii_whitespace() || b"\"()]".contains(&b));
        if boundary && word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        match CompareOp::from_name(word) {
            Some(op) if boundary => {
                let value = self.parse_value(op)?;
                Ok(Filter::Compare { path, op, value })
            }
            _ => {
                self.pos = op_start;
                Err(self.error(format!(
                    "expected a comparison operator such as `eq` (or `pr`) after `{shown}`, {}",
                    self.found()
                )))
            }
        }
    }

    /// A comparison value: a JSON string, `true`/`false`/`null`, a number, or a bare word
    /// (Entra's `externalId eq jyoung`), which is taken as a string.
    fn parse_value(&mut self, op: CompareOp) -> Result<Value, FilterError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None | Some(b')') | Some(b']') => Err(self.error(format!(
                "expected a value after `{op}`, such as \"text\", 42, true or null, {}",
                self.found()
            ))),
            Some(b'"') => {
                let bytes = self.src.as_bytes();
                let mut i = start + 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    return Err(self.error("unterminated string: missing the closing `\"`".into()));
                }
                self.pos = i + 1;
                serde_json::from_str::<String>(&self.src[start..=i])
                    .map(Value::String)
                    .map_err(|e| FilterError {
                        offset: start,
                        message: format!("invalid string literal: {e}"),
                    })
            }
            Some(_) => {
                let (_, word) =
                    self.take_while(|b| !b.is_ascii_whitespace() && b != b')' && b != b']');
                Ok(bare_value(word))
            }
        }
    }
}

/// Interprets an unquoted value: JSON literals (any case) and numbers, else a string.
fn bare_value(word: &str) -> Value {
    for (name, value) in [
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("null", Value::Null),
    ] {
        if word.eq_ignore_ascii_case(name) {
            return value;
        }
    }
    let numeric = word.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    match numeric.then(|| serde_json::from_str::<Value>(word)) {
        Some(Ok(n @ Value::Number(_))) => n,
        _ => Value::String(word.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Where attribute paths are resolved: the resource itself, or one element of a multi-valued
/// attribute (inside a value filter), identified for schema look-ups.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Root,
    Element { urn: Option<&'a str>, name: &'a str },
}

/// An attribute's value and its schema: `urn` is `None` for the core schema.
struct Resolved<'a> {
    value: &'a Value,
    urn: Option<&'a str>,
    def: Option<&'a Attribute>,
}

fn eval<'a>(filter: &'a Filter, node: &'a Value, scope: Scope<'a>, cx: &MatchContext<'a>) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, node, scope, cx) && eval(b, node, scope, cx),
        Filter::Or(a, b) => eval(a, node, scope, cx) || eval(b, node, scope, cx),
        Filter::Not(a) => !eval(a, node, scope, cx),
        Filter::Present(path) => is_present_at(node, path, scope, cx),
        Filter::Compare { path, op, value } => compare_at(node, path, *op, value, scope, cx),
        Filter::ValuePath { attr, filter, sub } => {
            let Some(found) = resolve(node, attr, scope, cx) else {
                return false;
            };
            let element_scope = Scope::Element {
                urn: found.urn,
                name: &attr.name,
            };
            let check = |element: &'a Value| {
                eval(filter, element, element_scope, cx)
                    && sub.as_ref().is_none_or(|(name, op, value)| {
                        let path = AttrPath::simple(name);
                        compare_at(element, &path, *op, value, element_scope, cx)
                    })
            };
            match found.value {
                Value::Array(items) => items.iter().any(check),
                other => check(other),
            }
        }
    }
}

/// Finds the attribute `path.name` (ignoring `path.sub`) from `node` in `scope`.
fn resolve<'a>(
    node: &'a Value,
    path: &'a AttrPath,
    scope: Scope<'a>,
    cx: &MatchContext<'a>,
) -> Option<Resolved<'a>> {
    if let Scope::Element { urn, name } = scope {
        let def = attr_def(cx, urn, name).and_then(|d| d.sub_attribute(&path.name));
        let value = match node {
            Value::Object(map) => get_ci(map, &path.name)?,
            // A simple multi-valued attribute's elements are their own `value`.
            scalar if path.name.eq_ignore_ascii_case("value") => scalar,
            _ => return None,
        };
        return Some(Resolved { value, urn, def });
    }
    let map = node.as_object()?;
    let found = match path.urn.as_deref() {
        Some(urn) if !urn.eq_ignore_ascii_case(cx.core_urn) => {
            let (key, ext) = first_ci(map, urn)?;
            Some((get_ci(ext.as_object()?, &path.name)?, Some(key.as_str())))
        }
        explicit_core => match get_ci(map, &path.name) {
            Some(v) if !v.is_null() => Some((v, None)),
            // Entra writes `manager eq "id"`: look inside the extensions too.
            _ if explicit_core.is_none() => map
                .iter()
                .filter(|(k, _)| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")))
                .find_map(|(k, ext)| {
                    Some((get_ci(ext.as_object()?, &path.name)?, Some(k.as_str())))
                }),
            _ => None,
        },
    }?;
    let (value, urn) = found;
    Some(Resolved {
        value,
        urn,
        def: attr_def(cx, urn, &path.name),
    })
}

fn attr_def<'a>(cx: &MatchContext<'a>, urn: Option<&str>, name: &str) -> Option<&'a Attribute> {
    cx.schemas.get(urn.unwrap_or(cx.core_urn))?.attribute(name)
}

/// Whether strings of the compared attribute are case-sensitive. The compared attribute is
/// `sub` of `def`, or `def` itself, or its `value` sub-attribute when `def` is complex.
fn case_exact(cx: &MatchContext, found: &Resolved, path: &AttrPath, scope: Scope) -> bool {
    if cx.force_case_exact {
        return true;
    }
    let compared = match (&path.sub, found.def) {
        (Some(sub), Some(def)) => def.sub_attribute(sub),
        (None, Some(def)) if def.kind == AttrType::Complex => def.sub_attribute("value"),
        (_, def) => def,
    };
    match compared {
        Some(attr) => attr.case_exact,
        // RFC 7643 section 3.1: `id` and `externalId` are caseExact, whatever the schema lists.
        None => {
            matches!(scope, Scope::Root)
                && found.urn.is_none()
                && path.sub.is_none()
                && (path.name.eq_ignore_ascii_case("id")
                    || path.name.eq_ignore_ascii_case("externalId"))
        }
    }
}

/// The leaf values a path designates: `sub` of the object (of each element), or the element
/// itself, or a complex value's `value` sub-attribute.
fn any_leaf<'a>(
    value: &'a Value,
    sub: Option<&str>,
    test: &mut dyn FnMut(&'a Value) -> bool,
) -> bool {
    let leaf_of = |v: &'a Value| -> Option<&'a Value> {
        match (v, sub) {
            (Value::Object(map), Some(sub)) => get_ci(map, sub),
            (Value::Object(map), None) => get_ci(map, "value"),
            (_, Some(_)) => None,
            (scalar, None) => Some(scalar),
        }
    };
    let mut check = |v: &'a Value| match leaf_of(v) {
        Some(Value::Array(items)) => items.iter().any(&mut *test),
        Some(leaf) => test(leaf),
        None => false,
    };
    match value {
        Value::Array(items) => items.iter().any(check),
        single => check(single),
    }
}

/// `pr`: present, not null, not an empty string, array or object.
fn has_value(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(has_value),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn is_present_at<'a>(
    node: &'a Value,
    path: &'a AttrPath,
    scope: Scope<'a>,
    cx: &MatchContext<'a>,
) -> bool {
    let Some(found) = resolve(node, path, scope, cx) else {
        return false;
    };
    match &path.sub {
        None => has_value(found.value),
        Some(sub) => any_leaf(found.value, Some(sub), &mut |v| has_value(v)),
    }
}

fn compare_at<'a>(
    node: &'a Value,
    path: &'a AttrPath,
    op: CompareOp,
    value: &Value,
    scope: Scope<'a>,
    cx: &MatchContext<'a>,
) -> bool {
    match (op, value) {
        // `eq null` means unassigned; `ne` is the negation of `eq`, also for absent attributes.
        (CompareOp::Eq, Value::Null) => return !is_present_at(node, path, scope, cx),
        (CompareOp::Ne, _) => return !compare_at(node, path, CompareOp::Eq, value, scope, cx),
        _ => {}
    }
    let Some(found) = resolve(node, path, scope, cx) else {
        return false;
    };
    let exact = case_exact(cx, &found, path, scope);
    any_leaf(found.value, path.sub.as_deref(), &mut |leaf| {
        compare_scalar(leaf, op, value, exact)
    })
}

/// Text of a scalar, used to compare strings with numbers or booleans written unquoted.
fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

fn fold(s: &str, exact: bool) -> Cow<'_, str> {
    if exact {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Compares one attribute value with the filter's value (`ne` is handled by the caller).
fn compare_scalar(attr: &Value, op: CompareOp, wanted: &Value, exact: bool) -> bool {
    use CompareOp::*;
    match (attr, wanted) {
        (Value::Number(a), Value::Number(b)) => compare_numbers(a, b).is_some_and(|o| match op {
            Eq => o.is_eq(),
            Gt => o.is_gt(),
            Ge => o.is_ge(),
            Lt => o.is_lt(),
            Le => o.is_le(),
            Ne | Co | Sw | Ew => false,
        }),
        (Value::Bool(a), Value::Bool(b)) => op == Eq && a == b,
        (Value::String(a), Value::String(b)) if matches!(op, Gt | Ge | Lt | Le) => {
            let o = fold(a, exact).as_ref().cmp(fold(b, exact).as_ref());
            match op {
                Gt => o.is_gt(),
                Ge => o.is_ge(),
                Lt => o.is_lt(),
                _ => o.is_le(),
            }
        }
        (Value::String(_), _) | (_, Value::String(_)) => {
            let (Some(a), Some(b)) = (text(attr), text(wanted)) else {
                return false;
            };
            // Only string-to-string comparisons honour caseExact; `True` vs true never does.
            let exact = exact && attr.is_string() && wanted.is_string();
            match op {
                Eq if a.is_ascii() && b.is_ascii() && !exact => a.eq_ignore_ascii_case(&b),
                Eq => fold(&a, exact) == fold(&b, exact),
                Co => fold(&a, exact).contains(fold(&b, exact).as_ref()),
                Sw => fold(&a, exact).starts_with(fold(&b, exact).as_ref()),
                Ew => fold(&a, exact).ends_with(fold(&b, exact).as_ref()),
                Ne | Gt | Ge | Lt | Le => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Attribute, Mutability, Returned, Schema, Uniqueness};
    use crate::scim::urn;
    use serde_json::json;

    fn attr(name: &str, kind: AttrType, case_exact: bool, subs: Vec<Attribute>) -> Attribute {
        Attribute {
            name: name.into(),
            kind,
            multi_valued: false,
            description: String::new(),
            required: false,
            canonical_values: vec![],
            case_exact,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: vec![],
            sub_attributes: subs,
        }
    }

    fn schemas() -> SchemaSet {
        let s = |name: &str, exact: bool| attr(name, AttrType::String, exact, vec![]);
        let user = Schema {
            id: urn::USER.into(),
            name: "User".into(),
            description: String::new(),
            attributes: vec![
                s("id", true),
                s("externalId", true),
                s("userName", false),
                s("title", false),
                attr(
                    "emails",
                    AttrType::Complex,
                    false,
                    vec![s("value", false), s("type", false)],
                ),
                attr(
                    "x509Certificates",
                    AttrType::Complex,
                    false,
                    vec![s("value", true)],
                ),
            ],
        };
        let enterprise = Schema {
            id: urn::ENTERPRISE_USER.into(),
            name: "EnterpriseUser".into(),
            description: String::new(),
            attributes: vec![
                s("employeeNumber", true),
                attr("manager", AttrType::Complex, false, vec![s("value", true)]),
            ],
        };
        SchemaSet {
            schemas: vec![user, enterprise],
        }
    }

    fn user() -> Value {
        json!({
            "schemas": [urn::USER, urn::ENTERPRISE_USER],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "Jyoung",
            "userName": "Bjensen@Example.com",
            "active": true,
            "title": null,
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "x509Certificates": [{"value": "MIIDQzCCAqy"}],
            "meta": {"lastModified": "2011-05-13T04:42:34Z"},
            "loginCount": 42,
            urn::ENTERPRISE_USER: {"employeeNumber": "E7", "manager": {"value": "mgr-1"}}
        })
    }

    fn check_with(filter: &str, resource: &Value, schemas: &SchemaSet, force: bool) -> bool {
        let f = parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        matches(
            &f,
            resource,
            &MatchContext {
                schemas,
                core_urn: urn::USER,
                force_case_exact: force,
            },
        )
    }

    fn check(filter: &str) -> bool {
        check_with(filter, &user(), &schemas(), false)
    }

    fn err(filter: &str) -> FilterError {
        parse_filter(filter).expect_err(filter)
    }

    #[test]
    fn parses_comparison_with_case_insensitive_operator() {
        for text in [
            "userName eq \"bjensen\"",
            "userName EQ \"bjensen\"",
            "userName Eq \"bjensen\"",
        ] {
            assert_eq!(
                parse_filter(text).unwrap(),
                Filter::Compare {
                    path: AttrPath::simple("userName"),
                    op: CompareOp::Eq,
                    value: json!("bjensen")
                }
            );
        }
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        let f = parse_filter("a pr or b pr And not (c pr)").unwrap();
        let p = |n: &str| Box::new(Filter::Present(AttrPath::simple(n)));
        assert_eq!(
            f,
            Filter::Or(
                p("a"),
                Box::new(Filter::And(p("b"), Box::new(Filter::Not(p("c")))))
            )
        );
        let f = parse_filter("(a pr or b pr) AND c pr").unwrap();
        assert_eq!(f, Filter::And(Box::new(Filter::Or(p("a"), p("b"))), p("c")));
    }

    #[test]
    fn parses_literals_numbers_and_escaped_strings() {
        let value = |text: &str| match parse_filter(text).unwrap() {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(value("active eq true"), json!(true));
        assert_eq!(value("active eq False"), json!(false));
        assert_eq!(value("title eq null"), Value::Null);
        assert_eq!(value("loginCount gt 41"), json!(41));
        assert_eq!(value("score le -1.5e2"), json!(-150.0));
        assert_eq!(
            value(r#"displayName eq "a \"quoted\" \\ name \u00e9""#),
            json!("a \"quoted\" \\ name é")
        );
    }

    #[test]
    fn unquoted_bare_values_parse_as_strings() {
        let f = parse_filter("externalId eq jyoung").unwrap();
        assert_eq!(
            f,
            Filter::Compare {
                path: AttrPath::simple("externalId"),
                op: CompareOp::Eq,
                value: json!("jyoung")
            }
        );
        assert!(matches!(
            parse_filter("(externalId eq jyoung)").unwrap(),
            Filter::Compare { .. }
        ));
        assert_eq!(
            parse_filter("employeeId eq 007").unwrap().to_string(),
            "employeeId eq \"007\"",
            "not a JSON number, so a string"
        );
    }

    #[test]
    fn parses_urn_qualified_paths() {
        let f = parse_filter(&format!("{}:employeeNumber eq \"1\"", urn::ENTERPRISE_USER)).unwrap();
        let Filter::Compare { path, .. } = f else {
            panic!()
        };
        assert_eq!(path.urn.as_deref(), Some(urn::ENTERPRISE_USER));
        assert_eq!(path.name, "employeeNumber");
    }

    #[test]
    fn parses_value_paths_and_entra_sub_attribute_form() {
        let f = parse_filter("emails[type eq \"work\" and primary eq true]").unwrap();
        let Filter::ValuePath {
            attr,
            filter,
            sub: None,
        } = f
        else {
            panic!("{f:?}")
        };
        assert_eq!(attr, AttrPath::simple("emails"));
        assert!(matches!(*filter, Filter::And(..)));

        let f = parse_filter("emails[type eq \"work\"].value eq \"x@y.z\"").unwrap();
        let Filter::ValuePath {
            sub: Some((sub, op, value)),
            ..
        } = f
        else {
            panic!()
        };
        assert_eq!(
            (sub.as_str(), op, value),
            ("value", CompareOp::Eq, json!("x@y.z"))
        );
    }

    #[test]
    fn value_path_sub_attribute_presence_folds_into_the_filter() {
        let f = parse_filter("emails[type eq \"work\"].value pr").unwrap();
        assert_eq!(
            f,
            parse_filter("emails[type eq \"work\" and value pr]").unwrap()
        );
    }

    #[test]
    fn not_can_still_be_an_attribute_name() {
        assert!(matches!(
            parse_filter("not eq \"x\"").unwrap(),
            Filter::Compare { .. }
        ));
        assert!(matches!(parse_filter("not(a pr)").unwrap(), Filter::Not(_)));
        assert!(matches!(parse_filter("NOT a pr").unwrap(), Filter::Not(_)));
    }

    #[test]
    fn display_renders_a_filter_that_parses_back_equal() {
        for text in [
            "userName eq \"bjensen\"",
            "a pr or b pr and not (c ne 3)",
            "(a pr or b pr) and c gt 1.5",
            "emails[type eq \"work\" and primary eq true].value co \"@\"",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"",
            "a pr and (b pr and c pr)",
        ] {
            let f = parse_filter(text).unwrap();
            assert_eq!(parse_filter(&f.to_string()).unwrap(), f, "{text} -> {f}");
        }
        assert_eq!(parse_filter("x EQ jy").unwrap().to_string(), "x eq \"jy\"");
    }

    #[test]
    fn missing_operator_error_names_the_attribute_and_offset() {
        let e = err("userName \"bjensen\"");
        assert_eq!(e.offset, 9);
        assert!(
            e.message
                .contains("expected a comparison operator such as `eq`"),
            "{e}"
        );
        assert!(e.message.contains("after `userName`"), "{e}");
        let e = err("userName equals \"x\"");
        assert_eq!(e.offset, 9);
        assert!(e.message.contains("found `equals`"), "{e}");
        assert!(err("userName").message.contains("ends there"));
    }

    #[test]
    fn syntax_errors_report_offsets() {
        assert_eq!(err("").offset, 0);
        let e = err("userName eq");
        assert_eq!(e.offset, 11);
        assert!(e.message.contains("expected a value after `eq`"), "{e}");
        let e = err("userName eq \"abc");
        assert_eq!(e.offset, 12);
        assert!(e.message.contains("unterminated"), "{e}");
        let e = err("(userName eq \"x\"");
        assert!(e.message.contains("expected `)`"), "{e}");
        assert_eq!(e.offset, 16);
        let e = err("emails[type eq \"work\"");
        assert!(e.message.contains("expected `]`"), "{e}");
        let e = err("userName eq \"x\" \"y\"");
        assert_eq!(e.offset, 16);
        assert!(e.message.contains("expected `and`, `or`"), "{e}");
        assert!(
            err("userName eq \"x\" and")
                .message
                .contains("expected an attribute name")
        );
        assert!(err("emails[a[b pr]]").message.contains("nested"));
        assert!(err("name.givenName[x pr]").message.contains("value filter"));
        assert!(
            err("1abc eq 1")
                .message
                .contains("not a valid attribute name")
        );
        assert!(
            err(r#"a eq "\q""#)
                .message
                .contains("invalid string literal")
        );
    }

    #[test]
    fn deep_nesting_and_huge_filters_are_rejected_not_overflowing() {
        let deep = format!("{}a pr{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(err(&deep).message.contains("nested too deeply"));
        let long = vec!["a pr"; 5000].join(" and ");
        assert!(err(&long).message.contains("more than"));
        assert!(
            err(&"not ".repeat(10_000))
                .message
                .contains("nested too deeply")
        );
    }

    #[test]
    fn malformed_input_never_panics() {
        let samples = [
            "emails[type eq \"work\" and primary eq true].value eq \"x\\\"y\" or not (a pr)",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq \"é\"",
            "a eq \u{a0}b é\u{3000}( [ ] ) \" \\",
        ];
        for sample in samples {
            for (i, _) in sample.char_indices() {
                let _ = parse_filter(&sample[..i]);
                let _ = parse_filter(&sample[i..]);
                let _ = parse_patch_path(&sample[..i]);
            }
        }
    }

    #[test]
    fn string_equality_is_case_insensitive_by_default() {
        assert!(check("userName eq \"bjensen@example.com\""));
        assert!(check("USERNAME eq \"BJENSEN@EXAMPLE.COM\""));
        assert!(!check("userName eq \"bjensen\""));
        assert!(check("name.familyName eq \"jensen\""));
    }

    #[test]
    fn case_exact_attributes_compare_exactly() {
        assert!(check("externalId eq \"Jyoung\""));
        assert!(!check("externalId eq \"jyoung\""));
        assert!(!check("externalId eq jyoung"));
        assert!(!check("id eq \"2819C223-7F76-453A-919D-413861904646\""));
        assert!(check("x509Certificates eq \"MIIDQzCCAqy\""));
        assert!(!check("x509Certificates.value eq \"miidqzccaqy\""));
        assert!(!check(&format!(
            "{}:employeeNumber eq \"e7\"",
            urn::ENTERPRISE_USER
        )));
    }

    #[test]
    fn without_schemas_id_and_external_id_stay_case_exact_and_the_rest_is_not() {
        let none = SchemaSet::default();
        assert!(check_with(
            "userName eq \"BJENSEN@example.com\"",
            &user(),
            &none,
            false
        ));
        assert!(!check_with(
            "externalId eq \"jyoung\"",
            &user(),
            &none,
            false
        ));
        assert!(check_with(
            "externalId eq \"Jyoung\"",
            &user(),
            &none,
            false
        ));
    }

    #[test]
    fn force_case_exact_makes_every_string_comparison_exact() {
        assert!(!check_with(
            "userName eq \"bjensen@example.com\"",
            &user(),
            &schemas(),
            true
        ));
        assert!(check_with(
            "userName eq \"Bjensen@Example.com\"",
            &user(),
            &schemas(),
            true
        ));
    }

    #[test]
    fn unicode_strings_fold_case() {
        let r = json!({"displayName": "ÉLODIE"});
        assert!(check_with(
            "displayName eq \"élodie\"",
            &r,
            &schemas(),
            false
        ));
        assert!(check_with("displayName sw \"él\"", &r, &schemas(), false));
    }

    #[test]
    fn substring_operators() {
        assert!(check("userName co \"JENSEN@\""));
        assert!(check("userName sw \"bjen\""));
        assert!(check("userName ew \".COM\""));
        assert!(!check("userName sw \"jensen\""));
        assert!(!check("externalId co \"young\" and externalId co \"jy\""));
    }

    #[test]
    fn ordering_compares_numbers_numerically_and_strings_lexicographically() {
        assert!(check("loginCount gt 9"));
        assert!(check("loginCount ge 42 and loginCount le 42.0"));
        assert!(!check("loginCount lt 42"));
        assert!(check("meta.lastModified gt \"2011-05-13T04:42:33Z\""));
        assert!(!check("meta.lastModified lt \"2011-01-01T00:00:00Z\""));
        assert!(!check("active gt false"), "booleans have no order");
        assert!(!check("loginCount gt \"1\""), "no ordering across types");
    }

    #[test]
    fn booleans_and_numbers_compare_with_their_unquoted_or_quoted_forms() {
        assert!(check("active eq true"));
        assert!(check("active eq True"));
        assert!(!check("active eq false"));
        assert!(check("active eq \"True\""));
        assert!(check("loginCount eq \"42\""));
    }

    #[test]
    fn presence_ignores_null_and_empty_values() {
        assert!(check("userName pr"));
        assert!(!check("title pr"));
        assert!(!check("nickName pr"));
        assert!(check("emails pr"));
        assert!(check("emails.type pr"));
        assert!(!check("emails.display pr"));
        let r = json!({"roles": [], "nickName": "", "addresses": {}});
        for f in ["roles pr", "nickName pr", "addresses pr"] {
            assert!(!check_with(f, &r, &schemas(), false), "{f}");
        }
    }

    #[test]
    fn eq_null_means_unassigned_and_ne_is_the_negation_of_eq() {
        assert!(check("title eq null"));
        assert!(check("nickName eq null"));
        assert!(!check("userName eq null"));
        assert!(check("userName ne null"));
        assert!(check("nickName ne \"x\""));
        assert!(!check("userName ne \"BJENSEN@example.com\""));
    }

    #[test]
    fn multi_valued_attributes_match_if_any_element_matches() {
        assert!(check("emails eq \"babs@jensen.org\""));
        assert!(check("emails.value eq \"BJENSEN@example.com\""));
        assert!(check("emails.type eq \"home\""));
        assert!(!check("emails.value eq \"nobody@example.com\""));
        assert!(check(
            "schemas eq \"urn:ietf:params:scim:schemas:core:2.0:User\""
        ));
    }

    #[test]
    fn value_filters_select_elements() {
        assert!(check(
            "emails[type eq \"work\" and value co \"@example.com\"]"
        ));
        assert!(!check(
            "emails[type eq \"home\" and value co \"@example.com\"]"
        ));
        assert!(check("emails[type eq \"work\" and primary eq true]"));
        assert!(check(
            "emails[type eq \"work\"].value eq \"bjensen@example.com\""
        ));
        assert!(!check(
            "emails[type eq \"home\"].value eq \"bjensen@example.com\""
        ));
        assert!(check(
            "emails[type eq \"home\"].value ne \"bjensen@example.com\""
        ));
        assert!(check("emails[not (type eq \"work\")]"));
        assert!(!check("addresses[type eq \"work\"]"));
        assert!(check(
            "schemas[value sw \"urn:ietf:params:scim:schemas:extension\"]"
        ));
    }

    #[test]
    fn urn_qualified_paths_look_inside_the_extension_and_core_urn_means_top_level() {
        let e = urn::ENTERPRISE_USER;
        assert!(check(&format!("{e}:employeeNumber eq \"E7\"")));
        assert!(check(&format!(
            "{}:employeeNumber eq \"E7\"",
            e.to_uppercase()
        )));
        assert!(check(&format!("{e}:manager.value eq \"mgr-1\"")));
        assert!(check(&format!(
            "{}:userName eq \"bjensen@example.com\"",
            urn::USER
        )));
        assert!(!check(&format!("{}:employeeNumber eq \"E7\"", urn::USER)));
        assert!(!check("urn:example:other:2.0:User:employeeNumber pr"));
    }

    #[test]
    fn bare_names_are_also_found_inside_extensions() {
        assert!(check("manager eq \"mgr-1\""));
        assert!(
            !check("manager eq \"MGR-1\""),
            "manager.value is caseExact in the extension schema"
        );
        assert!(check("employeeNumber eq \"E7\""));
        assert!(check(
            "id eq \"2819c223-7f76-453a-919d-413861904646\" and manager eq \"mgr-1\""
        ));
    }

    #[test]
    fn entra_match_filters() {
        assert!(check("userName eq \"bjensen@example.com\""));
        assert!(check("externalId eq \"Jyoung\""));
        assert!(check(
            "emails[type eq \"work\"].value eq \"bjensen@example.com\""
        ));
        assert!(!check(
            "userName eq \"8c2b7a9e-1d3f-4c6b-9a1e-2f3d4c5b6a7e\""
        ));
    }

    #[test]
    fn logical_operators_combine() {
        assert!(check("userName pr and (title pr or active eq true)"));
        assert!(!check("not (userName pr)"));
        assert!(check("nickName pr or not (nickName pr)"));
    }

    #[test]
    fn parses_patch_paths() {
        let p = parse_patch_path("members[value eq \"2819c223\"]").unwrap();
        assert_eq!(p.attr, AttrPath::simple("members"));
        assert!(p.filter.is_some() && p.sub.is_none());

        let p = parse_patch_path("emails[type eq \"work\"].value").unwrap();
        assert_eq!(
            (p.attr.name.as_str(), p.sub.as_deref()),
            ("emails", Some("value"))
        );

        let p = parse_patch_path(&format!("{}:manager", urn::ENTERPRISE_USER)).unwrap();
        assert_eq!(p.attr.urn.as_deref(), Some(urn::ENTERPRISE_USER));
        assert_eq!(
            (p.attr.name.as_str(), p.sub, p.filter),
            ("manager", None, None)
        );

        let p = parse_patch_path("name.givenName").unwrap();
        assert_eq!(p.attr, AttrPath::simple("name"));
        assert_eq!(p.sub.as_deref(), Some("givenName"));
    }

    #[test]
    fn patch_path_errors() {
        assert!(parse_patch_path("").is_err());
        assert!(
            parse_patch_path("members[value eq \"x\"")
                .unwrap_err()
                .message
                .contains("`]`")
        );
        assert!(
            parse_patch_path("members[value eq]")
                .unwrap_err()
                .message
                .contains("value after `eq`")
        );
        let e = parse_patch_path("emails[type eq \"work\"].").unwrap_err();
        assert!(e.message.contains("sub-attribute"), "{e}");
        let e = parse_patch_path("displayName extra").unwrap_err();
        assert_eq!(e.offset, 12);
        assert!(parse_patch_path("name.givenName[x pr]").is_err());
        assert!(parse_patch_path("emails[type eq \"work\"]x").is_err());
    }

    #[test]
    fn matches_element_uses_the_parent_schema() {
        let cx = MatchContext {
            schemas: &schemas(),
            core_urn: urn::USER,
            force_case_exact: false,
        };
        let f = parse_filter("value eq \"MGR-1\"").unwrap();
        let element = json!({"value": "mgr-1"});
        assert!(!matches_element(
            &f,
            &element,
            Some(urn::ENTERPRISE_USER),
            "manager",
            &cx
        ));
        assert!(matches_element(&f, &element, None, "members", &cx));
    }
}
