//! Semantic checks of a parsed scenario, before anything is sent: every step has exactly one
//! request, methods and schema names exist, captures are valid JSON pointers, assertions have
//! one predicate and valid filters, and every template names a variable defined before it.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, did_you_mean};

use super::capture::CaptureSpec;
use super::model::{Scenario, Step};
use super::template::{BUILTIN_ROOTS, references};

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

struct Linter<'a> {
    file: &'a str,
    source: &'a str,
    problems: Vec<Diagnostic>,
    /// Captures that hold a list (a `*` pointer, or every iteration of a `repeat` step), with
    /// where the list comes from: only a number indexes them (`{{ ids.0 }}`).
    lists: HashMap<String, String>,
}

fn offset_of<T>(s: &Spanned<T>) -> usize {
    s.referenced.span().byte_offset().unwrap_or(0) as usize
}

impl Linter<'_> {
    fn at(&mut self, offset: usize, message: String) -> &mut Diagnostic {
        self.problems.push(Diagnostic::at_offset(
            self.file,
            self.source,
            offset,
            message,
        ));
        self.problems.last_mut().expect("just pushed")
    }

    /// Checks every template reference in `value` against `defined`; `from` is where to start
    /// looking for the reference's text in the source.
    fn templates(
        &mut self,
        value: &Value,
        defined: &[String],
        later: &[(String, String)],
        from: usize,
    ) {
        match value {
            Value::String(s) => self.template_str(s, defined, later, from),
            Value::Array(items) => items
                .iter()
                .for_each(|i| self.templates(i, defined, later, from)),
            Value::Object(m) => {
                for (k, v) in m {
                    self.template_str(k, defined, later, from);
                    self.templates(v, defined, later, from);
                }
            }
            _ => {}
        }
    }

    fn template_str(
        &mut self,
        s: &str,
        defined: &[String],
        later: &[(String, String)],
        from: usize,
    ) {
        let refs = match references(s) {
            Ok(r) => r,
            Err(e) => {
                let at = self.find(s, from);
                self.at(at, format!("invalid template: {e}"));
                return;
            }
        };
        for r in refs {
            let end = s[r.offset..]
                .find("}}")
                .map_or(s.len(), |e| r.offset + e + 2);
            if let Some((message, help)) = self.bad_path(&r.expr, &r.root) {
                let at = self.find(&s[r.offset..end], from);
                self.at(at, message).help = Some(help);
                continue;
            }
            if BUILTIN_ROOTS.contains(&r.root.as_str()) || defined.contains(&r.root) {
                continue;
            }
            let at = self.find(&s[r.offset..end], from);
            let name = r.root.clone();
            let candidates: Vec<&str> = defined
                .iter()
                .map(String::as_str)
                .chain(BUILTIN_ROOTS.iter().copied())
                .collect();
            let help = if let Some((_, step)) = later.iter().find(|(n, _)| *n == name) {
                Some(format!(
                    "`{name}` is captured by the later step \"{step}\"; a value can only be used after the step that captures it"
                ))
            } else {
                did_you_mean(&name, candidates).map(|c| format!("did you mean `{c}`?"))
            };
            let d = self.at(at, format!("undefined template variable `{name}`"));
            if let Some(h) = help {
                d.help = Some(h);
            }
        }
    }

    /// What `run` would reject in the path of a template expression (`root.field.0`): a
    /// bracket index, a space, an empty field, or a name used to index a captured list.
    fn bad_path(&self, expr: &str, root: &str) -> Option<(String, String)> {
        let path = expr.split('|').next().unwrap_or_default().trim();
        let index_help = || {
            "fields and list items are reached with dots: `{{ ids.0 }}` is the first item of the list `ids`, `{{ user.name.givenName }}` a field".to_string()
        };
        if path.contains(['[', ']']) {
            let fixed = path.replace('[', ".").replace(']', "");
            return Some((
                format!(
                    "`{{{{ {path} }}}}`: templates do not index with brackets; write `{{{{ {fixed} }}}}`"
                ),
                index_help(),
            ));
        }
        let mut segments = path.split('.');
        if segments.next() != Some(root) {
            return Some((
                format!("`{{{{ {path} }}}}` is not a variable name followed by `.field`s"),
                index_help(),
            ));
        }
        let fields: Vec<&str> = segments.collect();
        if let Some(f) = fields.iter().find(|f| {
            f.is_empty()
                || !f
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$'))
        }) {
            return Some((
                format!("`{{{{ {path} }}}}` has an invalid field `{f}`"),
                index_help(),
            ));
        }
        let from = self.lists.get(root)?;
        let first = fields.first()?;
        if first.parse::<usize>().is_ok() {
            return None;
        }
        Some((
            format!(
                "`{root}` is a list ({from}); `{{{{ {path} }}}}` indexes it with `{first}`, which is not a number"
            ),
            index_help(),
        ))
    }

    /// Byte offset of `needle` in the source at or after `from` (or `from` when not found
    /// verbatim, e.g. because of YAML escapes).
    fn find(&self, needle: &str, from: usize) -> usize {
        let from = self.source.floor_char_boundary(from.min(self.source.len()));
        self.source[from..].find(needle).map_or(from, |i| from + i)
    }
}

/// The longest check id.
pub const MAX_CHECK_ID: usize = 200;

/// The check id of a step: its explicit `id`, else `<scenario-id>.<slug of the step name>`.
pub fn check_id(scenario_id: &str, step: &Step) -> String {
    step.id
        .clone()
        .unwrap_or_else(|| format!("{scenario_id}.{}", slug(&step.name)))
}

/// `Match before create` -> `match-before-create`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Lints a parsed scenario; an empty result means it may run.
pub fn lint(file: &str, source: &str, scenario_id: &str, scenario: &Scenario) -> Vec<Diagnostic> {
    let mut l = Linter {
        file,
        source,
        problems: Vec::new(),
        lists: HashMap::new(),
    };
    let mut defined: Vec<String> = Vec::new();
    // Captures of every step, to explain "used before captured".
    let all_captures: Vec<(String, String)> = scenario
        .steps
        .iter()
        .flat_map(|s| {
            s.value
                .capture
                .keys()
                .map(|k| (k.clone(), s.value.name.clone()))
        })
        .collect();

    if let Some(vars) = &scenario.vars {
        let from = offset_of(vars);
        for (name, value) in &vars.value {
            l.templates(value, &defined, &all_captures, from);
            defined.push(name.clone());
        }
    }

    let steps = crate::limits::STEPS.get();
    if scenario.steps.len() as u64 > steps {
        l.at(
            offset_of(&scenario.steps[0]),
            format!(
                "the scenario has {} steps; at most {steps} are allowed ({})",
                scenario.steps.len(),
                crate::limits::STEPS.hint()
            ),
        );
    }
    let mut ids = HashSet::new();
    for spanned in scenario.steps.iter().take(steps as usize) {
        let step = &spanned.value;
        let at = offset_of(spanned);
        let id = check_id(scenario_id, step);
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            l.at(
                at,
                format!("check id `{id}` may only contain letters, digits, `.`, `-` and `_`"),
            );
        }
        if !ids.insert(id.clone()) {
            l.at(
                at,
                format!("check id `{id}` is used by two steps of this scenario"),
            )
            .help = Some("give one of them an explicit `id:`".into());
        }
        let mut step_defined = defined.clone();
        if id.len() > MAX_CHECK_ID {
            l.at(
                at,
                format!(
                    "the check id is {} characters long; at most {MAX_CHECK_ID} are allowed",
                    id.len()
                ),
            );
        }
        match step.repeat {
            Some(0) => {
                l.at(at, "`repeat` must be at least 1".into());
            }
            Some(n) if u64::from(n) > crate::limits::REPEAT.get() => {
                l.at(
                    at,
                    format!(
                        "`repeat` is {n}; at most {} repetitions are allowed per step ({})",
                        crate::limits::REPEAT.get(),
                        crate::limits::REPEAT.hint()
                    ),
                );
            }
            Some(_) => step_defined.push("i".into()),
            None => {}
        }
        let later: Vec<(String, String)> = all_captures
            .iter()
            .filter(|(n, _)| !defined.contains(n))
            .cloned()
            .collect();

        match (&step.request, &step.patch) {
            (Some(_), Some(_)) => {
                l.at(
                    at,
                    format!(
                        "step \"{}\" has both `request` and `patch`; give exactly one",
                        step.name
                    ),
                );
            }
            (None, None) => {
                l.at(
                    at,
                    format!("step \"{}\" has neither `request` nor `patch`", step.name),
                );
            }
            _ => {}
        }
        for req in step.request.iter().chain(step.cleanup.iter()) {
            let from = offset_of(req);
            let method = req.value.method.to_ascii_uppercase();
            if !METHODS.contains(&method.as_str()) {
                let at = l.find(&req.value.method, from);
                let d = l.at(at, format!("unknown HTTP method `{}`", req.value.method));
                d.help = did_you_mean(&method, METHODS.iter().copied())
                    .map(|m| format!("did you mean `{m}`?"));
            }
        }
        if let Some(req) = &step.request {
            let from = offset_of(req);
            let r = &req.value;
            l.template_str(&r.path, &step_defined, &later, from);
            l.templates(&Value::Object(r.query.clone()), &step_defined, &later, from);
            l.templates(
                &Value::Object(r.headers.clone()),
                &step_defined,
                &later,
                from,
            );
            if let Some(b) = &r.body {
                l.templates(b, &step_defined, &later, from);
            }
        }
        if let Some(p) = &step.patch {
            let from = offset_of(p);
            let p = &p.value;
            l.template_str(&p.resource, &step_defined, &later, from);
            l.templates(&Value::Object(p.set.clone()), &step_defined, &later, from);
            l.templates(&Value::Object(p.add.clone()), &step_defined, &later, from);
            l.templates(
                &Value::Array(p.add_members.clone()),
                &step_defined,
                &later,
                from,
            );
            l.templates(
                &Value::Array(p.remove_members.clone()),
                &step_defined,
                &later,
                from,
            );
            l.templates(&Value::Array(p.ops.clone()), &step_defined, &later, from);
            for path in p.set.keys().chain(p.add.keys()).chain(p.remove.iter()) {
                if let Err(e) = crate::scim::validate_patch_path(path) {
                    let at = l.find(path, from);
                    l.at(at, format!("invalid attribute path `{path}` in patch: {e}"));
                }
            }
        }
        if let Some(expect) = &step.expect {
            let from = offset_of(expect);
            let e = &expect.value;
            if let Some(schema) = &e.schema
                && let Err(msg) = crate::scim::check_kind_name(&schema.value)
            {
                let at = offset_of(schema);
                l.at(at, msg);
            }
            if let Some(b) = &e.body {
                l.templates(b, &step_defined, &later, from);
            }
            l.templates(
                &Value::Object(e.headers.clone()),
                &step_defined,
                &later,
                from,
            );
            if let Some(ct) = &e.content_type
                && ct != "scim"
                && ct != "any"
            {
                let at = l.find(ct, from);
                l.at(
                    at,
                    format!("`content_type` must be `scim` or `any`, not `{ct}`"),
                );
            }
            for a in &e.assert {
                let aat = offset_of(a);
                let av = &a.value;
                if let Err(msg) = super::capture::validate_pointer(&av.pointer) {
                    let at = l.find(&av.pointer, aat);
                    l.at(at, msg);
                }
                let n = [
                    av.equals.is_some(),
                    av.absent.is_some(),
                    av.length.is_some(),
                    av.min.is_some(),
                    av.contains.is_some(),
                    av.not_contains.is_some(),
                    av.disjoint.is_some(),
                    av.all_match.is_some(),
                    av.one_of.is_some(),
                    av.endpoint.is_some(),
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if n != 1 {
                    l.at(aat, format!("an assertion needs exactly one predicate (equals, absent, length, min, contains, not_contains, disjoint, all_match, one_of, endpoint); this one has {n}"));
                }
                if let Some(list) = &av.one_of {
                    l.templates(&Value::Array(list.clone()), &step_defined, &later, aat);
                }
                for v in [&av.equals, &av.contains, &av.not_contains, &av.disjoint]
                    .into_iter()
                    .flatten()
                {
                    l.templates(v, &step_defined, &later, aat);
                }
                if let Some(f) = &av.all_match {
                    l.template_str(&f.value, &step_defined, &later, aat);
                    if references(&f.value).map(|r| r.is_empty()).unwrap_or(false)
                        && let Err(e) = crate::scim::validate_filter(&f.value)
                    {
                        let at = offset_of(f);
                        l.at(at, format!("invalid SCIM filter: {e}"));
                    }
                }
            }
        }
        for (name, spec) in &step.capture {
            let at = l.find(name, at);
            match CaptureSpec::from_value(spec) {
                Ok(c) => {
                    if let Err(msg) = super::capture::validate_pointer(&c.pointer) {
                        l.at(at, format!("capture `{name}`: {msg}"));
                    }
                }
                Err(msg) => {
                    l.at(at, format!("capture `{name}`: {msg}"));
                }
            }
        }
        // Captures become visible to the cleanup of this step and to every later step.
        step_defined.extend(step.capture.keys().cloned());
        if let Some(c) = &step.cleanup {
            let from = offset_of(c);
            l.template_str(&c.value.path, &step_defined, &later, from);
            if let Some(b) = &c.value.body {
                l.templates(b, &step_defined, &later, from);
            }
        }
        defined.extend(step.capture.keys().cloned());
        for (name, spec) in &step.capture {
            let pointer = CaptureSpec::from_value(spec)
                .map(|c| c.pointer)
                .unwrap_or_default();
            if step.repeat.is_some() {
                l.lists.insert(
                    name.clone(),
                    format!("one value per repetition of \"{}\"", step.name),
                );
            } else if pointer.contains('*') {
                l.lists
                    .insert(name.clone(), format!("captured from `{pointer}`"));
            } else {
                l.lists.remove(name);
            }
        }
    }
    l.problems
}
