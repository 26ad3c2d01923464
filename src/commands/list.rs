//! `scimcheck list`: the built-in checks, and the parity tables.

use colored::Colorize;

use crate::cli::ListArgs;
use crate::exit;

/// `scimcheck list`.
pub(super) fn list(args: ListArgs) -> i32 {
    if args.validator {
        return list_validator();
    }
    if args.logic_app {
        return list_logic_app();
    }
    for l in crate::scenario::builtin() {
        let s = &l.scenario;
        println!("{}  {}  [{}]", l.id.bold(), s.name, s.tags.join(", "));
        if !s.description.is_empty() {
            println!("    {}", s.description);
        }
        for step in &s.steps {
            let step = &step.value;
            let id = crate::scenario::check_id(&l.id, step);
            let class = format!("[{}]", step.evidence.as_str());
            match &step.proves {
                Some(p) => println!("    {id}  {class:<11} {}", p.dimmed()),
                None => println!("    {id}  {class}"),
            }
        }
    }
    exit::OK
}

/// `scimcheck list --validator`: the parity table.
pub(super) fn list_validator() -> i32 {
    let parity = crate::scenario::parity::validator_parity();
    for (title, rows) in [
        ("Mandatory", &parity.mandatory),
        ("Preview", &parity.preview),
    ] {
        println!(
            "{}",
            format!(
                "{title} tests of Microsoft's SCIM Validator ({})",
                rows.len()
            )
            .bold()
        );
        let width = rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0);
        for r in rows {
            println!("  {:<width$}  {}", r.name, r.checks.join(", "));
        }
        println!();
    }
    exit::OK
}

/// `scimcheck list --logic-app`: the Logic App table, with the gaps named.
pub(super) fn list_logic_app() -> i32 {
    let parity = crate::scenario::parity::logic_app_parity();
    let rows = &parity.tests;
    println!(
        "{}",
        format!(
            "Tests of Microsoft's SCIM Validation Logic App ({})",
            rows.len()
        )
        .bold()
    );
    let width = rows
        .iter()
        .map(|r| r.name.chars().count() + r.category.len() + 3)
        .max()
        .unwrap_or(0);
    for r in rows {
        let label = format!("{} ({})", r.name, r.category);
        let checks = if r.checks.is_empty() {
            "-".to_string()
        } else {
            r.checks.join(", ")
        };
        println!("  {label:<width$}  {checks}");
        if let Some(gap) = &r.gap {
            println!("  {:<width$}  {} {gap}", "", "gap:".yellow());
        }
    }
    let uncovered: Vec<&str> = rows
        .iter()
        .filter(|r| r.checks.is_empty())
        .map(|r| r.name.as_str())
        .collect();
    let partial = rows
        .iter()
        .filter(|r| !r.checks.is_empty() && r.gap.is_some())
        .count();
    println!();
    println!(
        "{} covered, {partial} of them partly; not covered: {}",
        rows.len() - uncovered.len(),
        if uncovered.is_empty() {
            "none".to_string()
        } else {
            uncovered.join(", ")
        }
    );
    exit::OK
}
