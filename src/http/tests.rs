//! The unit tests of the HTTP layer.

use std::time::Duration;

use super::*;

#[test]
fn media_types_and_percent_escapes_are_read_in_one_place() {
    assert_eq!(
        media_type("Application/SCIM+JSON ; charset=utf-8"),
        "application/scim+json"
    );
    assert_eq!(media_type(""), "");
    assert_eq!(percent_decode("a%2Bb+c").unwrap(), "a+b c");
    assert!(percent_decode("%ff").is_err());
    assert_eq!(percent_decode_path("/Users/a%20b+c%zz"), "/Users/a b+c%zz");
    // `%+f` is not an escape (from_str_radix would have read it as 0x0f).
    assert_eq!(percent_decode_path("%+f"), "%+f");
}

#[test]
fn a_token_split_across_lines_is_redacted_piece_by_piece() {
    let s = Secret::new("s3cr3t-t0ken-0123456789");
    // A diff whose next line carries a marker and indentation.
    assert_eq!(
        s.redact("+  \"detail\": \"s3cr3t-t0k\n+    en-0123456789 was wrong\""),
        "+  \"detail\": \"REDACTED\n+    REDACTED was wrong\""
    );
    // Escaped once (a JSON body) and twice (that body inside a JSON report), CRLF too.
    assert_eq!(
        s.redact("a s3cr3t-\\nt0ken-0123456789 b"),
        "a REDACTED\\nREDACTED b"
    );
    assert_eq!(
        s.redact("a s3cr3t-t0\\\\r\\\\nken-0123456789"),
        "a REDACTED\\\\r\\\\nREDACTED"
    );
    assert_eq!(
        s.redact("s3cr3t-\r\nt0ken-\n0123456789"),
        "REDACTED\r\nREDACTED\nREDACTED"
    );
    // As the terminal shows a carriage return, and as an excerpt joins lines.
    assert_eq!(
        s.redact("s3cr3t-t0\\x0d\n  ken-0123456789"),
        "REDACTED\\x0d\n  REDACTED"
    );
    assert_eq!(
        s.redact("was s3cr3t-t0 ken-0123456789."),
        "was REDACTED REDACTED."
    );
    // Text that only shares a prefix, or has no break, is left alone.
    assert_eq!(s.redact("s3cr3t-t0\nother"), "s3cr3t-t0\nother");
    assert_eq!(s.redact("plain line\nnext"), "plain line\nnext");
}

#[test]
fn tenant_urls_join_in_all_three_shapes() {
    let a = TenantUrl::parse("https://h/scim/v2").unwrap();
    assert_eq!(a.join("/Users"), "https://h/scim/v2/Users");
    assert!(!a.has_flag("aadOptscim062020"));
    let b = TenantUrl::parse("https://h/rest/scim/v2/").unwrap();
    assert_eq!(b.join("/Users/1"), "https://h/rest/scim/v2/Users/1");
    let c = TenantUrl::parse("https://h/scim/v2/?aadOptscim062020").unwrap();
    assert_eq!(c.join("/Groups"), "https://h/scim/v2/Groups");
    assert!(c.has_flag("aadOptscim062020") && c.has_flag("AADOPTSCIM062020"));
    assert!(TenantUrl::parse("ftp://h/x").is_err());
    assert!(TenantUrl::parse("not a url").is_err());
}

#[test]
fn secrets_never_format_and_are_redacted_from_text() {
    let s = Secret::new("s3cr3t-token");
    assert_eq!(format!("{s} {s:?}"), "REDACTED REDACTED");
    assert_eq!(s.redact("a s3cr3t-token b"), "a REDACTED b");
    let short = Secret::new("scim");
    assert_eq!(
        short.redact("scimcheck-1 token scim, (scim)"),
        "scimcheck-1 token REDACTED, (REDACTED)"
    );
    let long = Secret::new("abcdefghijklmnop");
    assert_eq!(long.redact("xabcdefghijklmnopx"), "xREDACTEDx");
    assert_eq!(
        redact_header("Authorization", "Bearer xyz", &s),
        "Bearer REDACTED"
    );
    assert_eq!(redact_header("X-Api-Token", "xyz", &s), "REDACTED");
    assert_eq!(redact_header("Cookie", "a=b", &s), "REDACTED");
}

#[test]
fn retry_after_takes_seconds_or_a_date() {
    assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon"), None);
}

#[test]
fn tls_failures_are_told_apart_by_the_tls_library_s_error_types() {
    use super::error::is_handshake_failure;
    use rustls::{AlertDescription, CertificateError, InvalidMessage};
    // A refused certificate or a handshake alert is a failed TLS handshake ...
    assert!(is_handshake_failure(&rustls::Error::InvalidCertificate(
        CertificateError::UnknownIssuer
    )));
    assert!(is_handshake_failure(&rustls::Error::AlertReceived(
        AlertDescription::HandshakeFailure
    )));
    // ... a port that speaks no TLS, or only an old version, is a connection failure.
    assert!(!is_handshake_failure(&rustls::Error::InvalidMessage(
        InvalidMessage::InvalidContentType
    )));
    assert!(!is_handshake_failure(&rustls::Error::AlertReceived(
        AlertDescription::ProtocolVersion
    )));
}
