//! Reporters: each renders the run's [`Event`] stream in one format. None of them is called by
//! the runner directly; the CLI fans events out to every reporter it was asked for.
//!
//! The terminal reporter ([`terminal`]) prints as the run goes; the file formats ([`json`],
//! [`junit`], [`markdown`], [`har`], [`html`]) collect the whole run into a [`record::RunRecord`] and
//! write it when the run finishes (`--report FORMAT=PATH`, `-` for stdout).

pub mod connect;
pub mod discover;
pub mod escape;
pub mod explain;
pub mod har;
pub mod html;
pub mod json;
pub mod junit;
pub mod load_html;
pub mod markdown;
pub mod progress;
pub mod quarantine;
pub mod record;
pub mod slow;
pub mod terminal;

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

use crate::http::Secret;
use crate::run::Event;

/// Something that renders events.
pub trait Reporter {
    /// Called for every event, in order.
    fn on_event(&mut self, event: &Event);
    /// Called once after `RunFinished`: write files, flush.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A file report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The versioned JSON document (`docs/report-schema.json`).
    Json,
    /// JUnit XML: a testsuite per scenario run, a testcase per check.
    Junit,
    /// Markdown for `$GITHUB_STEP_SUMMARY`.
    Markdown,
    /// HAR 1.2 of every exchange.
    Har,
    /// One self-contained HTML page (verdict, checks, waterfall).
    Html,
}

impl ReportFormat {
    /// Every format, as named on the command line.
    pub const ALL: [(&'static str, ReportFormat); 5] = [
        ("json", ReportFormat::Json),
        ("junit", ReportFormat::Junit),
        ("markdown", ReportFormat::Markdown),
        ("har", ReportFormat::Har),
        ("html", ReportFormat::Html),
    ];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }

    /// Renders a whole run in this format.
    pub fn render(self, run: &record::RunRecord) -> String {
        match self {
            ReportFormat::Json => json::render_text(run),
            ReportFormat::Junit => junit::render(run),
            ReportFormat::Markdown => markdown::render(run),
            ReportFormat::Har => har::render_text(run),
            ReportFormat::Html => html::render(run),
        }
    }
}

/// Where a report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard output (`-`).
    Stdout,
    /// A file (parent directories are created).
    File(PathBuf),
}

/// One `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub format: ReportFormat,
    pub destination: Destination,
}

impl FromStr for ReportSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let names: Vec<&str> = ReportFormat::ALL.iter().map(|(n, _)| *n).collect();
        let (format, path) = s.split_once('=').ok_or_else(|| {
            format!(
                "expected FORMAT=PATH (FORMAT one of {}; PATH `-` for stdout)",
                names.join(", ")
            )
        })?;
        let format = ReportFormat::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(format.trim()))
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                format!(
                    "unknown report format `{format}` (expected one of {})",
                    names.join(", ")
                )
            })?;
        let destination = match path.trim() {
            "" => return Err("the report path is empty (use `-` for stdout)".into()),
            "-" => Destination::Stdout,
            p => Destination::File(PathBuf::from(p)),
        };
        Ok(ReportSpec {
            format,
            destination,
        })
    }
}

impl fmt::Display for ReportSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.destination {
            Destination::Stdout => write!(f, "{}=-", self.format.as_str()),
            Destination::File(p) => write!(f, "{}={}", self.format.as_str(), p.display()),
        }
    }
}

/// A file reporter: collects the run and writes it in one format at the end, with the token
/// redacted from the text once more (the client already redacts what it records).
pub struct FileReporter {
    format: ReportFormat,
    record: record::RunRecord,
    out: Box<dyn Write + Send>,
    secret: Option<Secret>,
}

impl FileReporter {
    /// A reporter writing `format` to `out`.
    pub fn new(format: ReportFormat, out: Box<dyn Write + Send>, secret: Option<Secret>) -> Self {
        FileReporter {
            format,
            record: record::RunRecord::default(),
            out,
            secret,
        }
    }

    /// Opens the destination of `spec` now (so an unwritable path fails before anything is
    /// sent); the report is written when the run finishes.
    pub fn open(spec: &ReportSpec, secret: Option<Secret>) -> Result<Self, String> {
        let out: Box<dyn Write + Send> = match &spec.destination {
            Destination::Stdout => Box::new(std::io::stdout()),
            Destination::File(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| format!("--report {spec}: {e}"))?;
                }
                let file =
                    std::fs::File::create(path).map_err(|e| format!("--report {spec}: {e}"))?;
                Box::new(std::io::BufWriter::new(file))
            }
        };
        Ok(FileReporter::new(spec.format, out, secret))
    }
}

impl Reporter for FileReporter {
    fn on_event(&mut self, event: &Event) {
        self.record.on_event(event);
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let text = self.format.render(&self.record);
        // JSON leaves C1 controls and bidirectional overrides raw: escaped, for `-` (stdout).
        let text = match self.format {
            ReportFormat::Json | ReportFormat::Har => escape::json_text(text),
            _ => text,
        };
        let text = match (&self.secret, self.format) {
            (Some(s), ReportFormat::Html) => html::redact(s, &text),
            (Some(s), _) => s.redact(&text),
            (None, _) => text,
        };
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_specs_parse_format_and_destination() {
        let s: ReportSpec = "junit=out/junit.xml".parse().unwrap();
        assert_eq!(s.format, ReportFormat::Junit);
        assert_eq!(s.destination, Destination::File("out/junit.xml".into()));
        let s: ReportSpec = "json=-".parse().unwrap();
        assert_eq!(s.destination, Destination::Stdout);
        assert!(
            "xml=a"
                .parse::<ReportSpec>()
                .unwrap_err()
                .contains("unknown report format")
        );
        assert!(
            "json"
                .parse::<ReportSpec>()
                .unwrap_err()
                .contains("FORMAT=PATH")
        );
        assert!("json=".parse::<ReportSpec>().is_err());
    }

    /// A writer the test can read back after the reporter is done with it.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_file_format_redacts_the_token_even_when_an_event_carries_it() {
        use crate::http::{Received, SentRequest};
        use crate::run::Summary;
        let token = "tok-1234567890";
        let events = [
            Event::RunStarted {
                run_id: "r".into(),
                started_at: "2024-01-01T00:00:00.000Z".into(),
                target: format!("https://h/scim?{token}"),
                dialects: vec![crate::scenario::Dialect::Default],
                scenarios: 1,
                profile: None,
                insecure: false,
            },
            Event::ScenarioStarted(crate::run::ScenarioInfo {
                index: 0,
                id: "s".into(),
                name: "S".into(),
                file: "s.yaml".into(),
                tags: vec![],
                dialect: crate::scenario::Dialect::Default,
                description: String::new(),
                entra: String::new(),
            }),
            Event::RequestSent {
                scenario: 0,
                check: "s.a".into(),
                started_at: "2024-01-01T00:00:00.000Z".into(),
                request: SentRequest {
                    method: "GET".into(),
                    url: format!("https://h/scim/Users?x={token}"),
                    headers: vec![("X-Echo".into(), token.into())],
                    body: None,
                },
            },
            Event::ResponseReceived {
                scenario: 0,
                check: "s.a".into(),
                response: Ok(Received {
                    status: 200,
                    headers: vec![],
                    body: format!("{{\"echo\":\"{token}\"}}"),
                    truncated: false,
                    retries: vec![],
                }),
                elapsed_ms: 1.0,
            },
            Event::CheckFinished {
                scenario: 0,
                result: crate::run::CheckResult {
                    id: "s.a".into(),
                    name: "A".into(),
                    proves: None,
                    severity: crate::scenario::Severity::Fail,
                    evidence: crate::scenario::Evidence::Entra,
                    blocked_by: None,
                    outcome: crate::run::Outcome::Fail,
                    findings: vec![crate::run::Finding::fail(
                        "body",
                        format!("the body echoes {token}"),
                    )],
                    hint: None,
                    note: None,
                    exchange: None,
                    elapsed_ms: 1.0,
                },
            },
            Event::ScenarioFinished {
                scenario: 0,
                elapsed_ms: 1.0,
            },
            Event::RunFinished {
                summary: Summary::default(),
            },
        ];
        for (_, format) in ReportFormat::ALL {
            let out = Shared::default();
            let mut r = FileReporter::new(format, Box::new(out.clone()), Some(Secret::new(token)));
            for e in &events {
                r.on_event(e);
            }
            r.finish().unwrap();
            let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
            assert!(!text.is_empty(), "{format:?}");
            assert!(!text.contains(token), "{format:?} leaks the token:\n{text}");
            assert!(text.contains("REDACTED"), "{format:?} shows where it was");
        }
    }
}
