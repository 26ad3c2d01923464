//! The filter and PATCH path parser: a recursive descent over bytes, lenient where Entra is
//! (any-case operators and literals, unquoted values, `emails[type eq "work"].value eq "x"`),
//! with byte offsets in its errors and bounds on nesting and length.

use std::fmt;

use serde_json::Value;

use super::Filter;
use crate::scim::path::AttrPath;

/// Longest chain of comparisons and deepest nesting a filter may have (guards the stack).
const MAX_TERMS: usize = 1000;
const MAX_DEPTH: usize = 64;

/// A comparison operator (RFC 7644 section 3.4.2.2, table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::urn;
    use serde_json::json;

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
}
