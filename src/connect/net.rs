//! The network layer of Test Connection: DNS, TCP and TLS failures of a probe, each followed
//! up (a bare TCP connection, an unverified TLS handshake) until the cause is named.

use std::time::Duration;

use super::answer::short_error;
use super::journal::{Journal, described, error, not_deserializable};
use super::model::Stage;
use super::scim::users_probe;
use super::tenant::place;
use super::tls::{self, tls_code};
use crate::diagnosis::Code;
use crate::http::{Client, Secret, TransportError};
use crate::scenario::model::Auth;

impl Journal {
    /// Transport failures of a probe: DNS, TCP, timeouts, TLS.
    pub(super) async fn transport(&mut self, e: &TransportError, step: usize, url: &str) {
        let Some(p) = place(url) else {
            return;
        };
        let hostport = format!("{}:{}", p.host, p.port);
        let cannot = |why: &str| described(format!("Entra cannot connect to {hostport}: {why}"));
        match e {
            TransportError::Dns(msg) => {
                let msg = &short_error(msg);
                self.note(
                    step,
                    false,
                    format!("the host name {} does not resolve", p.host),
                );
                self.add(
                    error(
                        Code::NetDns,
                        format!("The host name `{}` does not resolve", p.host),
                    )
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the host name does not resolve")),
                );
            }
            TransportError::Refused(msg) => {
                let msg = &short_error(msg);
                self.note(
                    step,
                    false,
                    format!("nothing accepts connections on {hostport}"),
                );
                self.add(
                    error(
                        Code::NetRefused,
                        format!("Nothing accepts connections on {hostport} (connection refused)"),
                    )
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the connection is refused")),
                );
            }
            TransportError::Timeout(d) => {
                let limit = (*d).min(Duration::from_secs(5));
                let started = std::time::Instant::now();
                let tcp = tokio::time::timeout(
                    limit,
                    tokio::net::TcpStream::connect((p.host.trim_matches(['[', ']']), p.port)),
                )
                .await;
                let elapsed = started.elapsed();
                let secs = d.as_secs_f64();
                match tcp {
                    Ok(Ok(_)) => {
                        let tcp_step = self.record_connection(
                            "TCP",
                            "does the TCP connection itself succeed?",
                            &hostport,
                            elapsed,
                            None,
                            vec!["connected".into()],
                        );
                        self.note(step, false, format!("no response within {secs} s"));
                        self.add(
                            error(Code::NetTimeout, format!("{hostport} accepts the TCP connection but sends no response within {secs} s"))
                            .probe(step)
                            .probe(tcp_step)
                            .entra(cannot("the request times out")),
                        );
                    }
                    Ok(Err(err)) => {
                        let tcp_step = self.record_connection(
                            "TCP",
                            "does the TCP connection itself succeed?",
                            &hostport,
                            elapsed,
                            Some(err.to_string()),
                            vec![],
                        );
                        self.note(step, false, format!("no response within {secs} s"));
                        self.add(
                            error(Code::NetConnect, format!("Cannot connect to {hostport}"))
                                .fix(
                                    "Check that the host and port are reachable from the internet.",
                                )
                                .detail(err.to_string())
                                .probe(step)
                                .probe(tcp_step)
                                .entra(cannot("the connection fails")),
                        );
                    }
                    Err(_) => {
                        let tcp_step = self.record_connection(
                            "TCP",
                            "does the TCP connection itself succeed?",
                            &hostport,
                            elapsed,
                            Some(format!(
                                "no TCP connection within {} s",
                                limit.as_secs_f64()
                            )),
                            vec![],
                        );
                        self.note(step, false, format!("no connection within {secs} s"));
                        self.add(
                            error(
                                Code::NetConnectTimeout,
                                format!("The TCP connection to {hostport} does not complete"),
                            )
                            .probe(step)
                            .probe(tcp_step)
                            .entra(cannot("the connection times out")),
                        );
                    }
                }
            }
            TransportError::Tls(msg) | TransportError::Connect(msg) => {
                let msg = &tls::tls_detail(&short_error(msg));
                let facts = if p.scheme == "https" {
                    let started = std::time::Instant::now();
                    let facts = tls::inspect(&p.host, p.port, self.options.connect_timeout).await;
                    let mut notes = vec![];
                    if let Some(v) = &facts.version {
                        notes.push(format!("handshake completes without verification ({v})"));
                    }
                    if let Some(leaf) = &facts.leaf {
                        notes.push(format!(
                            "{} certificate(s) presented; the server certificate is {}{}",
                            facts.chain_len,
                            if leaf.self_issued {
                                "self-signed"
                            } else {
                                "issued by a CA"
                            },
                            leaf.not_after
                                .map(|t| format!(
                                    ", valid until {}",
                                    t.format("%Y-%m-%d %H:%M UTC")
                                ))
                                .unwrap_or_default()
                        ));
                    }
                    let step = self.record_connection(
                        "TLS",
                        "which certificate does the server present? (unverified handshake, nothing sent)",
                        &hostport,
                        started.elapsed(),
                        facts.error.clone(),
                        notes,
                    );
                    Some((facts, step))
                } else {
                    None
                };
                let code = if p.scheme == "https" {
                    tls_code(msg, facts.as_ref().map(|f| &f.0))
                } else {
                    None
                };
                let Some(code) = code else {
                    self.note(step, false, "the connection failed");
                    let mut f = error(Code::NetConnect, format!("Cannot connect to {hostport}")).fix("Check that the host and port are reachable from the internet and speak HTTPS.")
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the connection fails"));
                    if let Some((_, s)) = facts {
                        f = f.probe(s);
                    }
                    self.add(f);
                    return;
                };
                let leaf = facts.as_ref().and_then(|f| f.0.leaf.clone());
                let until = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                };
                let host = &p.host;
                let f = match code {
                    Code::TlsSelfSigned => error(
                        code,
                        format!("The server at {hostport} presents a self-signed certificate"),
                    ),
                    Code::TlsUntrusted => error(
                        code,
                        format!("The certificate of {hostport} is not issued by a trusted CA"),
                    )
                    .fix(match &facts {
                        Some((f, _)) if f.chain_len == 1 => "The server sends only its own certificate: if it was issued by an intermediate CA, configure the server to send the full chain (leaf and intermediates). Otherwise use a certificate from a publicly trusted CA.",
                        _ => "Use a certificate from a publicly trusted CA and serve the full chain (leaf and intermediates); Entra does not trust private CAs.",
                    }),
                    Code::TlsExpired => error(
                        code,
                        match until(leaf.as_ref().and_then(|l| l.not_after)) {
                            Some(t) => format!("The certificate of {hostport} expired on {t}"),
                            None => format!("The certificate of {hostport} has expired"),
                        },
                    ),
                    Code::TlsWrongHost => error(
                        code,
                        format!("The certificate of {hostport} is not valid for the host name `{host}`"),
                    )
                    .fix(format!("Use a certificate whose subject alternative names include `{host}`, or use the host name the certificate was issued for in the Tenant URL.")),
                    Code::TlsNotYetValid => error(
                        code,
                        format!("The certificate of {hostport} is not valid yet"),
                    ),
                    Code::TlsOldVersion => {
                        error(code, format!("{hostport} does not speak TLS 1.2 or 1.3"))
                    }
                    Code::TlsNotTls => error(
                        code,
                        format!("{hostport} does not speak TLS: it probably serves plain HTTP"),
                    ),
                    _ => error(code, format!("The TLS handshake with {hostport} fails")),
                };
                self.note(
                    step,
                    false,
                    format!("TLS failed: {}", code.as_str().trim_start_matches("tls.")),
                );
                let mut f = f
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the TLS handshake fails"));
                if let Some((facts, s)) = &facts {
                    f = f.probe(*s);
                    if let Some(leaf) = &facts.leaf
                        && let (Some(a), Some(b)) = (until(leaf.not_before), until(leaf.not_after))
                    {
                        f = f.detail(format!("certificate valid from {a} to {b}"));
                    }
                }
                if self.options.insecure {
                    f = f.detail("(--insecure was given, yet the handshake still failed)");
                }
                self.add(f);
            }
            TransportError::Body(msg) => {
                let msg = &short_error(msg);
                self.note(step, false, "the response could not be read");
                self.add(
                    error(
                        Code::ResponseUnreadable,
                        "The response could not be read to the end",
                    )
                    .detail(msg.clone())
                    .probe(step)
                    .entra(not_deserializable()),
                );
            }
            other => {
                self.note(step, false, other.to_string());
                self.add(
                    error(
                        Code::NetConnect,
                        format!("The request to {hostport} was not sent"),
                    )
                    .fix("See the detail.")
                    .detail(other.to_string())
                    .probe(step),
                );
            }
        }
    }

    /// `--ca-cert` or `--insecure` let the probes through a certificate Entra may not accept:
    /// one more handshake, verified against the public CAs only as Entra's is, without a token.
    pub(super) async fn verify_like_entra(&mut self, url: &str) {
        let mut options = self.options.clone();
        let why = if options.insecure {
            "--insecure"
        } else {
            "--ca-cert"
        };
        options.ca_cert = None;
        options.insecure = false;
        let Ok(client) = Client::new(
            self.target.clone(),
            Secret::new("scimcheck-no-token-is-sent"),
            options,
        ) else {
            return;
        };
        let mut req = users_probe();
        req.auth = Auth::None;
        let purpose =
            format!("is the certificate trusted without {why}, as Entra needs? (no token sent)");
        let (step, ex) = self
            .send(&client, Stage::FollowUp, &purpose, "none", &req)
            .await;
        match &ex.response {
            Err(e @ (TransportError::Tls(_) | TransportError::Connect(_))) => {
                let before = self.findings.len();
                let e = e.clone();
                self.transport(&e, step, url).await;
                for f in &mut self.findings[before..] {
                    f.details.insert(
                        0,
                        format!("the probes above passed only because of {why}: Entra verifies the certificate against the public CAs and has no such option"),
                    );
                }
            }
            Err(e) => {
                let e = e.to_string();
                self.note(step, false, short_error(&e));
            }
            Ok(_) => self.note(step, true, "the certificate is trusted by the public CAs"),
        }
    }
}
