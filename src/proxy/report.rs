//! What the proxy tells people: one line per exchange, a summary, and the `json` and `har`
//! reports, both written as the exchanges happen (nothing is kept in memory but counters).
//! Credentials never reach any of them: `Authorization`, cookies and token-like headers are
//! `REDACTED`, and the bearer token of each request is redacted from its URL and bodies.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};

use serde_json::{Value, json};

use crate::http::{Received, SentRequest};
use crate::report::{Destination, ReportFormat, ReportSpec};

use super::check::Verdict;

/// One finished exchange, as reported (bodies only for the HAR).
#[derive(Debug, Clone)]
pub struct Exchange {
    pub started_at: String,
    pub elapsed_ms: f64,
    /// The request as forwarded, secrets redacted.
    pub request: SentRequest,
    /// Path relative to the Tenant URL.
    pub path: String,
    /// The response, secrets redacted; `Err` when the upstream gave none.
    pub response: Result<Received, String>,
    pub shape_id: String,
    pub shape: String,
    pub verdict: Verdict,
    /// Failures and warnings, one sentence each.
    pub findings: Vec<String>,
    pub note: Option<String>,
    /// The body was larger than the check cap and was forwarded unchecked.
    pub unchecked: bool,
}

impl Exchange {
    /// `PATCH /Users/1  400  12 ms  Entra's disable (default dialect): <findings>`.
    pub fn line(&self) -> String {
        let status = match &self.response {
            Ok(r) => r.status.to_string(),
            Err(_) => "---".into(),
        };
        let mut s = format!(
            "{} {}  {status}  {:.0} ms  {}",
            self.request.method, self.path, self.elapsed_ms, self.shape
        );
        if let Err(e) = &self.response {
            s.push_str(&format!(": no response from the app: {e}"));
        } else if !self.findings.is_empty() {
            s.push_str(": ");
            s.push_str(&self.findings.join("; "));
        } else if let Some(n) = &self.note {
            s.push_str(&format!(": {n}"));
        }
        if self.unchecked {
            s.push_str(" (body larger than the check cap: forwarded unchecked)");
        }
        s
    }
}

/// Counters for the summary, per request shape.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    pub exchanges: u64,
    pub passed: u64,
    pub noted: u64,
    pub failed: u64,
    /// shape label -> (exchanges, failed).
    pub shapes: BTreeMap<String, (u64, u64)>,
}

impl Summary {
    /// Counts one exchange.
    pub fn count(&mut self, e: &Exchange) {
        self.exchanges += 1;
        let failed = e.verdict == Verdict::Fail || e.response.is_err();
        match (failed, e.verdict) {
            (true, _) => self.failed += 1,
            (false, Verdict::Note) => self.noted += 1,
            _ => self.passed += 1,
        }
        let s = self.shapes.entry(e.shape.clone()).or_default();
        s.0 += 1;
        s.1 += u64::from(failed);
    }

    /// The summary for people.
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} exchange(s): {} as Entra expects, {} refused correctly (notes), {} failed\n",
            self.exchanges, self.passed, self.noted, self.failed
        );
        for (shape, (n, failed)) in &self.shapes {
            s.push_str(&format!("  {shape:<52} {n:>5} seen  {failed:>5} failed\n"));
        }
        s
    }
}

/// One report file being written.
struct Stream {
    format: ReportFormat,
    out: BufWriter<File>,
    first: bool,
}

/// The `--report` files of a proxy session, written entry by entry.
pub struct Reports {
    streams: Vec<Stream>,
}

impl Reports {
    /// Opens every report now (an unwritable path fails before anything is forwarded). Only
    /// `json` and `har` are proxy formats.
    pub fn open(specs: &[ReportSpec], upstream: &str) -> Result<Reports, String> {
        let mut streams = vec![];
        for spec in specs {
            let Destination::File(path) = &spec.destination else {
                return Err(format!(
                    "--report {spec}: the proxy writes reports to files, not stdout"
                ));
            };
            if !matches!(spec.format, ReportFormat::Json | ReportFormat::Har) {
                return Err(format!(
                    "--report {spec}: the proxy writes json and har reports"
                ));
            }
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| format!("--report {spec}: {e}"))?;
            }
            let file = File::create(path).map_err(|e| format!("--report {spec}: {e}"))?;
            let mut out = BufWriter::new(file);
            let head = match spec.format {
                ReportFormat::Har => format!(
                    "{{\"log\":{{\"version\":\"1.2\",\"creator\":{{\"name\":\"scimcheck proxy\",\"version\":\"{}\"}},\"comment\":{},\"pages\":[],\"entries\":[\n",
                    env!("CARGO_PKG_VERSION"),
                    json!(format!("scimcheck proxy in front of {upstream}"))
                ),
                _ => format!(
                    "{{\"schema_version\":1,\"tool\":{{\"name\":\"scimcheck proxy\",\"version\":\"{}\"}},\"upstream\":{},\"exchanges\":[\n",
                    env!("CARGO_PKG_VERSION"),
                    json!(upstream)
                ),
            };
            out.write_all(head.as_bytes())
                .map_err(|e| format!("--report {spec}: {e}"))?;
            streams.push(Stream {
                format: spec.format,
                out,
                first: true,
            });
        }
        Ok(Reports { streams })
    }

    /// Appends one exchange to every report.
    pub fn write(&mut self, e: &Exchange) -> std::io::Result<()> {
        for s in &mut self.streams {
            let v = match s.format {
                ReportFormat::Har => har_entry(e),
                _ => json_entry(e),
            };
            if !s.first {
                s.out.write_all(b",\n")?;
            }
            s.first = false;
            serde_json::to_writer(&mut s.out, &v)?;
        }
        Ok(())
    }

    /// Closes every report (the JSON one ends with the summary).
    pub fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        for s in &mut self.streams {
            match s.format {
                ReportFormat::Har => s.out.write_all(b"\n]}}\n")?,
                _ => {
                    s.out.write_all(b"\n],\"summary\":")?;
                    serde_json::to_writer(&mut s.out, summary)?;
                    s.out.write_all(b"}\n")?;
                }
            }
            s.out.flush()?;
        }
        Ok(())
    }
}

fn json_entry(e: &Exchange) -> Value {
    json!({
        "started_at": e.started_at,
        "elapsed_ms": e.elapsed_ms,
        "method": e.request.method,
        "path": e.path,
        "status": e.response.as_ref().ok().map(|r| r.status),
        "transport_error": e.response.as_ref().err(),
        "shape": e.shape_id,
        "entra": e.shape,
        "verdict": if e.response.is_err() { Verdict::Fail } else { e.verdict },
        "findings": e.findings,
        "note": e.note,
        "unchecked": e.unchecked,
    })
}

fn har_entry(e: &Exchange) -> Value {
    let response = match &e.response {
        Ok(r) => crate::report::har::response(r),
        Err(err) => json!({
            "status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "",
            "headersSize": -1, "bodySize": -1, "_error": err,
        }),
    };
    json!({
        "startedDateTime": e.started_at,
        "time": e.elapsed_ms,
        "request": crate::report::har::request(&e.request),
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": e.elapsed_ms, "receive": 0},
        "comment": format!("{}: {}", e.shape_id, e.line()),
    })
}
