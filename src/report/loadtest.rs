//! The human report of `scimcheck load` (colours follow `colored`'s global setting); the
//! report itself is [`crate::loadtest::LoadReport`].

use std::fmt::Write as _;

use colored::Colorize;

use crate::loadtest::{GALLERY_BAR, LoadReport, MINUTES_PER_OBJECT, Mode, VerdictStatus};
use crate::pace::Rate;

/// Minutes as a person reads them: seconds, minutes or hours.
pub(crate) fn minutes(m: f64) -> String {
    if !m.is_finite() {
        "—".into()
    } else if m < 1.0 {
        format!("{:.0} s", m * 60.0)
    } else if m < 120.0 {
        format!("{m:.1} min")
    } else {
        format!("{:.1} h", m / 60.0)
    }
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The human report (colours follow `colored`'s global setting).
pub fn render(r: &LoadReport) -> String {
    let mut o = String::new();
    let what = match r.mode {
        Mode::Cycle => "Entra initial cycle",
        Mode::Probe => "probe (a users filter that matches nothing)",
    };
    let _ = writeln!(
        o,
        "{} {what} against {} ({} dialect)",
        "scimcheck load:".bold(),
        r.target,
        r.dialect.as_str()
    );
    let rate = match r.rate {
        Rate::Max => "max".to_string(),
        Rate::PerSecond(x) => format!("{x} req/s"),
    };
    match r.mode {
        Mode::Cycle => {
            let _ = writeln!(
                o,
                "run {}: {}, {} ({} members each, {} per PATCH){}, rate {rate}, concurrency {}",
                r.run_id,
                plural(r.users, "user", "users"),
                plural(r.groups, "group", "groups"),
                r.members_per_group,
                r.batch,
                if r.update {
                    ", update after create"
                } else {
                    ""
                },
                r.concurrency
            );
        }
        Mode::Probe => {
            let _ = writeln!(
                o,
                "run {}: {}, rate {rate}, concurrency {}",
                r.run_id,
                plural(r.users, "request", "requests"),
                r.concurrency
            );
        }
    }

    o.push('\n');
    let _ = writeln!(
        o,
        "{:<9} {:>9} {:>7} {:>10} {:>14}",
        "phase", "requests", "errors", "elapsed", "throughput"
    );
    for p in &r.phases {
        let _ = writeln!(
            o,
            "{:<9} {:>9} {:>7} {:>10} {:>14}",
            p.name,
            p.requests,
            p.errors,
            format!("{:.3} s", p.elapsed_s),
            format!("{:.1} req/s", p.throughput)
        );
    }

    o.push('\n');
    let _ = writeln!(
        o,
        "{:<14} {:>8} {:>7} {:>10} {:>10} {:>10} {:>10}",
        "request", "count", "errors", "p50", "p90", "p99", "max"
    );
    for k in &r.kinds {
        let _ = writeln!(
            o,
            "{:<14} {:>8} {:>7} {:>10} {:>10} {:>10} {:>10}",
            k.label,
            k.requests,
            k.errors,
            ms(k.p50_ms),
            ms(k.p90_ms),
            ms(k.p99_ms),
            ms(k.max_ms)
        );
    }

    o.push('\n');
    let statuses: Vec<String> = r
        .statuses
        .iter()
        .map(|(s, n)| format!("{s} × {n}"))
        .collect();
    let _ = writeln!(
        o,
        "responses: {}",
        if statuses.is_empty() {
            "none".to_string()
        } else {
            statuses.join(", ")
        }
    );
    if r.errors.is_empty() {
        let _ = writeln!(o, "errors: none");
    } else {
        let _ = writeln!(o, "{}", "errors:".red().bold());
        for e in &r.errors {
            let cause = match (e.status, &e.transport) {
                (Some(s), _) => format!("HTTP {s}"),
                (None, Some(t)) => format!("no response: {t}"),
                (None, None) => "no response".to_string(),
            };
            let _ = writeln!(o, "  {:>7} × {:<14} {cause}", e.count, e.label);
        }
    }
    let t = &r.throttling;
    if t.responses_429 == 0 {
        let _ = writeln!(o, "throttling: no 429 responses");
    } else {
        let _ = writeln!(
            o,
            "throttling: {} answered 429 Too Many Requests; {} asked to wait (Retry-After): {:.1} s in total, {:.1} s at most",
            plural(t.responses_429, "request was", "requests were"),
            t.retry_after_given,
            t.retry_after_total_s,
            t.retry_after_max_s
        );
    }
    if r.mode == Mode::Cycle {
        let _ = writeln!(
            o,
            "data: created {} and {}, deleted {} and {}",
            plural(r.created_users, "user", "users"),
            plural(r.created_groups, "group", "groups"),
            plural(r.deleted_users, "user", "users"),
            plural(r.deleted_groups, "group", "groups"),
        );
    }
    if let Some(e) = &r.entra_estimate {
        let _ = writeln!(
            o,
            "Entra's arithmetic: an initial cycle of {}, {} and {} ({} objects, {} requests) takes",
            plural(e.users, "user", "users"),
            plural(e.groups, "group", "groups"),
            plural(e.memberships, "membership", "memberships"),
            e.objects,
            e.requests,
        );
        let rows = [
            (
                "at the measured throughput".to_string(),
                minutes(e.at_measured_throughput_min),
            ),
            (
                "one request at a time (measured mean latency)".to_string(),
                minutes(e.one_at_a_time_min),
            ),
            (
                format!("at the gallery's {GALLERY_BAR} req/s"),
                minutes(e.at_gallery_bar_min),
            ),
            (
                format!(
                    "Microsoft's estimate ({}-{} min per object)",
                    MINUTES_PER_OBJECT.0, MINUTES_PER_OBJECT.1
                ),
                format!(
                    "{} to {}",
                    minutes(e.microsoft_min.0),
                    minutes(e.microsoft_min.1)
                ),
            ),
        ];
        for (what, took) in rows {
            let _ = writeln!(o, "  {what:<46} {took}");
        }
    }
    if !r.leftovers.is_empty() {
        let _ = writeln!(
            o,
            "{} {} could not be deleted; remove by hand:",
            "left behind:".red().bold(),
            plural(r.leftovers.len() as u64, "resource", "resources")
        );
        for c in r.leftovers.iter().take(20) {
            let _ = writeln!(o, "  DELETE {}  ({})", c.path, c.label);
        }
        if r.leftovers.len() > 20 {
            let _ = writeln!(o, "  … and {} more (see --json)", r.leftovers.len() - 20);
        }
    }
    if r.interrupted {
        let _ = writeln!(
            o,
            "{}",
            "interrupted: stopped early and cleaned up".yellow()
        );
    }
    if r.unreachable {
        let _ = writeln!(o, "{}", "the target could not be reached".red().bold());
    }
    let word = match r.verdict.status {
        VerdictStatus::Meets => "verdict:".green().bold(),
        VerdictStatus::Below => "verdict:".red().bold(),
        VerdictStatus::NotTested => "verdict:".yellow().bold(),
    };
    let _ = writeln!(o, "{word} {}", r.verdict.text);
    o
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn minutes_read_as_seconds_minutes_or_hours() {
        assert_eq!(minutes(120.8), "2.0 h");
        assert_eq!(minutes(0.5), "30 s");
    }
}
