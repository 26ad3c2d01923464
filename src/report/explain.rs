//! `scimcheck explain`: an Entra error code's catalogue entry as text, for support engineers
//! who start from the customer's provisioning log.

use std::fmt::Write;

use colored::Colorize;

use crate::entra_error::{Code, Entry};

/// One entry, as a block of labelled lines.
fn block(out: &mut String, e: &Entry) {
    let _ = writeln!(out, "{}", e.code.as_str().bold());
    let mut line = |label: &str, text: &str| {
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("{label}:")
        };
        let _ = writeln!(out, "  {:<12}{text}", label.dimmed());
    };
    line("seen in", e.seen_in);
    line("means", e.means);
    line("reproduced", &format!("by {}", e.reproduced_by));
    if e.checks.is_empty() {
        line("checks", "any check (the response decides)");
    } else {
        line("checks", &e.checks.join(", "));
    }
    line("fix", e.fix);
    for (i, s) in e.sources.iter().enumerate() {
        line(if i == 0 { "sources" } else { "" }, s);
    }
}

/// The entries a query found, best first.
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::new();
    if entries.len() > 1 {
        let _ = writeln!(
            out,
            "{} Entra codes match; the most specific first.\n",
            entries.len()
        );
    }
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        block(&mut out, e);
    }
    out
}

/// Every code, one line each.
pub fn list(codes: &[Code]) -> String {
    let mut out = String::from(
        "Entra error codes scimcheck can reproduce (`scimcheck explain CODE` for one):\n\n",
    );
    for c in codes {
        let _ = writeln!(out, "  {:<66}{}", c.as_str(), c.entry().seen_in.dimmed());
    }
    out
}

/// What `explain` says when nothing matched.
pub fn not_found(query: &str) -> String {
    let mut out = format!(
        "{} no Entra error code or known message in `{}`\n\nKnown codes:\n",
        "error:".red().bold(),
        query.trim()
    );
    for c in Code::ALL {
        let _ = writeln!(out, "  {c}");
    }
    out
}
