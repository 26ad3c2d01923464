//! Entra's provisioning-log export (the JSON download of the portal's provisioning logs, or
//! Microsoft Graph's `auditLogs/provisioning`): an array of `provisioningObjectSummary`
//! objects. Each event names its action (`provisioningAction`: create, update, delete,
//! disable, ...), the source and target objects, the modified properties with old and new
//! values, and the steps Entra took, but not the HTTP exchange itself.

use serde_json::Value;

/// The events of an export: a bare array, or Graph's `{"value": [...]}`.
fn events(doc: &Value) -> Option<&Vec<Value>> {
    doc.as_array()
        .or_else(|| doc.get("value").and_then(Value::as_array))
}

/// Whether `doc` is a provisioning-log export.
pub fn is_export(doc: &Value) -> bool {
    events(doc).is_some_and(|e| {
        !e.is_empty()
            && e.iter().all(|ev| {
                ev.get("provisioningAction").is_some()
                    || (ev.get("action").is_some() && ev.get("modifiedProperties").is_some())
            })
    })
}

/// What the export holds and what a replayable scenario would need that it does not.
pub fn what_is_missing(file: &str, doc: &Value) -> String {
    let evs = events(doc).map(Vec::as_slice).unwrap_or_default();
    let mut actions: Vec<(String, usize)> = vec![];
    let mut with_props = 0;
    for ev in evs {
        let a = ev
            .get("provisioningAction")
            .or_else(|| ev.get("action"))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        match actions.iter_mut().find(|(n, _)| *n == a) {
            Some((_, c)) => *c += 1,
            None => actions.push((a, 1)),
        }
        if ev
            .get("modifiedProperties")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty())
        {
            with_props += 1;
        }
    }
    let counts: Vec<String> = actions.iter().map(|(a, n)| format!("{n} {a}")).collect();
    let has = |k: &str| evs.iter().any(|e| e.get(k).is_some());
    let request_fields = [
        "request",
        "httpMethod",
        "requestBody",
        "responseBody",
        "statusCode",
    ];
    let carries_http = request_fields.iter().any(|k| has(k));
    format!(
        "{file} is an Entra provisioning-log export: {} event(s) ({}), {with_props} with modified \
         properties (target attribute names and new values). {}It does not record the HTTP \
         exchanges Entra sent: no method, path or query (so no match filter), no request body \
         (so neither the exact JSON nor the PATCH dialect), no response status and no response \
         body, and target ids only as the app returned them. A scenario rebuilt from it would \
         replay requests Entra did not necessarily send, so scimcheck does not write one. \
         Capture the traffic instead: put `scimcheck proxy --report har=capture.har` between \
         Entra and the app (behind a tunnel with --listen-tls), then `scimcheck import capture.har`.",
        evs.len(),
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts.join(", ")
        },
        if carries_http {
            "Some events carry request fields, but not for every event. "
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_export_is_recognised_and_what_it_lacks_is_said() {
        let doc = json!({"value": [
            {"id": "1", "provisioningAction": "create", "modifiedProperties": [{"displayName": "userName", "oldValue": null, "newValue": "a@x"}]},
            {"id": "2", "provisioningAction": "disable", "modifiedProperties": []}
        ]});
        assert!(is_export(&doc));
        assert!(!is_export(&json!({"log": {"entries": []}})));
        let m = what_is_missing("logs.json", &doc);
        assert!(
            m.contains("2 event(s) (1 create, 1 disable), 1 with modified properties"),
            "{m}"
        );
        assert!(m.contains("no request body"), "{m}");
    }
}
