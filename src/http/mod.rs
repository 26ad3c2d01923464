//! HTTP only: the Tenant URL joined with request paths, the auth header, TLS, timeouts,
//! `Retry-After` retries and pace, the body cap, redirects reported (never followed), and the
//! token redacted from everything recorded. It knows nothing of SCIM resources: the ledger of
//! what a run created and the guard on writes are `run::Tenant`'s.

mod client;
mod encoding;
mod error;
mod message;
mod retry;
mod secret;
mod tenant_url;

#[cfg(test)]
mod tests;

pub use client::{Authorized, Client, ClientOptions, Prepared, WRONG_TOKEN, read_only_refusal};
pub use encoding::{encode, media_type};
pub(crate) use encoding::{form_encode, percent_decode, percent_decode_path};
pub use error::{
    Failure, TlsCause, TransportError, error_chain, is_transient, rustls_error, tls_cause,
};
pub use message::{Auth, Exchange, OutRequest, Received, SentRequest};
pub use retry::parse_retry_after;
pub use secret::{REDACTED, Secret, redact_header};
pub use tenant_url::TenantUrl;
