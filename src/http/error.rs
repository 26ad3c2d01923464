//! Why no response was received: [`TransportError`], and how a failed request is told apart
//! (name resolution, refusal, TLS, timeouts, a body that cannot be read). TLS failures are
//! recognised by the TLS library's error types in the error's source chain.

use std::error::Error;
use std::io;
use std::time::Duration;

use rustls::{AlertDescription, CertificateError, ContentType, PeerIncompatible, PeerMisbehaved};
use serde::Serialize;

use super::message::Received;
use super::secret::Secret;

/// Why no response was received.
#[derive(Debug, Clone, Serialize, PartialEq, thiserror::Error)]
pub enum TransportError {
    /// The host name does not resolve.
    #[error("could not resolve the host name: {0}")]
    Dns(String),
    /// Nothing listens on the port.
    #[error("connection refused: {0}")]
    Refused(String),
    /// No response within the timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The TLS handshake failed (a refused certificate, most often), in words to act on.
    #[error("TLS handshake failed: {0}")]
    Tls(Failure),
    /// The connection failed otherwise (including a port that does not speak TLS).
    #[error("connection failed: {0}")]
    Connect(Failure),
    /// The status line, headers or body could not be read.
    #[error("the response could not be read: {0}")]
    Body(String),
    /// A write to a resource this run did not create, refused before sending.
    #[error(
        "scimcheck refused to send {method} {path}: that resource was not created by this run (use --allow-foreign-writes to override)"
    )]
    ForeignWrite {
        /// The method that would have written.
        method: String,
        /// The resource it would have written to.
        path: String,
    },
    /// A write under `--read-only`, refused before sending.
    #[error("scimcheck refused to send {0}: --read-only allows only GET requests")]
    ReadOnly(String),
    /// The request could not be built (an invalid method).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No access token could be had from the OAuth token endpoint.
    #[error("no access token from the OAuth token endpoint: {0}")]
    Token(String),
}

/// A connection failure in words, and what the TLS library's error type says it was (when TLS
/// was involved). It reads, prints and serialises as its text alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The failure in words (redacted).
    pub text: String,
    /// The TLS failure behind it, by type, if any.
    pub tls: Option<TlsCause>,
}

impl Failure {
    /// A failure known only by its words.
    pub fn text(text: impl Into<String>) -> Self {
        Failure {
            text: text.into(),
            tls: None,
        }
    }
}

impl std::ops::Deref for Failure {
    type Target = String;
    fn deref(&self) -> &String {
        &self.text
    }
}

impl std::ops::DerefMut for Failure {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.text
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Failure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// What a TLS failure was, told by the TLS library's error type (never by its message text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsCause {
    /// The certificate is not signed by a trusted authority (self-signed, a private CA).
    Untrusted,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// The certificate does not name the host.
    WrongHost,
    /// The server offers only TLS versions below 1.2 (or none in common).
    OldVersion,
    /// The port does not speak TLS (a record that is not TLS).
    NotTls,
    /// Another handshake or certificate failure.
    Other,
}

/// The [`TlsCause`] of a TLS library error.
pub fn tls_cause(e: &rustls::Error) -> TlsCause {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => TlsCause::Untrusted,
            CertificateError::Other(other)
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                ) =>
            {
                TlsCause::Untrusted
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::ExpiredRevocationList
            | CertificateError::ExpiredRevocationListContext { .. } => TlsCause::Expired,
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsCause::NotYetValid
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsCause::WrongHost
            }
            _ => TlsCause::Other,
        },
        E::AlertReceived(AlertDescription::CertificateExpired) => TlsCause::Expired,
        E::AlertReceived(AlertDescription::ProtocolVersion) | E::PeerIncompatible(_) => {
            TlsCause::OldVersion
        }
        E::InvalidMessage(_) => TlsCause::NotTls,
        _ => TlsCause::Other,
    }
}

/// The TLS library error in an error's source chain, looking inside the `io::Error`s that
/// tokio-rustls wraps it in.
pub fn rustls_error<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        cur = match err.downcast_ref::<io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner as &(dyn Error + 'static)),
                None => io.source(),
            },
            None => err.source(),
        };
    }
    None
}

impl TransportError {
    /// Whether this means the host could not be reached at all (exit code 3).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            TransportError::Dns(_)
                | TransportError::Refused(_)
                | TransportError::Tls(_)
                | TransportError::Connect(_)
        ) || matches!(self, TransportError::Timeout(_))
    }
}

/// Whether a failed request may succeed when sent again: no answer (refused, reset, timed out,
/// cut short), or a 5xx, 408 or 429.
pub fn is_transient(r: &Result<Received, TransportError>) -> bool {
    match r {
        Ok(r) => r.status >= 500 || matches!(r.status, 408 | 429),
        Err(e) => matches!(
            e,
            TransportError::Refused(_)
                | TransportError::Timeout(_)
                | TransportError::Connect(_)
                | TransportError::Body(_)
                | TransportError::Dns(_)
        ),
    }
}

/// Every message in an error's source chain, joined with `: `.
pub fn error_chain(e: &dyn Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// A failed request (no response) as a [`TransportError`]; every text redacted with `token`.
/// `timeout` is the per-request timeout, named when it ran out.
pub(super) fn classify(e: &reqwest::Error, token: &Secret, timeout: Duration) -> TransportError {
    let chain = token.redact(&error_chain(e));
    let lower = chain.to_lowercase();
    if e.is_timeout() {
        TransportError::Timeout(timeout)
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        TransportError::Dns(chain)
    } else if lower.contains("connection refused") {
        TransportError::Refused(chain)
    } else if let Some(failure) = tls_failure(e) {
        TransportError::Tls(Failure {
            text: tls_diagnosis(failure, &chain, token),
            tls: Some(rustls_error(e).map_or(TlsCause::Other, tls_cause)),
        })
    } else if e.is_connect() {
        TransportError::Connect(Failure {
            text: chain,
            tls: rustls_error(e).map(tls_cause),
        })
    } else if lower.contains("invalid http version") || lower.contains("invalid status") {
        TransportError::Body(format!(
            "the server did not answer in HTTP ({}): is the port right, or is it an https:// endpoint?",
            chain.rsplit(": ").next().unwrap_or(&chain)
        ))
    } else if lower.contains("connection closed before message completed") {
        TransportError::Body("the server closed the connection without answering".into())
    } else {
        TransportError::Body(chain)
    }
}

/// What went wrong reading a body whose status and headers did arrive, for people: `read`
/// bytes had arrived; `timeout` is the per-request timeout.
pub(super) fn body_error(
    e: &reqwest::Error,
    token: &Secret,
    timeout: Duration,
    status: u16,
    headers: &[(String, String)],
    read: usize,
) -> String {
    let chain = token.redact(&error_chain(e));
    let lower = chain.to_lowercase();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    // reqwest drops `Content-Encoding` from the headers it hands over when it decodes.
    let encoding = header("content-encoding")
        .filter(|v| !v.eq_ignore_ascii_case("identity"))
        .or_else(|| {
            ["gzip", "deflate", "brotli", "zstd"]
                .into_iter()
                .find(|enc| lower.contains(enc))
        });
    if e.is_timeout() || lower.contains("timed out") {
        format!(
            "the status ({status}) and headers arrived, but the body did not finish within {timeout:?}: the server stalled mid-body or the body never ends"
        )
    } else if lower.contains("end of file before message length reached")
        || lower.contains("unexpected eof")
    {
        let expected = header("content-length")
            .map(|n| format!(" of the {n} announced by Content-Length"))
            .unwrap_or_default();
        format!("the connection closed after {read} body bytes{expected}: the body is truncated")
    } else if let Some(enc) = encoding {
        let last = chain.rsplit(": ").next().unwrap_or(&chain);
        format!("the body is sent as `Content-Encoding: {enc}` but does not decode: {last}")
    } else {
        chain
    }
}

/// How a TLS handshake failed, as found in an error's source chain.
enum TlsFailure<'a> {
    /// The TLS library refused the handshake, or the server did.
    Refused(&'a rustls::Error),
    /// The connection closed before the handshake completed.
    Closed,
}

/// The failed TLS handshake behind a connect error, if that is why it failed. Not every error
/// of the TLS library counts: a port that does not speak TLS (a corrupt record) or speaks only
/// versions below 1.2 (a `protocol_version` alert) stays a connection failure, which
/// `connect` probes further; see [`is_handshake_failure`].
fn tls_failure(e: &reqwest::Error) -> Option<TlsFailure<'_>> {
    let mut closed = false;
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return is_handshake_failure(t).then_some(TlsFailure::Refused(t));
        }
        // tokio-rustls hands the TLS library's error over inside an `io::Error` (inside
        // another), whose own `source()` skips what it wraps: look inside instead.
        cur = match err.downcast_ref::<io::Error>() {
            Some(io) => {
                // Nothing but the TLS handshake reads from a connection being set up.
                closed |= io.kind() == io::ErrorKind::UnexpectedEof;
                match io.get_ref() {
                    Some(inner) => Some(inner as &(dyn Error + 'static)),
                    None => io.source(),
                }
            }
            None => err.source(),
        };
    }
    (closed && e.is_connect()).then_some(TlsFailure::Closed)
}

/// Whether the TLS library's error is about the handshake, a certificate or a TLS version, not
/// about the records a port speaks: exactly the errors whose names say handshake, certificate
/// or TLS (what a match on the message text picked before).
pub(super) fn is_handshake_failure(e: &rustls::Error) -> bool {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(_)
        | E::InvalidCertRevocationList(_)
        | E::InappropriateHandshakeMessage { .. }
        | E::HandshakeNotComplete => true,
        E::InappropriateMessage {
            expect_types,
            got_type,
        } => *got_type == ContentType::Handshake || expect_types.contains(&ContentType::Handshake),
        E::InvalidMessage(m) => {
            use rustls::InvalidMessage as M;
            matches!(
                m,
                M::CertificatePayloadTooLarge
                    | M::HandshakePayloadTooLarge
                    | M::InvalidCertificateStatusType
                    | M::UnknownCertificateExtension
            )
        }
        E::AlertReceived(a) => {
            use AlertDescription as A;
            matches!(
                a,
                A::HandshakeFailure
                    | A::NoCertificate
                    | A::BadCertificate
                    | A::UnsupportedCertificate
                    | A::CertificateRevoked
                    | A::CertificateExpired
                    | A::CertificateUnknown
                    | A::CertificateUnobtainable
                    | A::BadCertificateStatusResponse
                    | A::BadCertificateHashValue
                    | A::CertificateRequired
            )
        }
        E::PeerIncompatible(p) => {
            use PeerIncompatible as P;
            matches!(
                p,
                P::IncorrectCertificateTypeExtension
                    | P::NoCertificateRequestSignatureSchemesInCommon
                    | P::ServerDoesNotSupportTls12Or13
                    | P::ServerTlsVersionIsDisabledByOurConfig
                    | P::Tls12NotOffered
                    | P::Tls12NotOfferedOrEnabled
                    | P::Tls13RequiredForQuic
                    | P::UnsolicitedCertificateTypeExtension
            )
        }
        E::PeerMisbehaved(p) => {
            use PeerMisbehaved as P;
            matches!(
                p,
                P::AttemptedDowngradeToTls12WhenTls13IsSupported
                    | P::HandshakeHashVariedAfterRetry
                    | P::IllegalTlsInnerPlaintext
                    | P::MessageInterleavedWithHandshakeMessage
                    | P::OfferedDuplicateCertificateCompressions
                    | P::RejectedEarlyDataInterleavedWithHandshakeMessage
                    | P::SelectedTls12UsingTls13VersionExtension
                    | P::SignedHandshakeWithUnadvertisedSigScheme
            )
        }
        _ => false,
    }
}

/// A TLS failure in words a person can act on, with the TLS library's own words after (its
/// refusal of the certificate, else the whole `chain`).
fn tls_diagnosis(failure: TlsFailure<'_>, chain: &str, token: &Secret) -> String {
    let TlsFailure::Refused(e) = failure else {
        return chain.to_string();
    };
    let detail = match e {
        rustls::Error::InvalidCertificate(_) => token.redact(&e.to_string()),
        _ => chain.to_string(),
    };
    // The `...Context` variants rustls reports for an expired, not yet valid or wrongly named
    // certificate (`ExpiredContext`, `NotValidYetContext`, `NotValidForNameContext`) get no
    // hint, as when this matched the message text: their own words say it.
    let hint = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "the certificate is not signed by a trusted authority (self-signed, or a private CA): pass the issuing certificate with --ca-cert FILE, or use --insecure"
            }
            CertificateError::Other(other)
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                ) =>
            {
                "the server presents a CA certificate as its own (as `openssl req -x509` makes by default), which is refused even with --ca-cert: issue a server certificate (basicConstraints CA:FALSE), or use --insecure"
            }
            CertificateError::NotValidForName => {
                "the certificate does not name this host: use the host name it was issued for"
            }
            CertificateError::Expired | CertificateError::ExpiredRevocationList => {
                "the certificate has expired"
            }
            CertificateError::NotValidYet => "the certificate is not valid yet (check the clocks)",
            _ => return detail,
        },
        rustls::Error::AlertReceived(AlertDescription::CertificateExpired) => {
            "the certificate has expired"
        }
        _ => return detail,
    };
    format!("{hint} ({detail})")
}
