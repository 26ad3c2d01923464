//! One model of "a thing found wrong" for `connect` and `discover`: a [`Finding`] with a
//! [`Code`] from the [catalogue](Code), a [`Severity`], the wording of this case and its fix.
//! What a finding is *about* differs per command (probes and the Entra message for `connect`,
//! a discovery endpoint for `discover`): that is its context `C`, and each command's JSON shape
//! of a finding is written next to its context.

mod catalogue;

use serde::Serialize;

pub use catalogue::{Code, Fix};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something that breaks (Entra's Test Connection, a discovery document).
    Error,
    /// Something Entra tolerates but that breaks other clients or later steps.
    Warning,
    /// A fact worth knowing.
    Info,
}

/// One diagnosis: a stable code, what is wrong in this case, the supporting facts and the fix,
/// with the command's context `C`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<C> {
    /// The entry in the catalogue.
    pub code: Code,
    /// How serious it is.
    pub severity: Severity,
    /// One line: what is wrong.
    pub title: String,
    /// Supporting facts (examples, evidence quoted).
    pub details: Vec<String>,
    /// What to change.
    pub fix: String,
    /// What the finding is about, per command.
    pub context: C,
}

impl<C> Finding<C> {
    /// A finding of `code` with the catalogue's fix (fill in a [`Fix::Varies`] one with
    /// [`Finding::fix`]).
    pub fn new(code: Code, severity: Severity, title: impl Into<String>, context: C) -> Self {
        Finding {
            code,
            severity,
            title: title.into(),
            details: vec![],
            fix: match code.fix() {
                Fix::Always(text) => text.to_string(),
                Fix::Varies => String::new(),
            },
            context,
        }
    }

    /// The fix of this case, for a code whose fix varies.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        debug_assert!(
            code_fix_varies(self.code),
            "{} has one fix, in the catalogue",
            self.code
        );
        self.fix = fix.into();
        self
    }

    /// One more supporting fact.
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.details.push(d.into());
        self
    }

    /// More supporting facts.
    pub fn details(mut self, d: impl IntoIterator<Item = String>) -> Self {
        self.details.extend(d);
        self
    }
}

fn code_fix_varies(code: Code) -> bool {
    matches!(code.fix(), Fix::Varies)
}
