//! `scimcheck import`: a capture becomes a replayable scenario. A HAR file (a browser's,
//! mitmproxy's, or scimcheck's own `--report har`) is read ([`har`]), its SCIM requests of the
//! Tenant URL kept, ids and names replaced ([`names`]), and each exchange turned into a step with
//! expectations from its recorded response ([`build`]). An Entra provisioning-log export is
//! recognised and refused with what it lacks ([`provisioning_log`]). The result is checked by
//! loading it like any scenario file, and each step's expectation is checked against the
//! response it was derived from.

mod build;
mod har;
mod names;
mod provisioning_log;

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::diag::Diagnostic;
use crate::http::{REDACTED, Received};
use crate::scenario::Dialect;
use crate::scenario::model::Expect;
use crate::scenario::template::{Context, Generators};
use crate::scim::schema::SchemaSet;
use crate::scim::shape::{Shape, recognise};

use build::Exchange;
use names::Names;

/// What `import` is told.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The Tenant URL of the capture (inferred from the requests when absent).
    pub tenant_url: Option<String>,
    /// The scenario id (and check id prefix).
    pub id: String,
    /// The name of the scenario file being written (for diagnostics).
    pub out_name: String,
}

/// A scenario written from a capture.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario file's text.
    pub yaml: String,
    /// The Tenant URL the capture was read against.
    pub tenant_url: String,
    /// Steps written.
    pub steps: usize,
    /// What the import did and left out, one line each, for people.
    pub notes: Vec<String>,
}

/// Why nothing was written.
#[derive(Debug)]
pub enum ImportError {
    /// The file does not parse, or is neither a HAR nor a provisioning-log export.
    Input(Vec<Diagnostic>),
    /// The file was read but holds nothing a scenario can be made of; the text says why.
    Unusable(String),
}

/// Imports the capture `source` (read from `file`).
pub fn import(file: &str, source: &str, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let doc: Value = serde_json::from_str(source).map_err(|e| {
        ImportError::Input(vec![Diagnostic::at(
            file,
            source,
            e.line(),
            e.column(),
            format!("not valid JSON: {e}"),
        )])
    })?;
    if har::is_har(&doc) {
        return from_har(file, &har::read(&doc), opts);
    }
    if provisioning_log::is_export(&doc) {
        return Err(ImportError::Unusable(provisioning_log::what_is_missing(
            file, &doc,
        )));
    }
    Err(ImportError::Input(vec![
        Diagnostic::at(
            file,
            source,
            1,
            1,
            "neither a HAR file (no `log.entries`) nor an Entra provisioning-log export",
        )
        .with_help("export a HAR from the browser's Network tab, mitmproxy, `scimcheck proxy --report har=...` or `scimcheck run --report har=...`"),
    ]))
}

/// Credentials the capture carries: Authorization values (and their bearer tokens) and cookies.
/// None of them is written; they are redacted from the output as a last guard.
fn secrets(entries: &[har::Recorded]) -> Vec<String> {
    let mut out = vec![];
    for e in entries {
        for (k, v) in &e.request_headers {
            let k = k.to_ascii_lowercase();
            if k == "authorization" || k == "proxy-authorization" || k == "cookie" {
                out.push(v.clone());
                if let Some((_, cred)) = v.split_once(' ') {
                    out.push(cred.trim().to_string());
                }
            }
        }
        for (k, v) in &e.response_headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                out.push(v.split(';').next().unwrap_or_default().to_string());
            }
        }
    }
    out.retain(|s| s.len() >= 4 && s != REDACTED && !s.ends_with(REDACTED));
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

fn from_har(file: &str, har: &har::Har, opts: &ImportOptions) -> Result<Imported, ImportError> {
    let base = match &opts.tenant_url {
        Some(t) => crate::http::TenantUrl::parse(t)
            .map_err(ImportError::Unusable)?
            .base,
        None => build::infer_tenant(&har.entries).ok_or_else(|| {
            ImportError::Unusable(format!(
                "{file} holds no SCIM request (no URL with /Users, /Groups, /Schemas, /ResourceTypes or /ServiceProviderConfig); nothing to import"
            ))
        })?,
    };
    let mut notes = vec![];
    for (n, why) in &har.unreadable {
        notes.push(format!("entry {n} left out: {why}"));
    }
    let own = har.creator == "scimcheck";
    let mut exchanges = vec![];
    let mut not_scim = 0;
    for rec in &har.entries {
        let Some(x) = build::scim_exchange(rec, &base) else {
            not_scim += 1;
            continue;
        };
        if own
            && rec
                .comment
                .as_deref()
                .is_some_and(|c| c.ends_with(": cleanup"))
        {
            // scimcheck's own cleanup: the scenario gets its own.
            continue;
        }
        if rec.status == 0 {
            notes.push(format!(
                "entry {} left out: no response was recorded",
                rec.entry
            ));
            continue;
        }
        if rec.request_body.is_some() && x.request_json.is_none() {
            notes.push(format!(
                "entry {} left out: its request body is not JSON",
                rec.entry
            ));
            continue;
        }
        exchanges.push(x);
    }
    if not_scim > 0 {
        notes.push(format!(
            "{not_scim} request(s) that are not SCIM requests of {base} left out"
        ));
    }
    if exchanges.is_empty() {
        return Err(ImportError::Unusable(format!(
            "{file} holds no SCIM request of {base} with a response; nothing to import"
        )));
    }
    let mut names = Names::new(&base);
    let captures = build::learn(&exchanges, &mut names);
    let mut steps = vec![];
    let mut sent: HashMap<String, Vec<String>> = HashMap::new();
    let mut dialects: HashMap<&'static str, usize> = HashMap::new();
    let mut raw_patches = 0;
    let mut checks: Vec<(usize, String, Value, &Exchange)> = vec![];
    for x in &exchanges {
        if let Some(why) = build::foreign_reference(x, &names) {
            notes.push(format!(
                "entry {} ({} {}) left out: {why}",
                x.rec.entry, x.rec.method, x.path
            ));
            continue;
        }
        let shape = recognise(&x.rec.method, &x.path, &x.query, x.request_json.as_ref());
        match &shape {
            Shape::Patch { dialects: d, .. } => {
                for d in d {
                    *dialects.entry(d.as_str()).or_default() += 1;
                }
            }
            Shape::OtherPatch(_) => raw_patches += 1,
            _ => {}
        }
        let resource = names.path(&x.path);
        let key = resource.split('/').take(3).collect::<Vec<_>>().join("/");
        let capture = captures.get(&x.rec.entry);
        if let Some(var) = capture {
            let key = format!("/{}/{{{{ {var} }}}}", x.path.trim_matches('/'));
            sent.insert(key, build::sent_attributes(x));
        } else if matches!(shape, Shape::Patch { .. } | Shape::OtherPatch(_)) {
            sent.entry(key.clone())
                .or_default()
                .extend(build::sent_attributes(x));
        }
        let so_far = sent.get(&key).cloned().unwrap_or_default();
        let expect = build::expectation(x, &shape, &names, &so_far, &mut notes);
        let (req_key, req) = build::request(x, &shape, &names);
        let id = format!("{}.e{}.{}", opts.id, x.rec.entry, shape.id());
        let mut step = Map::new();
        step.insert(
            "name".into(),
            json!(format!("{} (entry {})", shape.label(), x.rec.entry)),
        );
        step.insert("id".into(), json!(id));
        step.insert(
            "proves".into(),
            json!(format!(
                "the app answers {} {} as it did in the capture ({}{})",
                x.rec.method,
                x.path,
                x.rec.status,
                x.rec
                    .comment
                    .as_ref()
                    .map(|c| format!("; {c}"))
                    .unwrap_or_default()
            )),
        );
        step.insert(req_key.into(), req);
        step.insert("expect".into(), expect.clone());
        if let Some(var) = capture {
            step.insert("capture".into(), json!({ var.as_str(): "/id" }));
            let collection = x.path.trim_matches('/');
            step.insert(
                "cleanup".into(),
                json!({"method": "DELETE", "path": format!("/{collection}/{{{{ {var} }}}}")}),
            );
        }
        checks.push((x.rec.entry, id, expect, x));
        steps.push(Value::Object(step));
    }
    let patch_steps: usize = dialects.values().sum::<usize>();
    let dialect_line = match (dialects.get("default"), dialects.get("compliant")) {
        (None, None) => "no PATCH in either of Entra's dialects".to_string(),
        (d, c) => format!(
            "PATCH dialect: {} request(s) in Entra's default dialect, {} in the compliant (aadOptscim062020) one; written as dialect-neutral `patch` steps, sent in the dialect of the run",
            d.unwrap_or(&0),
            c.unwrap_or(&0)
        ),
    };
    notes.insert(0, dialect_line);
    if raw_patches > 0 {
        notes.insert(
            1,
            format!("{raw_patches} PATCH request(s) match neither of Entra's dialects: written as raw requests, sent exactly as captured"),
        );
    }
    let secrets = secrets(&har.entries);
    notes.push(
        "the captured Authorization header and cookies are not written into the scenario; `scimcheck run` sends its own --token".into(),
    );
    let description = format!(
        "Replays {} SCIM request(s) captured in {} against {base}; ids are captured from the creates, names are run-prefixed generated values, and everything created is deleted at the end.",
        steps.len(),
        file_name(file)
    );
    let mut doc = Map::new();
    doc.insert("id".into(), json!(opts.id));
    doc.insert(
        "name".into(),
        json!(format!("Imported from {}", file_name(file))),
    );
    doc.insert("description".into(), json!(description));
    doc.insert(
        "entra".into(),
        json!("Traffic captured from a real provisioning run (or a proxy in front of one), replayed as recorded."),
    );
    doc.insert("tags".into(), json!(["imported"]));
    if patch_steps == 0 {
        doc.insert("dialect_neutral".into(), json!(true));
    }
    if !names.vars.is_empty() {
        doc.insert("vars".into(), Value::Object(names.vars.clone()));
    }
    doc.insert("steps".into(), Value::Array(steps));
    let body = serde_saphyr::to_string(&Value::Object(doc))
        .map_err(|e| ImportError::Unusable(format!("cannot write the scenario as YAML: {e}")))?;
    let mut yaml = format!(
        "# Imported by scimcheck from {} (Tenant URL {base}).\n# Lint it with `scimcheck lint`, replay it with `scimcheck run --url URL {}`.\n{body}",
        file_name(file),
        opts.out_name
    );
    for s in &secrets {
        if yaml.contains(s.as_str()) {
            yaml = yaml.replace(s.as_str(), REDACTED);
        }
    }
    if let Err(d) = crate::scenario::load_str(&opts.out_name, &yaml, false) {
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        return Err(ImportError::Unusable(format!(
            "the scenario written from {file} does not load (a scimcheck bug; please report it):\n{}",
            text.join("\n")
        )));
    }
    self_check(&checks, &names, &base, &mut notes);
    for n in &mut notes {
        for s in &secrets {
            if n.contains(s.as_str()) {
                *n = n.replace(s.as_str(), REDACTED);
            }
        }
    }
    Ok(Imported {
        steps: checks.len(),
        yaml,
        tenant_url: base,
        notes,
    })
}

fn file_name(file: &str) -> &str {
    std::path::Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(file)
}

/// Checks each step's expectation, with the capture's own values, against the response it was
/// derived from: where the recording already fails, the capture shows a bug the replay will
/// reproduce, and the notes say so.
fn self_check(
    checks: &[(usize, String, Value, &Exchange)],
    names: &Names,
    base: &str,
    notes: &mut Vec<String>,
) {
    let generators = Generators::new("import");
    let cx = Context {
        vars: &names.original,
        generators: &generators,
        dialect: Dialect::Default,
        base_url: base,
    };
    for (entry, id, expect, x) in checks {
        let Ok(rendered) = cx.render_value(expect) else {
            continue;
        };
        let Ok(text) = serde_saphyr::to_string(&rendered) else {
            continue;
        };
        let Ok(expect) = serde_saphyr::from_str::<Expect>(&text) else {
            continue;
        };
        let received = Received {
            status: x.rec.status,
            headers: x.rec.response_headers.clone(),
            body: x.rec.response_body.clone().unwrap_or_default(),
            truncated: false,
            retries: vec![],
        };
        let projected = x
            .query
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("attributes"));
        let findings =
            crate::run::expect::check(&expect, &received, SchemaSet::builtin(), false, projected);
        let fails: Vec<String> = findings
            .iter()
            .filter(|f| f.level == crate::scim::validate::Level::Fail)
            .map(|f| f.message.clone())
            .collect();
        if !fails.is_empty() {
            notes.push(format!(
                "entry {entry} ({id}): the recorded response already fails this step, so the replay reproduces a bug of the capture: {}",
                fails.join("; ")
            ));
        }
    }
}
