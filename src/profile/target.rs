//! Target attribute paths as the Entra portal writes them, taken apart: where the value goes in
//! a resource body, what Entra's filter on it looks like, and the short slug used in check ids.

use serde_json::{Map, Value};

use crate::scim::filter::{CompareOp, Filter, parse_patch_path};
use crate::scim::json::first_ci;
use crate::scim::urn;

/// A target attribute path: `[urn:...:]name[[filter]][.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The schema URN when it is not the core User schema.
    pub urn: Option<String>,
    /// The attribute name (`emails`, `costCenter`).
    pub name: String,
    /// The `eq` comparisons of a value filter (`[type eq "work"]`): which element of a
    /// multi-valued attribute the mapping targets. Empty for single-valued attributes.
    pub select: Vec<(String, Value)>,
    /// The sub-attribute (`value`, `givenName`).
    pub sub: Option<String>,
}

impl Target {
    /// Parses a target path; the message says what is wrong.
    pub fn parse(path: &str) -> Result<Target, String> {
        let p = parse_patch_path(path).map_err(|e| e.message)?;
        let urn = p.attr.urn.filter(|u| !u.eq_ignore_ascii_case(urn::USER));
        let mut select = Vec::new();
        if let Some(f) = &p.filter {
            collect_eq(f, &mut select).map_err(|()| {
                format!(
                    "the value filter of `{path}` must be `eq` comparisons joined by `and`, as in `{}[type eq \"work\"].value`",
                    p.attr.name
                )
            })?;
            if p.sub.is_none() {
                return Err(format!(
                    "`{path}` selects a whole element; map one of its sub-attributes, as in `{path}.value`"
                ));
            }
        }
        Ok(Target {
            urn,
            name: p.attr.name,
            select,
            sub: p.sub,
        })
    }

    /// Whether both name the same attribute (names, URNs and filter values compare ignoring
    /// case, as SCIM attribute names do).
    pub fn same_as(&self, other: &Target) -> bool {
        self.key() == other.key()
    }

    fn key(&self) -> String {
        let mut k = format!("{}:{}", self.urn.as_deref().unwrap_or_default(), self.name);
        for (a, v) in &self.select {
            k.push_str(&format!("[{a}={v}]"));
        }
        if let Some(s) = &self.sub {
            k.push_str(&format!(".{s}"));
        }
        k.to_ascii_lowercase()
    }

    /// Whether the target is one element of a multi-valued attribute.
    pub fn is_multi(&self) -> bool {
        !self.select.is_empty()
    }

    /// The short, lower-case name used in check ids: `addresses-work-locality`,
    /// `enterprise-costcenter`, `name-givenname`.
    pub fn slug(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(u) = &self.urn {
            let lower = u.to_ascii_lowercase();
            let short = lower
                .split_once(":extension:")
                .map(|(_, rest)| rest.split(':').next().unwrap_or(rest).to_string())
                .unwrap_or(lower);
            parts.push(short);
        }
        parts.push(self.name.clone());
        for (_, v) in &self.select {
            parts.push(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        if let Some(s) = &self.sub {
            parts.push(s.clone());
        }
        let mut out = String::new();
        for c in parts.join("-").chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-').to_string()
    }

    /// The object the attribute lives in: the resource itself, or its extension object.
    fn container<'a>(&self, body: &'a mut Map<String, Value>) -> &'a mut Map<String, Value> {
        match &self.urn {
            None => body,
            Some(u) => {
                let key = existing_key(body, u).unwrap_or_else(|| u.clone());
                let slot = body.entry(key).or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                slot.as_object_mut().expect("just made an object")
            }
        }
    }

    /// Puts `value` where this target says in a resource body (creating the extension object,
    /// the complex value, or the selected element of a multi-valued attribute as needed).
    pub fn insert(&self, body: &mut Map<String, Value>, value: Value) {
        let container = self.container(body);
        let key = existing_key(container, &self.name).unwrap_or_else(|| self.name.clone());
        if self.is_multi() {
            let slot = container.entry(key).or_insert_with(|| Value::Array(vec![]));
            if !slot.is_array() {
                *slot = Value::Array(vec![]);
            }
            let items = slot.as_array_mut().expect("just made an array");
            let index = match items.iter().position(|i| self.selects(i)) {
                Some(i) => i,
                None => {
                    let mut element = Map::new();
                    for (k, v) in &self.select {
                        element.insert(k.clone(), v.clone());
                    }
                    items.push(Value::Object(element));
                    items.len() - 1
                }
            };
            if let (Some(Value::Object(element)), Some(sub)) = (items.get_mut(index), &self.sub) {
                element.insert(sub.clone(), value);
            }
        } else if let Some(sub) = &self.sub {
            let slot = container
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            slot.as_object_mut()
                .expect("just made an object")
                .insert(sub.clone(), value);
        } else {
            container.insert(key, value);
        }
    }

    /// Takes this target out of a resource body (and whatever becomes empty with it).
    pub fn remove(&self, body: &mut Map<String, Value>) {
        let container = self.container(body);
        let Some(key) = existing_key(container, &self.name) else {
            return;
        };
        match (&self.sub, self.is_multi()) {
            (Some(sub), true) => {
                if let Some(Value::Array(items)) = container.get_mut(&key) {
                    for item in items.iter_mut().filter(|i| self.selects(i)) {
                        if let Value::Object(o) = item {
                            o.remove(sub);
                        }
                    }
                    let selectors: Vec<&str> =
                        self.select.iter().map(|(k, _)| k.as_str()).collect();
                    items.retain(|i| {
                        i.as_object().is_some_and(|o| {
                            o.keys()
                                .any(|k| !selectors.contains(&k.as_str()) && k != "primary")
                        })
                    });
                    if items.is_empty() {
                        container.remove(&key);
                    }
                }
            }
            (Some(sub), false) => {
                if let Some(Value::Object(o)) = container.get_mut(&key) {
                    o.remove(sub);
                    if o.is_empty() {
                        container.remove(&key);
                    }
                }
            }
            (None, _) => {
                container.remove(&key);
            }
        }
        if let Some(u) = &self.urn
            && let Some(k) = existing_key(body, u)
            && body
                .get(&k)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
        {
            body.remove(&k);
        }
    }

    /// The part of `body` a read-back of this target must match: the target's value, and for a
    /// multi-valued attribute every element `body` has, named by its selector (so the element
    /// count must match, but only this target's value is compared).
    pub fn expectation(&self, body: &Map<String, Value>, value: &Value) -> Value {
        let mut out = Map::new();
        if self.is_multi() {
            let mut copy = body.clone();
            let container = self.container(&mut copy).clone();
            let elements: Vec<Value> = existing_key(&container, &self.name)
                .and_then(|k| container.get(&k).and_then(Value::as_array).cloned())
                .unwrap_or_default()
                .into_iter()
                .map(|element| {
                    if self.selects(&element) {
                        let mut e = Map::new();
                        for (k, v) in &self.select {
                            e.insert(k.clone(), v.clone());
                        }
                        if let Some(sub) = &self.sub {
                            e.insert(sub.clone(), value.clone());
                        }
                        Value::Object(e)
                    } else {
                        selector_only(&element)
                    }
                })
                .collect();
            let target = self.container(&mut out);
            target.insert(self.name.clone(), Value::Array(elements));
        } else {
            self.insert(&mut out, value.clone());
        }
        Value::Object(out)
    }

    /// Whether an element of a multi-valued attribute is the one the filter selects.
    fn selects(&self, element: &Value) -> bool {
        let Some(o) = element.as_object() else {
            return false;
        };
        self.select.iter().all(|(k, v)| {
            existing_key(o, k)
                .and_then(|k| o.get(&k))
                .is_some_and(|have| match (have, v) {
                    (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
                    (a, b) => a == b,
                })
        })
    }

    /// The value of this target in a body, if it has one.
    pub fn get<'a>(&self, body: &'a Map<String, Value>) -> Option<&'a Value> {
        let container = match &self.urn {
            None => body,
            Some(u) => body.get(&existing_key(body, u)?)?.as_object()?,
        };
        let v = container.get(&existing_key(container, &self.name)?)?;
        match (&self.sub, v) {
            (None, v) => Some(v),
            (Some(sub), Value::Array(items)) => items
                .iter()
                .find(|i| self.selects(i))
                .and_then(|i| i.get(sub.as_str())),
            (Some(sub), Value::Object(o)) => o.get(&existing_key(o, sub)?),
            _ => None,
        }
    }
}

/// An element reduced to the attributes that tell elements apart (`type`, else `value`).
fn selector_only(element: &Value) -> Value {
    let Some(o) = element.as_object() else {
        return element.clone();
    };
    let mut out = Map::new();
    for k in ["type", "value"] {
        if let Some(v) = o.get(k) {
            out.insert(k.to_string(), v.clone());
            break;
        }
    }
    Value::Object(out)
}

/// The key of `map` equal to `name` ignoring case.
fn existing_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    first_ci(map, name).map(|(k, _)| k.clone())
}

/// Collects `a eq v and b eq w` into pairs; anything else is an error.
fn collect_eq(f: &Filter, out: &mut Vec<(String, Value)>) -> Result<(), ()> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.urn.is_none() && path.sub.is_none() => {
            out.push((path.name.clone(), value.clone()));
            Ok(())
        }
        Filter::And(a, b) => {
            collect_eq(a, out)?;
            collect_eq(b, out)
        }
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_taken_apart_and_slugged() {
        let t = Target::parse(r#"addresses[type eq "work"].locality"#).unwrap();
        assert_eq!(t.name, "addresses");
        assert_eq!(t.select, vec![("type".into(), json!("work"))]);
        assert_eq!(t.slug(), "addresses-work-locality");
        let t =
            Target::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter")
                .unwrap();
        assert_eq!(t.slug(), "enterprise-costcenter");
        assert_eq!(
            Target::parse("name.givenName").unwrap().slug(),
            "name-givenname"
        );
        let core = Target::parse("urn:ietf:params:scim:schemas:core:2.0:User:title").unwrap();
        assert_eq!((core.urn.clone(), core.slug()), (None, "title".to_string()));
    }

    #[test]
    fn unsupported_filters_and_whole_elements_are_refused() {
        assert!(Target::parse(r#"emails[type co "w"].value"#).is_err());
        assert!(Target::parse(r#"emails[type eq "work"]"#).is_err());
        assert!(Target::parse("1bad").is_err());
        assert!(Target::parse(r#"emails[type eq "work" and primary eq true].value"#).is_ok());
    }

    #[test]
    fn values_go_where_the_target_says_and_come_out_again() {
        let mut body = Map::new();
        let work = Target::parse(r#"phoneNumbers[type eq "work"].value"#).unwrap();
        let mobile = Target::parse(r#"phoneNumbers[type eq "mobile"].value"#).unwrap();
        let cc =
            Target::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter")
                .unwrap();
        let given = Target::parse("name.givenName").unwrap();
        work.insert(&mut body, json!("+14255550100"));
        mobile.insert(&mut body, json!("+14255550123"));
        cc.insert(&mut body, json!("CC-1"));
        given.insert(&mut body, json!("Barbara"));
        assert_eq!(
            Value::Object(body.clone()),
            json!({
                "phoneNumbers": [{"type": "work", "value": "+14255550100"}, {"type": "mobile", "value": "+14255550123"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"costCenter": "CC-1"},
                "name": {"givenName": "Barbara"}
            })
        );
        assert_eq!(mobile.get(&body), Some(&json!("+14255550123")));
        assert_eq!(
            mobile.expectation(&body, &json!("+1")),
            json!({"phoneNumbers": [{"type": "work"}, {"type": "mobile", "value": "+1"}]})
        );
        work.remove(&mut body);
        cc.remove(&mut body);
        assert_eq!(
            Value::Object(body),
            json!({"phoneNumbers": [{"type": "mobile", "value": "+14255550123"}], "name": {"givenName": "Barbara"}})
        );
    }
}
