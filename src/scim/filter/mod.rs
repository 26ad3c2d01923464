//! SCIM filters (RFC 7644 section 3.4.2.2) and PATCH paths (section 3.5.2), parsed leniently the
//! way Microsoft Entra ID writes them (`EQ`, unquoted `externalId eq jyoung`,
//! `emails[type eq "work"].value eq "x"`), and evaluated against JSON resources.

mod eval;
mod parse;

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::path::AttrPath;

pub(crate) use eval::matches_element;
pub use eval::{MatchContext, matches};
pub use parse::{CompareOp, FilterError, PatchPath, parse_filter, parse_patch_path};

/// A parsed filter expression. Inside a value path, attribute paths are relative to the element.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`, e.g. `userName eq "bjensen"`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The value compared with (a JSON literal; unquoted words are strings).
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
        /// The multi-valued attribute whose elements are selected.
        attr: AttrPath,
        /// The filter each element is matched against.
        filter: Box<Filter>,
        /// Entra's trailing comparison on a sub-attribute of the selected element.
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
