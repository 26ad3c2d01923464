//! Renders a `discover` report: what the endpoint says it supports, per schema a table of every
//! attribute exactly as published, then the problems with their fixes; or all of it as JSON.

use std::fmt::Write;

use colored::Colorize;
use serde_json::Value;

use crate::diagnosis::Severity;
use crate::discover::{AttributeInfo, DiscoverReport};
use crate::exit;

/// The report as pretty JSON.
pub fn json(report: &DiscoverReport) -> String {
    crate::report::escape::json_text(serde_json::to_string_pretty(report).unwrap_or_default())
}

/// A copy of the report with every string the server controls (ids, names, URNs, attribute
/// properties, errors, the examples quoted in problems) escaped for a terminal: control
/// characters and escape sequences as visible escapes, each on one line.
fn for_terminal(report: &DiscoverReport) -> DiscoverReport {
    use crate::report::escape::one_line_in_place as esc;
    fn opt(s: &mut Option<String>) {
        s.iter_mut().for_each(esc);
    }
    fn strings(v: &mut Value) {
        match v {
            Value::String(s) => esc(s),
            Value::Array(a) => a.iter_mut().for_each(strings),
            Value::Object(o) => {
                let escaped: serde_json::Map<String, Value> = std::mem::take(o)
                    .into_iter()
                    .map(|(mut k, mut v)| {
                        esc(&mut k);
                        strings(&mut v);
                        (k, v)
                    })
                    .collect();
                *o = escaped;
            }
            _ => {}
        }
    }
    fn value(v: &mut Option<Value>) {
        v.iter_mut().for_each(strings);
    }
    fn attributes(list: &mut [AttributeInfo]) {
        for a in list {
            for v in [
                &mut a.name,
                &mut a.kind,
                &mut a.multi_valued,
                &mut a.required,
                &mut a.mutability,
                &mut a.returned,
                &mut a.uniqueness,
                &mut a.case_exact,
            ] {
                value(v);
            }
            attributes(&mut a.sub_attributes);
        }
    }
    let mut r = report.clone();
    esc(&mut r.tenant_url);
    for e in &mut r.endpoints {
        esc(&mut e.path);
        esc(&mut e.url);
        opt(&mut e.content_type);
        opt(&mut e.error);
    }
    if let Some(f) = &mut r.service_provider_config {
        for a in &mut f.authentication_schemes {
            opt(&mut a.kind);
            opt(&mut a.name);
        }
    }
    for t in r.resource_types.iter_mut().flatten() {
        opt(&mut t.name);
        opt(&mut t.endpoint);
        opt(&mut t.schema);
        for x in &mut t.extensions {
            opt(&mut x.schema);
        }
    }
    for s in r.schemas.iter_mut().flatten() {
        opt(&mut s.id);
        opt(&mut s.name);
        attributes(&mut s.attributes);
    }
    for p in &mut r.problems {
        esc(&mut p.context.endpoint);
        esc(&mut p.title);
        esc(&mut p.fix);
        p.details.iter_mut().for_each(esc);
    }
    r
}

fn yes_no(b: Option<bool>) -> String {
    match b {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => "-".into(),
    }
}

/// An attribute characteristic as shown in the table: yes/no, the string as published, `-`
/// when absent, `null` when null.
fn cell(v: &Option<Value>) -> String {
    match v {
        None => "-".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn rows(attrs: &[AttributeInfo], depth: usize, out: &mut Vec<[String; 8]>) {
    for a in attrs {
        out.push([
            format!("{}{}", "  ".repeat(depth), cell(&a.name)),
            cell(&a.kind),
            cell(&a.multi_valued),
            cell(&a.required),
            cell(&a.mutability),
            cell(&a.returned),
            cell(&a.uniqueness),
            cell(&a.case_exact),
        ]);
        rows(&a.sub_attributes, depth + 1, out);
    }
}

fn table(out: &mut String, indent: &str, rows: &[[String; 8]]) {
    let mut width = [0usize; 8];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    for r in rows {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            if i == 7 {
                line.push_str(c);
            } else {
                let _ = write!(line, "{c:<w$}  ", w = width[i]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// The report for people.
pub fn human(report: &DiscoverReport) -> String {
    let report = &for_terminal(report);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        "Discovery documents of".bold(),
        report.tenant_url
    );
    let _ = writeln!(out);
    for e in &report.endpoints {
        let status = match (e.status, &e.error) {
            (Some(s), _) => format!("{s} {}", crate::connect::reason(s)),
            (None, Some(err)) => format!("no response: {err}"),
            (None, None) => "-".into(),
        };
        let mut parts = vec![status];
        if let Some(ct) = &e.content_type {
            parts.push(ct.clone());
        }
        parts.push(crate::connect::duration(e.elapsed_ms));
        let _ = writeln!(out, "  GET {:<24}{}", e.path, parts.join(" · "));
    }
    if report.exit_code == exit::UNREACHABLE {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} the endpoint could not be reached; `scimcheck connect` diagnoses why",
            "✗".red()
        );
        return out;
    }

    if let Some(f) = &report.service_provider_config {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", "Supports (from /ServiceProviderConfig)".bold());
        let limit = |name: &str, v: Option<i64>| v.map(|n| format!("{name} {n}"));
        let with = |b: Option<bool>, limits: Vec<Option<String>>| {
            let limits: Vec<String> = limits.into_iter().flatten().collect();
            if limits.is_empty() {
                yes_no(b)
            } else {
                format!("{} ({})", yes_no(b), limits.join(", "))
            }
        };
        let lines = [
            ("PATCH", yes_no(f.patch)),
            (
                "filter",
                with(f.filter, vec![limit("maxResults", f.filter_max_results)]),
            ),
            (
                "bulk",
                with(
                    f.bulk,
                    vec![
                        limit("maxOperations", f.bulk_max_operations),
                        limit("maxPayloadSize", f.bulk_max_payload_size),
                    ],
                ),
            ),
            ("sort", yes_no(f.sort)),
            ("ETag", yes_no(f.etag)),
            ("change password", yes_no(f.change_password)),
        ];
        for (name, value) in lines {
            let _ = writeln!(out, "  {name:<17}{value}");
        }
        if f.authentication_schemes.is_empty() {
            let _ = writeln!(out, "  {:<17}-", "authentication");
        }
        for (i, s) in f.authentication_schemes.iter().enumerate() {
            let label = if i == 0 { "authentication" } else { "" };
            let primary = if s.primary == Some(true) {
                " (primary)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {label:<17}{} \"{}\"{primary}",
                s.kind.as_deref().unwrap_or("-"),
                s.name.as_deref().unwrap_or("")
            );
        }
    }

    if let Some(rts) = &report.resource_types {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", "Resource types (from /ResourceTypes)".bold());
        let name_w = rts
            .iter()
            .map(|r| r.name.as_deref().unwrap_or("-").len())
            .max()
            .unwrap_or(0);
        let ep_w = rts
            .iter()
            .map(|r| r.endpoint.as_deref().unwrap_or("-").len())
            .max()
            .unwrap_or(0);
        for rt in rts {
            let _ = writeln!(
                out,
                "  {:<name_w$}  {:<ep_w$}  {}",
                rt.name.as_deref().unwrap_or("-"),
                rt.endpoint.as_deref().unwrap_or("-"),
                rt.schema.as_deref().unwrap_or("-"),
            );
            for e in &rt.extensions {
                let req = match e.required {
                    Some(true) => "required",
                    Some(false) => "optional",
                    None => "required: -",
                };
                let _ = writeln!(
                    out,
                    "  {:<name_w$}  {:<ep_w$}  + extension {} ({req})",
                    "",
                    "",
                    e.schema.as_deref().unwrap_or("-"),
                );
            }
        }
    }

    if let Some(schemas) = &report.schemas {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", "Schemas (from /Schemas)".bold());
        for s in schemas {
            let _ = writeln!(
                out,
                "  {}{}",
                s.id.as_deref().unwrap_or("(no id)").bold(),
                s.name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            );
            let mut table_rows = vec![[
                "attribute".to_string(),
                "type".into(),
                "multi".into(),
                "required".into(),
                "mutability".into(),
                "returned".into(),
                "uniqueness".into(),
                "caseExact".into(),
            ]];
            rows(&s.attributes, 0, &mut table_rows);
            table(&mut out, "    ", &table_rows);
        }
    }

    let _ = writeln!(out);
    if report.problems.is_empty() {
        let _ = writeln!(
            out,
            "{} no problems: the discovery documents are well-formed",
            "✓".green()
        );
        return out;
    }
    let _ = writeln!(out, "{}", "Problems Entra would trip over".bold());
    for p in &report.problems {
        let mark = super::connect::severity_mark(p.severity);
        let _ = writeln!(out, "  {mark} {}  {}", p.code.as_str().bold(), p.title);
        for e in &p.details {
            let _ = writeln!(out, "      {e}");
        }
        if p.context.count > p.details.len() && !p.details.is_empty() {
            let _ = writeln!(out, "      ... {} place(s) in all", p.context.count);
        }
        let _ = writeln!(out, "      {} {}", "fix:".bold(), p.fix);
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{errors} problem(s), {} warning(s)",
        report.problems.len() - errors
    );
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cells_show_published_values_as_they_are() {
        assert_eq!(cell(&None), "-");
        assert_eq!(cell(&Some(Value::Null)), "null");
        assert_eq!(cell(&Some(json!(true))), "yes");
        assert_eq!(cell(&Some(json!("ReadWrite"))), "ReadWrite");
    }
}
