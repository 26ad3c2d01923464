//! What an imported scenario must not replay literally: server-assigned ids (captured from the
//! create that returned them), ids the capture never created (random ids answered 404 become
//! `{{ uuid }}`), concrete names (userName, emails, externalId, displayName become run-prefixed
//! generated values), and the original Tenant URL (`{{ base_url }}`).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::scim::filter::{Filter, parse_filter};

/// Attributes whose concrete values are replaced by generated ones, and the generator used.
const NAMED: [(&str, &str, &str); 4] = [
    ("username", "upn", "{{ unique.userName }}"),
    ("emails", "mail", "{{ unique.email }}"),
    ("externalid", "ext", "{{ unique.externalId }}"),
    ("displayname", "name", "{{ unique.name }}"),
];

/// The generator for an attribute path (`userName`, `emails[type eq "work"].value`, ...).
pub fn named_kind(attr: &str) -> Option<(&'static str, &'static str)> {
    let a = attr.to_ascii_lowercase();
    let a = a.rsplit(':').next().unwrap_or(&a);
    let head: String = a
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    NAMED
        .iter()
        .find(|(n, _, _)| *n == head)
        .map(|(_, prefix, generator)| (*prefix, *generator))
}

/// The substitution table of one import.
#[derive(Debug, Default)]
pub struct Names {
    /// Scenario variables in order of definition: name -> template.
    pub vars: Map<String, Value>,
    /// Concrete value -> the template text that replaces it (exact string matches).
    exact: HashMap<String, String>,
    /// Ids (created or minted) replaced inside longer strings too, longest first.
    ids: Vec<(String, String)>,
    /// Variable -> the concrete value it stands for in the capture.
    pub original: Map<String, Value>,
    /// Ids seen in the capture that it did not create and that exist (not answered 404).
    pub foreign: HashSet<String>,
    known_ids: HashSet<String>,
    base_url: String,
    counters: HashMap<&'static str, usize>,
}

impl Names {
    /// A table for a capture of the Tenant URL `base_url`.
    pub fn new(base_url: &str) -> Self {
        Names {
            base_url: base_url.to_string(),
            ..Names::default()
        }
    }

    fn next_var(&mut self, prefix: &'static str) -> String {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        format!("{prefix}_{n}")
    }

    /// An id the capture's create returned; the variable the create captures it into.
    pub fn created_id(&mut self, id: &str, collection_noun: &str) -> String {
        let prefix = if collection_noun == "group" {
            "group"
        } else {
            "user"
        };
        let var = self.next_var(prefix);
        self.add_id(id, &var);
        var
    }

    /// An id the capture used but never created, answered 404: replayed as a fresh `{{ uuid }}`.
    pub fn missing_id(&mut self, id: &str) -> String {
        let var = self.next_var("missing");
        self.vars
            .insert(var.clone(), Value::String("{{ uuid }}".into()));
        self.add_id(id, &var);
        var
    }

    fn add_id(&mut self, id: &str, var: &str) {
        let t = format!("{{{{ {var} }}}}");
        self.exact.insert(id.to_string(), t.clone());
        self.known_ids.insert(id.to_string());
        self.original
            .insert(var.to_string(), Value::String(id.to_string()));
        if id.len() >= 8 {
            self.ids.push((id.to_string(), t));
            self.ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        }
    }

    /// Whether `id` is an id this table knows (created or missing).
    pub fn knows_id(&self, id: &str) -> bool {
        self.known_ids.contains(id)
    }

    /// Registers the concrete names of the capture (`(value, attribute)` in order of first
    /// appearance): GUID-shaped values become `{{ uuid }}`, case variants of a known name its
    /// `| upper` / `| lower`, a name that extends a known one keeps the known one as prefix.
    pub fn add_names(&mut self, found: &[(String, String)]) {
        enum Plan {
            New(String),
            Case(String, &'static str),
            Prefix(String, String),
        }
        let mut unique: Vec<(String, String)> = vec![];
        for (v, a) in found {
            if !self.exact.contains_key(v) && !unique.iter().any(|(u, _)| u == v) {
                unique.push((v.clone(), a.clone()));
            }
        }
        let mut by_len: Vec<usize> = (0..unique.len()).collect();
        by_len.sort_by_key(|&i| unique[i].0.len());
        let mut plans: Vec<Option<Plan>> = (0..unique.len()).map(|_| None).collect();
        let mut new_ones: Vec<&str> = vec![];
        let mut seen: Vec<&str> = vec![];
        for &i in &by_len {
            let (value, attr) = (&unique[i].0, &unique[i].1);
            let case = new_ones.iter().find_map(|k| {
                if k.to_lowercase() != value.to_lowercase() {
                    None
                } else if *value == k.to_uppercase() {
                    Some(Plan::Case(k.to_string(), "upper"))
                } else if *value == k.to_lowercase() {
                    Some(Plan::Case(k.to_string(), "lower"))
                } else {
                    None
                }
            });
            let prefix = || {
                seen.iter()
                    .filter(|k| {
                        k.len() >= 4
                            && value.len() > k.len()
                            && value.starts_with(**k)
                            && at_boundary(k, &value[k.len()..])
                    })
                    .max_by_key(|k| k.len())
                    .map(|k| Plan::Prefix(k.to_string(), value[k.len()..].to_string()))
            };
            let plan = case
                .or_else(prefix)
                .unwrap_or_else(|| Plan::New(attr.clone()));
            if matches!(plan, Plan::New(_)) {
                new_ones.push(value);
            }
            seen.push(value);
            plans[i] = Some(plan);
        }
        // Variables are defined in order of first appearance.
        for (i, (value, _)) in unique.iter().enumerate() {
            if let Some(Plan::New(attr)) = &plans[i] {
                let (prefix, generator) = if uuid::Uuid::parse_str(value).is_ok() {
                    ("guid", "{{ uuid }}")
                } else {
                    named_kind(attr).unwrap_or(("name", "{{ unique.name }}"))
                };
                let var = self.next_var(prefix);
                self.vars
                    .insert(var.clone(), Value::String(generator.into()));
                self.original
                    .insert(var.clone(), Value::String(value.clone()));
                self.exact.insert(value.clone(), format!("{{{{ {var} }}}}"));
            }
        }
        // Derived templates, shortest first so that a prefix is always resolved before use.
        for &i in &by_len {
            let t = match &plans[i] {
                Some(Plan::Case(base, filter)) => {
                    let t = &self.exact[base];
                    format!("{} | {filter} }}}}", t.trim_end_matches(" }}"))
                }
                Some(Plan::Prefix(base, rest)) => format!("{}{rest}", self.exact[base]),
                _ => continue,
            };
            self.exact.insert(unique[i].0.clone(), t);
        }
    }

    /// The template text for a string of the capture, if anything in it must change.
    pub fn template_str(&self, s: &str) -> Option<String> {
        if let Some(t) = self.exact.get(s) {
            return Some(t.clone());
        }
        let mut out = s.to_string();
        if !self.base_url.is_empty() && out.contains(&self.base_url) {
            out = out.replace(&self.base_url, "{{ base_url }}");
        }
        for (id, t) in &self.ids {
            if out.contains(id.as_str()) {
                out = out.replace(id.as_str(), t);
            }
        }
        (out != s).then_some(out)
    }

    /// Every string in `v` templated.
    pub fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.template_str(s).unwrap_or_else(|| s.clone())),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect()),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, x)| (k.clone(), self.value(x))).collect())
            }
            other => other.clone(),
        }
    }

    /// A path with each segment templated.
    pub fn path(&self, p: &str) -> String {
        p.split('/')
            .map(|seg| self.template_str(seg).unwrap_or_else(|| seg.to_string()))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A filter with its comparison values templated (quoted strings, and the unquoted values
    /// Entra sometimes sends), everything else kept as written.
    pub fn filter(&self, f: &str) -> String {
        let mut out = String::with_capacity(f.len());
        let mut rest = f;
        let mut prev_word = String::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('"') {
                let end = quoted_end(r);
                let raw = &r[..end];
                let content: String =
                    serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string());
                match self.template_str(&content) {
                    Some(t) => out.push_str(&Value::String(t).to_string()),
                    None => {
                        out.push('"');
                        out.push_str(raw);
                        out.push('"');
                    }
                }
                rest = r.get(end + 1..).unwrap_or_default();
                prev_word.clear();
                continue;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == '(' || c == ')')
                .map_or(rest.len(), |i| i.max(1));
            let token = &rest[..end];
            let is_op = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]
                .contains(&prev_word.to_ascii_lowercase().as_str());
            match self.template_str(token).filter(|_| is_op) {
                Some(t) => out.push_str(&t),
                None => out.push_str(token),
            }
            if !token.trim().is_empty() {
                prev_word = token.to_string();
            }
            rest = &rest[end..];
        }
        out
    }
}

/// The byte index of the closing quote of a JSON string whose opening quote was just consumed.
/// Whether `known` followed by `rest` splits at a word boundary: `…-7` is not the prefix of
/// `…-78-page-` (another generated name that happens to start with the same digits).
fn at_boundary(known: &str, rest: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    !(word(known.chars().last()) && word(rest.chars().next()))
}

fn quoted_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i,
            _ => escaped = false,
        }
    }
    s.len()
}

/// The names compared in a filter: (value, attribute) for each comparison on a named attribute.
pub fn filter_names(f: &str, out: &mut Vec<(String, String)>) {
    fn walk(f: &Filter, out: &mut Vec<(String, String)>) {
        match f {
            Filter::Compare { path, value, .. } => {
                if let Some(v) = value.as_str()
                    && named_kind(&path.name).is_some()
                {
                    out.push((v.to_string(), path.name.clone()));
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Filter::Not(a) => walk(a, out),
            Filter::ValuePath { attr, sub, .. } => {
                if let Some((_, _, Value::String(v))) = sub
                    && named_kind(&attr.name).is_some()
                {
                    out.push((v.clone(), attr.name.clone()));
                }
            }
            Filter::Present(_) => {}
        }
    }
    if let Ok(parsed) = parse_filter(f) {
        walk(&parsed, out);
    }
}

/// The names a request body sends: named attributes at the top level (and in `emails`), in a
/// PATCH's `value`s for named paths, and in path-less PATCH value objects.
pub fn body_names(body: &Value, out: &mut Vec<(String, String)>) {
    fn attr_value(attr: &str, v: &Value, out: &mut Vec<(String, String)>) {
        if named_kind(attr).is_none() {
            return;
        }
        match v {
            Value::String(s) if !s.is_empty() => out.push((s.clone(), attr.to_string())),
            Value::Array(items) => {
                for i in items {
                    if let Some(s) = i.get("value").and_then(Value::as_str) {
                        out.push((s.to_string(), attr.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    let Some(m) = body.as_object() else { return };
    if let Some(ops) = m.get("Operations").and_then(Value::as_array) {
        for op in ops {
            let value = op.get("value").unwrap_or(&Value::Null);
            match op.get("path").and_then(Value::as_str) {
                Some(path) => attr_value(path, value, out),
                None => {
                    if let Some(vals) = value.as_object() {
                        for (k, v) in vals {
                            attr_value(k, v, out);
                        }
                    }
                }
            }
        }
        return;
    }
    for (k, v) in m {
        attr_value(k, v, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_the_prefix_of_another_only_at_a_word_boundary() {
        let mut n = Names::new("https://h/scim/v2");
        n.add_names(&[
            ("scimcheck-ab-7".into(), "displayName".into()),
            ("scimcheck-ab-78-page-".into(), "userName".into()),
            (
                "scimcheck-ab-78-page-1@example.com".into(),
                "userName".into(),
            ),
        ]);
        let page = n.template_str("scimcheck-ab-78-page-").unwrap();
        assert!(!page.contains("8-page-"), "{page}");
        assert_eq!(
            n.template_str("scimcheck-ab-78-page-1@example.com")
                .unwrap(),
            format!("{page}1@example.com")
        );
    }

    #[test]
    fn names_become_generated_values_with_case_and_prefix_variants_kept() {
        let mut n = Names::new("https://h/scim/v2");
        n.created_id("485e6a3d-3967-4fed-b17f-fa8260c32eee", "user");
        n.add_names(&[
            ("alice@contoso.com".into(), "userName".into()),
            ("ALICE@CONTOSO.COM".into(), "userName".into()),
            ("team-".into(), "userName".into()),
            ("team-1@contoso.com".into(), "userName".into()),
            (
                "0b7f5c7e-6d0e-4a7a-9a57-1f6f6f0f0f0f".into(),
                "userName".into(),
            ),
        ]);
        assert_eq!(n.template_str("alice@contoso.com").unwrap(), "{{ upn_1 }}");
        assert_eq!(
            n.template_str("ALICE@CONTOSO.COM").unwrap(),
            "{{ upn_1 | upper }}"
        );
        assert_eq!(
            n.template_str("team-1@contoso.com").unwrap(),
            "{{ upn_2 }}1@contoso.com"
        );
        assert_eq!(
            n.vars.get("guid_1"),
            Some(&Value::String("{{ uuid }}".into()))
        );
        assert_eq!(
            n.template_str("https://h/scim/v2/Users/485e6a3d-3967-4fed-b17f-fa8260c32eee")
                .unwrap(),
            "{{ base_url }}/Users/{{ user_1 }}"
        );
        assert_eq!(
            n.filter("userName eq \"ALICE@CONTOSO.COM\" and externalId eq alice@contoso.com"),
            "userName eq \"{{ upn_1 | upper }}\" and externalId eq {{ upn_1 }}"
        );
        assert_eq!(n.template_str("Alice"), None);
    }

    #[test]
    fn request_bodies_and_filters_name_their_values() {
        let mut out = vec![];
        body_names(
            &serde_json::json!({"userName": "a@x", "emails": [{"value": "m@x"}], "name": {"givenName": "A"}}),
            &mut out,
        );
        filter_names(
            "emails[type eq \"work\"].value eq \"m2@x\" and displayName eq \"G\"",
            &mut out,
        );
        let values: Vec<&str> = out.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(values, ["a@x", "m@x", "m2@x", "G"]);
    }
}
