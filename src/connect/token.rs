//! What can be learnt about a Secret Token locally, without sending it anywhere: a pasted
//! `Bearer ` prefix, and the `iss` / `exp` claims of a JWT. Nothing here returns the token or
//! the JWT's signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// The claims of a JWT-shaped token that matter for a diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JwtInfo {
    /// `iss`: who issued the token.
    pub iss: Option<String>,
    /// `aud`: who the token is for (a string or the first of a list).
    pub aud: Option<String>,
    /// `exp` as a UTC time (RFC 3339 in JSON).
    #[serde(serialize_with = "utc")]
    pub exp: Option<DateTime<Utc>>,
    /// `nbf` as a UTC time.
    #[serde(serialize_with = "utc")]
    pub nbf: Option<DateTime<Utc>>,
    /// `exp` is in the past.
    pub expired: bool,
}

/// Serialises an optional UTC time as an RFC 3339 string (`2020-09-13T12:26:40Z`).
pub fn utc<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => s.serialize_none(),
    }
}

/// The token without a pasted `Bearer ` prefix (any case), if it had one.
pub fn strip_bearer_prefix(token: &str) -> Option<&str> {
    let t = token.trim_start();
    let head = t.get(..7)?;
    if head.eq_ignore_ascii_case("bearer ") {
        let rest = t[7..].trim_start();
        (!rest.is_empty()).then_some(rest)
    } else {
        None
    }
}

/// Decodes the payload of a token that has JWT shape (`header.payload.signature`, base64url,
/// a header with `alg`), as of `now`. Returns `None` for anything else.
pub fn decode_jwt(token: &str, now: DateTime<Utc>) -> Option<JwtInfo> {
    let mut parts = token.trim().split('.');
    let (header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&b64(header)?).ok()?;
    header.get("alg")?;
    let claims: Value = serde_json::from_slice(&b64(payload)?).ok()?;
    let claims = claims.as_object()?;
    let time = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_f64)
            .and_then(|secs| DateTime::from_timestamp(secs as i64, 0))
    };
    let exp = time("exp");
    let aud = match claims.get("aud") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => items.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    Some(JwtInfo {
        iss: claims
            .get("iss")
            .and_then(Value::as_str)
            .map(str::to_string),
        aud,
        exp,
        nbf: time("nbf"),
        expired: exp.is_some_and(|e| e <= now),
    })
}

fn b64(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
        let p = URL_SAFE_NO_PAD.encode(claims);
        format!("{h}.{p}.c2lnbmF0dXJl")
    }

    #[test]
    fn a_pasted_bearer_prefix_is_found_in_any_case() {
        assert_eq!(strip_bearer_prefix("Bearer abc"), Some("abc"));
        assert_eq!(strip_bearer_prefix("bearer  abc"), Some("abc"));
        assert_eq!(strip_bearer_prefix("BEARER abc"), Some("abc"));
        assert_eq!(strip_bearer_prefix("Bearerabc"), None);
        assert_eq!(strip_bearer_prefix("abc"), None);
        assert_eq!(strip_bearer_prefix("Bearer "), None);
    }

    #[test]
    fn jwt_claims_are_decoded_and_expiry_judged_against_now() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let t = jwt(r#"{"iss":"https://sts.example.com/","aud":["app"],"exp":1600000000}"#);
        let info = decode_jwt(&t, now).unwrap();
        assert_eq!(info.iss.as_deref(), Some("https://sts.example.com/"));
        assert_eq!(info.aud.as_deref(), Some("app"));
        assert!(info.expired);
        assert_eq!(info.exp.unwrap().to_rfc3339(), "2020-09-13T12:26:40+00:00");
        let fresh = decode_jwt(&jwt(r#"{"exp":1800000000}"#), now).unwrap();
        assert!(!fresh.expired);
        assert_eq!(fresh.iss, None);
    }

    #[test]
    fn opaque_tokens_are_not_jwts() {
        let now = Utc::now();
        assert_eq!(decode_jwt("s3cr3t-opaque-token", now), None);
        assert_eq!(decode_jwt("a.b.c", now), None);
        let no_alg = format!(
            "{}.{}.x",
            URL_SAFE_NO_PAD.encode("{}"),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert_eq!(decode_jwt(&no_alg, now), None);
    }
}
