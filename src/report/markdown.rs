//! The Markdown report, for `$GITHUB_STEP_SUMMARY`, pull-request comments and tickets: a
//! verdict line, a table of scenario runs, then every failure (findings, diff, the exchange in a
//! collapsed block, the hint), warnings, waived failures, waivers that can be dropped, and test
//! data left behind.

use std::fmt::Write;

use crate::run::{CheckResult, Outcome, Summary, WaiverState};

use super::record::{RunRecord, ScenarioRecord, exchange_text, finding_line, verdict};

fn icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✅",
        Outcome::Fail => "❌",
        Outcome::Warn => "⚠️",
        Outcome::Skip => "⏭️",
        Outcome::Waived => "🔕",
        Outcome::Blocked => "⛔",
    }
}

/// Escapes text for a table cell or a line of prose.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

/// A code fence long enough not to be closed by the text inside.
fn fence(text: &str, lang: &str) -> String {
    let mut ticks = "```".to_string();
    while text.contains(&ticks) {
        ticks.push('`');
    }
    format!("{ticks}{lang}\n{}\n{ticks}", text.trim_end())
}

fn counts(checks: &[&CheckResult]) -> [usize; 6] {
    let mut c = [0; 6];
    for r in checks {
        let i = match r.outcome {
            Outcome::Pass => 0,
            Outcome::Fail => 1,
            Outcome::Warn => 2,
            Outcome::Skip => 3,
            Outcome::Waived => 4,
            Outcome::Blocked => 5,
        };
        c[i] += 1;
    }
    c
}

fn where_(s: &ScenarioRecord, several: bool) -> String {
    if several {
        format!("`{}`, {} dialect", s.info.id, s.info.dialect.as_str())
    } else {
        format!("`{}`", s.info.id)
    }
}

fn headline(s: &Summary) -> String {
    let v = verdict(s);
    let icon = match v {
        "passed" => "✅",
        "failed" => "❌",
        _ => "⚠️",
    };
    format!("## {icon} scimcheck: {v}")
}

fn check_block(out: &mut String, s: &ScenarioRecord, c: &CheckResult, several: bool) {
    let _ = writeln!(
        out,
        "#### {} `{}` · {} ({})\n",
        icon(c.outcome),
        c.id,
        esc(&c.name),
        where_(s, several)
    );
    let _ = writeln!(out, "*Evidence:* `{}`\n", c.evidence.as_str());
    if let Some(p) = &c.proves {
        let _ = writeln!(out, "*Proves:* {}\n", esc(p));
    }
    if let Some(n) = &c.note {
        let _ = writeln!(out, "*{}*\n", esc(n));
    }
    for f in &c.findings {
        let _ = writeln!(out, "- {}", esc(&finding_line(f)));
    }
    if !c.findings.is_empty() {
        out.push('\n');
    }
    for d in c.findings.iter().filter_map(|f| f.diff.as_ref()) {
        let _ = writeln!(out, "{}\n", fence(d, "diff"));
    }
    if let Some(ex) = &c.exchange {
        let _ = writeln!(
            out,
            "<details><summary>Request and response</summary>\n\n{}\n\n</details>\n",
            fence(&exchange_text(ex, 60), "")
        );
    }
    if let Some(h) = &c.hint {
        let _ = writeln!(out, "> **Hint:** {}\n", esc(h));
    }
    if let Some(code) = crate::entra_error::for_check(c) {
        let _ = writeln!(
            out,
            "> **In Entra:** `{code}` ({}); `scimcheck explain {code}` says what to fix.\n",
            esc(code.entry().seen_in)
        );
    }
}

/// The Markdown text.
pub fn render(r: &RunRecord) -> String {
    let summary = r.summary();
    let several = r.several_dialects();
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", headline(&summary));
    let mut totals = format!(
        "**{} passed**, **{} failed**, {} warnings, {} skipped",
        summary.passed, summary.failed, summary.warned, summary.skipped
    );
    if summary.blocked > 0 {
        let _ = write!(totals, ", {} blocked", summary.blocked);
    }
    if summary.waived > 0 {
        let _ = write!(totals, ", {} waived", summary.waived);
    }
    let dialects: Vec<String> = r
        .dialects
        .iter()
        .map(|d| format!("`{}`", d.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "{totals} in {:.2} s · target `{}` · dialect {} · run `{}`{}\n",
        summary.elapsed_ms / 1000.0,
        r.target,
        dialects.join(" + "),
        r.run_id,
        r.profile
            .as_ref()
            .map(|p| format!(" · profile `{p}`"))
            .unwrap_or_default()
    );
    if summary.unreachable {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> The target could not be reached: no response was received.\n"
        );
    }
    if summary.interrupted {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> The run was interrupted; results are incomplete.\n"
        );
    }
    if r.insecure {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> TLS certificate verification was off (`--insecure`).\n"
        );
    }

    if !summary.root_causes.is_empty() {
        let _ = writeln!(out, "### Root causes\n");
        for c in &summary.root_causes {
            let dialect = if several {
                format!(" ({} dialect)", c.dialect.as_str())
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "- `{}`{dialect} blocked {} check{}: {}",
                c.check,
                c.blocked,
                if c.blocked == 1 { "" } else { "s" },
                esc(&c.message)
            );
        }
        out.push('\n');
    }
    if summary.validator_findings + summary.rfc_findings > 0 {
        let _ = writeln!(
            out,
            "{} warning{} the SCIM Validator would flag, {} RFC 7643/7644 deviation{} Entra does not rely on (`--strict validator|rfc|all` makes them fail).\n",
            summary.validator_findings,
            if summary.validator_findings == 1 {
                ""
            } else {
                "s"
            },
            summary.rfc_findings,
            if summary.rfc_findings == 1 { "" } else { "s" },
        );
    }
    let dialect_col = if several { " Dialect |" } else { "" };
    let dialect_rule = if several { "---|" } else { "" };
    let _ = writeln!(
        out,
        "| | Scenario |{dialect_col} Passed | Failed | Warnings | Blocked | Skipped | Waived |"
    );
    let _ = writeln!(out, "|---|---|{dialect_rule}--:|--:|--:|--:|--:|--:|");
    for s in &r.scenarios {
        let checks: Vec<&CheckResult> = s.checks.iter().collect();
        let [p, f, w, sk, wv, b] = counts(&checks);
        let dialect = if several {
            format!(" {} |", s.info.dialect.as_str())
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {} | {} (`{}`) |{dialect} {p} | {f} | {w} | {b} | {sk} | {wv} |",
            icon(s.outcome()),
            esc(&s.info.name),
            s.info.id
        );
    }
    out.push('\n');

    for (title, outcome) in [
        ("Failures", Outcome::Fail),
        ("Warnings", Outcome::Warn),
        ("Waived failures", Outcome::Waived),
    ] {
        let list: Vec<(&ScenarioRecord, &CheckResult)> = r
            .scenarios
            .iter()
            .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
            .filter(|(_, c)| c.outcome == outcome)
            .collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for (s, c) in list {
            check_block(&mut out, s, c, several);
        }
    }

    let stale: Vec<_> = summary
        .waivers
        .iter()
        .filter(|w| w.state == WaiverState::Stale)
        .collect();
    if !stale.is_empty() {
        let _ = writeln!(
            out,
            "### Waivers that can be dropped\n\nThe checks these waivers name pass now.\n"
        );
        for w in stale {
            let _ = writeln!(out, "- `{}`: {}", w.check, esc(&w.reason));
        }
        out.push('\n');
    }
    let unmatched: Vec<_> = summary
        .waivers
        .iter()
        .filter(|w| w.state == WaiverState::Unmatched)
        .collect();
    if !unmatched.is_empty() {
        let _ = writeln!(out, "### Waivers that matched no check\n");
        for w in unmatched {
            let _ = writeln!(out, "- `{}`: {}", w.check, esc(&w.reason));
        }
        out.push('\n');
    }
    if !summary.leftovers.is_empty() || !summary.unconfirmed.is_empty() {
        let _ = writeln!(out, "### Test data left behind\n\nDelete these by hand:\n");
        for c in &summary.leftovers {
            let _ = writeln!(out, "- `DELETE {}` ({})", c.path, esc(&c.label));
        }
        for p in &summary.unconfirmed {
            let _ = writeln!(
                out,
                "- `{}` (a create whose outcome is unknown: delete what this finds)",
                esc(&p.lookup())
            );
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
