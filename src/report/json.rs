//! The JSON report: one document per run, versioned by `schema_version` and described by
//! `docs/report-schema.json` (and the README). Fields may be added within a version; removing or
//! changing one bumps it.

use serde_json::{Value, json};

use crate::http::{Received, SentRequest, TransportError};
use crate::run::{CheckResult, CleanupOutcome, Outcome, Summary};
use crate::scenario::Severity;
use crate::scim::validate::Level;

use super::record::{CleanupRecord, RunRecord, ScenarioRecord, area, verdict};

/// The version of the report's shape.
pub const SCHEMA_VERSION: u32 = 1;

fn headers(h: &[(String, String)]) -> Value {
    Value::Array(
        h.iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect(),
    )
}

/// `with_body`: bodies are kept for checks that did not pass (the HAR report has them all).
fn request(r: &SentRequest, with_body: bool) -> Value {
    json!({
        "method": r.method,
        "url": r.url,
        "headers": headers(&r.headers),
        "body": r.body.as_ref().filter(|_| with_body),
    })
}

fn response(r: &Received, with_body: bool) -> Value {
    json!({
        "status": r.status,
        "headers": headers(&r.headers),
        "body": Some(&r.body).filter(|_| with_body),
        "truncated": r.truncated,
        "retries": r.retries.iter().map(|(status, waited)| json!({ "status": status, "waited_s": waited })).collect::<Vec<_>>(),
    })
}

fn check(c: &CheckResult) -> Value {
    let (req, resp, error, exchange_ms) = match &c.exchange {
        None => (Value::Null, Value::Null, Value::Null, Value::Null),
        Some(ex) => {
            let bodies = c.outcome != Outcome::Pass;
            let (resp, error) = match &ex.response {
                Ok(r) => (response(r, bodies), Value::Null),
                Err(e) => (Value::Null, Value::String(transport(e))),
            };
            (
                request(&ex.request, bodies),
                resp,
                error,
                json!(ex.elapsed_ms),
            )
        }
    };
    json!({
        "id": c.id,
        "area": area(&c.id),
        "name": c.name,
        "proves": c.proves,
        "severity": match c.severity { Severity::Fail => "fail", Severity::Warn => "warn" },
        "evidence": c.evidence.as_str(),
        "outcome": c.outcome.as_str(),
        "blocked_by": c.blocked_by,
        "elapsed_ms": c.elapsed_ms,
        "findings": c.findings.iter().map(|f| json!({
            "kind": f.kind,
            "level": match f.level { Level::Fail => "fail", Level::Warn => "warn" },
            "message": f.message,
            "path": f.path,
            "diff": f.diff,
            "evidence": f.class(c.evidence).as_str(),
        })).collect::<Vec<_>>(),
        "hint": c.hint,
        "note": c.note,
        "request": req,
        "response": resp,
        "transport_error": error,
        "exchange_ms": exchange_ms,
        "entra_error": entra_error(c),
    })
}

/// The Entra code for a failure, as `docs/report-schema.json` describes it.
fn entra_error(c: &CheckResult) -> Value {
    match crate::entra_error::for_check(c) {
        None => Value::Null,
        Some(code) => {
            let e = code.entry();
            json!({
                "code": code.as_str(),
                "seen_in": e.seen_in,
                "source": e.sources[0],
            })
        }
    }
}

fn transport(e: &TransportError) -> String {
    e.to_string()
}

fn cleanup(c: &CleanupRecord) -> Value {
    let (status, detail) = match &c.outcome {
        CleanupOutcome::Deleted => ("deleted", None),
        CleanupOutcome::AlreadyGone => ("already-gone", None),
        CleanupOutcome::Kept => ("kept", None),
        CleanupOutcome::Failed(why) => ("failed", Some(why.clone())),
        CleanupOutcome::Unverified(why) => ("unverified", Some(why.clone())),
    };
    json!({
        "method": c.method,
        "path": c.path,
        "label": c.label,
        "status": status,
        "detail": detail,
    })
}

fn scenario(s: &ScenarioRecord) -> Value {
    let i = &s.info;
    json!({
        "index": i.index,
        "id": i.id,
        "name": i.name,
        "file": i.file,
        "tags": i.tags,
        "dialect": i.dialect.as_str(),
        "description": i.description,
        "entra": i.entra,
        "outcome": s.outcome().as_str(),
        "elapsed_ms": s.elapsed_ms,
        "requests": s.exchanges.len(),
        "checks": s.checks.iter().map(check).collect::<Vec<_>>(),
        "cleanup": s.cleanups.iter().map(cleanup).collect::<Vec<_>>(),
    })
}

fn summary(s: &Summary) -> Value {
    json!({
        "verdict": verdict(s),
        "passed": s.passed,
        "failed": s.failed,
        "warned": s.warned,
        "skipped": s.skipped,
        "waived": s.waived,
        "blocked": s.blocked,
        "validator_findings": s.validator_findings,
        "rfc_findings": s.rfc_findings,
        "root_causes": s.root_causes.iter().map(|c| json!({
            "check": c.check,
            "dialect": c.dialect.as_str(),
            "message": c.message,
            "blocked": c.blocked,
        })).collect::<Vec<_>>(),
        "elapsed_ms": s.elapsed_ms,
        "unreachable": s.unreachable,
        "interrupted": s.interrupted,
        "leftovers": s.leftovers.iter().map(|c| json!({
            "method": "DELETE",
            "path": c.path,
            "label": c.label,
            "scenario": c.owner,
        })).chain(s.unconfirmed.iter().map(|p| json!({
            "method": "GET",
            "path": format!("/{}?filter={} eq \"{}\"", p.collection, p.attribute, p.value),
            "label": p.value,
            "scenario": p.owner,
            "then": "a create whose outcome is unknown: DELETE the resource this finds",
        }))).collect::<Vec<_>>(),
        "foreign_answers": s.foreign.iter().map(|c| json!({
            "path": c.path,
            "label": c.label,
            "scenario": c.owner,
        })).collect::<Vec<_>>(),
        "stopped_answering": s.stopped_answering,
        "waivers": s.waivers.iter().map(|w| json!({
            "check": w.check,
            "reason": w.reason,
            "state": w.state.as_str(),
            "waived": w.waived,
            "passed": w.passed,
        })).collect::<Vec<_>>(),
    })
}

/// The report document.
pub fn render(r: &RunRecord) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "tool": { "name": "scimcheck", "version": env!("CARGO_PKG_VERSION") },
        "run_id": r.run_id,
        "started_at": r.started_at,
        "target": r.target,
        "dialects": r.dialects.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        "profile": r.profile,
        "insecure": r.insecure,
        "scenarios": r.scenarios.iter().map(scenario).collect::<Vec<_>>(),
        "summary": summary(&r.summary()),
    })
}

/// The report as pretty-printed text, ending with a newline.
pub fn render_text(r: &RunRecord) -> String {
    let mut s = serde_json::to_string_pretty(&render(r)).unwrap_or_default();
    s.push('\n');
    s
}
