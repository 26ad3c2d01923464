//! A TLS handshake that verifies nothing and sends nothing, to look at the certificate a server
//! presents after a verified handshake failed: is it self-signed, when does it expire, which
//! TLS version does the server speak. No HTTP request (and so no token) goes over it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::Serialize;

use crate::diagnosis::Code;

/// What an unverified handshake showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsFacts {
    /// The negotiated version (`TLSv1_3`), when the handshake completed.
    pub version: Option<String>,
    /// Why the handshake failed, when it did.
    pub error: Option<String>,
    /// How many certificates the server sent (leaf first).
    pub chain_len: usize,
    /// The leaf certificate, when one was sent and could be read.
    pub leaf: Option<CertFacts>,
}

/// The parts of a certificate a diagnosis needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertFacts {
    /// Issuer and subject are the same name: a self-signed certificate.
    pub self_issued: bool,
    #[serde(serialize_with = "super::token::utc")]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::token::utc")]
    pub not_after: Option<DateTime<Utc>>,
}

/// Handshakes with `host:port` (SNI `host`) within `timeout`, accepting any certificate.
pub async fn inspect(host: &str, port: u16, timeout: Duration) -> TlsFacts {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(Recorder {
        chain: Mutex::default(),
        provider: provider.clone(),
    });
    let mut facts = TlsFacts {
        version: None,
        error: None,
        chain_len: 0,
        leaf: None,
    };
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth(),
        Err(e) => {
            facts.error = Some(e.to_string());
            return facts;
        }
    };
    let name = match ServerName::try_from(host.trim_matches(['[', ']']).to_string()) {
        Ok(n) => n,
        Err(e) => {
            facts.error = Some(format!("invalid server name: {e}"));
            return facts;
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let attempt = async {
        let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port)).await?;
        connector.connect(name, tcp).await
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(stream)) => {
            facts.version = stream
                .get_ref()
                .1
                .protocol_version()
                .map(|v| format!("{v:?}"));
        }
        Ok(Err(e)) => facts.error = Some(crate::http::error_chain(&e)),
        Err(_) => facts.error = Some(format!("no TLS handshake within {timeout:?}")),
    }
    let chain = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
    facts.chain_len = chain.len();
    facts.leaf = chain.first().and_then(|der| cert_facts(der));
    facts
}

/// Records the presented chain and accepts it.
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<Vec<u8>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            chain.push(end_entity.to_vec());
            chain.extend(intermediates.iter().map(|c| c.to_vec()));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Issuer, subject and validity of a DER certificate (RFC 5280 section 4.1).
pub fn cert_facts(der: &[u8]) -> Option<CertFacts> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let time = |t: x509_parser::time::ASN1Time| DateTime::from_timestamp(t.timestamp(), 0);
    Some(CertFacts {
        self_issued: cert.issuer().as_raw() == cert.subject().as_raw(),
        not_before: time(cert.validity().not_before),
        not_after: time(cert.validity().not_after),
    })
}

/// The TLS library's own words in a transport error (`invalid peer certificate: Expired`),
/// without advice added around them for other commands.
pub fn tls_detail(error: &str) -> String {
    match error.find("invalid peer certificate") {
        Some(i) => {
            let detail = &error[i..];
            match detail.strip_suffix(')') {
                Some(d) if error[..i].ends_with('(') => d.to_string(),
                _ => detail.to_string(),
            }
        }
        None => error.to_string(),
    }
}

/// Classifies a TLS failure from the client's error text and the unverified handshake.
pub(super) fn tls_code(error: &str, facts: Option<&TlsFacts>) -> Option<Code> {
    let mut text = tls_detail(error).to_ascii_lowercase();
    if let Some(e) = facts.and_then(|f| f.error.as_deref()) {
        text.push(' ');
        text.push_str(&e.to_ascii_lowercase());
    }
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&[
        "unknownissuer",
        "unknown issuer",
        "self-signed",
        "self signed",
        "causedasendentity",
    ]) {
        return Some(match facts.and_then(|f| f.leaf.as_ref()) {
            Some(leaf) if leaf.self_issued => Code::TlsSelfSigned,
            _ => Code::TlsUntrusted,
        });
    }
    if has(&["expired"]) {
        return Some(Code::TlsExpired);
    }
    if has(&["notvalidforname", "not valid for name"]) {
        return Some(Code::TlsWrongHost);
    }
    if has(&["notvalidyet", "not valid yet"]) {
        return Some(Code::TlsNotYetValid);
    }
    if has(&[
        "protocolversion",
        "protocol version",
        "peer is incompatible",
        "peerincompatible",
        "tls12notoffered",
        "unsupported protocol",
        "supportedversions",
    ]) {
        return Some(Code::TlsOldVersion);
    }
    if has(&[
        "invalidcontenttype",
        "corrupt message",
        "invalid content type",
    ]) {
        return Some(Code::TlsNotTls);
    }
    if has(&["certificate", "tls", "handshake", "alert"]) {
        return Some(Code::TlsFailed);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_failures_are_told_apart_by_the_error_text() {
        assert_eq!(
            tls_code("invalid peer certificate: UnknownIssuer", None),
            Some(Code::TlsUntrusted)
        );
        assert_eq!(
            tls_code(
                "invalid peer certificate: certificate expired: verification time",
                None
            ),
            Some(Code::TlsExpired)
        );
        assert_eq!(
            tls_code("certificate not valid for name \"x\"", None),
            Some(Code::TlsWrongHost)
        );
        assert_eq!(
            tls_code("received fatal alert: ProtocolVersion", None),
            Some(Code::TlsOldVersion)
        );
        assert_eq!(
            tls_code("received corrupt message of type InvalidContentType", None),
            Some(Code::TlsNotTls)
        );
        assert_eq!(tls_code("connection reset by peer", None), None);
        assert_eq!(
            tls_detail("TLS handshake failed: a hint (invalid peer certificate: Expired)"),
            "invalid peer certificate: Expired"
        );
        assert_eq!(
            tls_code(
                "the certificate has expired (invalid peer certificate: UnknownIssuer)",
                None
            ),
            Some(Code::TlsUntrusted),
            "only the TLS library's words count"
        );
    }

    #[test]
    fn certificates_are_read_for_issuer_and_validity() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let facts = cert_facts(cert.der()).unwrap();
        assert!(facts.self_issued);
        assert_eq!(
            facts.not_before.unwrap().to_rfc3339(),
            "2020-01-01T00:00:00+00:00"
        );
        assert_eq!(
            facts.not_after.unwrap().to_rfc3339(),
            "2049-12-31T00:00:00+00:00"
        );
        assert!(cert_facts(b"not a certificate").is_none());
    }
}
