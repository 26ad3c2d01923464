//! The catalogue of finding codes: for each, its stable code string, where it sits in the chain
//! of causes (its rank: the earliest cause is reported first), what it means, and its fix,
//! where the fix is the same in every case.

use std::fmt;

use serde::Serialize;

/// The fix of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// Always this text.
    Always(&'static str),
    /// It depends on the case (a URL to use, the error or the warning form): given where the
    /// finding is made.
    Varies,
}

macro_rules! catalogue {
    ($( $variant:ident = $code:literal, rank $rank:literal, $meaning:literal, $fix:expr; )+) => {
        /// A finding's stable code (`tls.self-signed`, `discovery.nulls`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $( #[doc = $meaning] $variant, )+
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            /// The code as printed and in JSON, e.g. `net.dns`.
            pub const fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )+ }
            }

            /// Where in the chain of causes it sits: lower comes first.
            pub const fn rank(self) -> u8 {
                match self { $( Code::$variant => $rank, )+ }
            }

            /// What it means, in one line.
            pub const fn meaning(self) -> &'static str {
                match self { $( Code::$variant => $meaning, )+ }
            }

            /// Its fix.
            pub const fn fix(self) -> Fix {
                use Fix::*;
                match self { $( Code::$variant => $fix, )+ }
            }
        }
    };
}

catalogue! {
    // The token endpoint (OAuth2 client credentials), before anything goes to the Tenant URL.
    OAuthUnreachable = "oauth.unreachable", rank 0,
        "the token endpoint cannot be reached",
        Always("Check the Token Endpoint URL for typos, and that it is reachable from the internet over HTTPS with a certificate from a publicly trusted CA: Entra requests the token from Microsoft's cloud before every cycle.");
    OAuthCredentialsInBodyOnly = "oauth.credentials-in-body-only", rank 0,
        "Basic credentials are refused, the same ones in the form body get a token",
        Always("Accept the client id and secret in the `Authorization: Basic` header (RFC 6749 §2.3.1, `client_secret_basic`, the method every client must be able to use), besides the body. The Test Connection probes went on with the token the body request got.");
    OAuthClientRejected = "oauth.client-rejected", rank 0,
        "the client credentials are refused in both places",
        Always("Check the Client Identifier and Client Secret (a rotated secret, the wrong environment), and that this client may use the client_credentials grant (and the scope, if one is given).");
    OAuthFormRejected = "oauth.form-rejected", rank 0,
        "the token endpoint refuses a form body (415)",
        Always("Accept `Content-Type: application/x-www-form-urlencoded` on the token endpoint (RFC 6749 §4.4.2): Entra sends the token request as a form, never as JSON. A SCIM middleware that insists on `application/scim+json` must leave the token path alone.");
    OAuthError = "oauth.error", rank 0,
        "the token endpoint answers another non-2xx",
        Varies;
    OAuthNotJson = "oauth.not-json", rank 0,
        "the token endpoint's 2xx is not a JSON object",
        Always("Answer the token request with `Content-Type: application/json` and a JSON object holding `access_token`, `token_type` and `expires_in` (RFC 6749 §5.1). An HTML page usually means a sign-in page or a proxy is in the way.");
    OAuthNoAccessToken = "oauth.no-access-token", rank 0,
        "the token endpoint's answer has no access_token",
        Always("Return the token as `access_token` (RFC 6749 §5.1), with `token_type` `Bearer` and `expires_in` in seconds; Entra looks for exactly these names.");
    OAuthExpiresInWindow = "oauth.expires-in-window", rank 0,
        "expires_in outside Microsoft's 60-360 minute window",
        Varies;

    // DNS and TCP.
    NetDns = "net.dns", rank 0,
        "the host name does not resolve",
        Always("Check the host name in the Tenant URL for typos. It must resolve in public DNS: Entra connects from Microsoft's cloud, not from your network.");
    NetRefused = "net.refused", rank 0,
        "nothing listens on the port",
        Always("Check the port in the Tenant URL, that the SCIM service is running, and that the load balancer or firewall forwards HTTPS to it.");
    NetTimeout = "net.timeout", rank 0,
        "TCP connects but no answer comes",
        Always("Something accepts connections but never answers: check the application behind the port (hung workers, a proxy waiting on a dead backend) and its logs for this request. Entra gives up on endpoints that do not answer in time.");
    NetConnectTimeout = "net.connect-timeout", rank 0,
        "the TCP connection never completes (a firewall)",
        Always("Packets are probably dropped by a firewall: allow inbound HTTPS from Entra's provisioning service (the AzureActiveDirectory service tag) to this host and port.");
    NetConnect = "net.connect", rank 0,
        "the connection fails otherwise",
        Varies;

    // TLS.
    TlsSelfSigned = "tls.self-signed", rank 0,
        "the server presents a self-signed certificate",
        Always("Entra only trusts certificates issued by a publicly trusted CA: install one (for example from Let's Encrypt or your CA vendor). `--ca-cert` or `--insecure` let scimcheck go on, but Entra has no such option.");
    TlsUntrusted = "tls.untrusted", rank 0,
        "the certificate is not issued by a trusted CA",
        Varies;
    TlsExpired = "tls.expired", rank 0,
        "the certificate has expired",
        Always("Renew the certificate and install the new one on the server (and on every node behind the load balancer).");
    TlsWrongHost = "tls.wrong-host", rank 0,
        "the certificate does not name the host",
        Varies;
    TlsNotYetValid = "tls.not-yet-valid", rank 0,
        "the certificate is not valid yet",
        Always("Check the server's clock and the certificate's notBefore date.");
    TlsOldVersion = "tls.old-version", rank 0,
        "the server speaks neither TLS 1.2 nor 1.3",
        Always("Enable TLS 1.2 (and preferably 1.3) on the server: Entra does not connect with TLS 1.0 or 1.1.");
    TlsNotTls = "tls.not-tls", rank 0,
        "the port does not speak TLS",
        Always("Use the port that serves HTTPS in the Tenant URL, or enable TLS on this one.");
    TlsFailed = "tls.failed", rank 0,
        "the TLS handshake fails otherwise",
        Always("Check the server's TLS configuration: TLS 1.2 or later, a certificate from a publicly trusted CA for this host name, the full chain.");

    // The Tenant URL.
    UrlNotHttps = "url.not-https", rank 1,
        "an http:// Tenant URL: Entra only uses HTTPS",
        Always("Serve the SCIM endpoint over HTTPS (TLS 1.2 or later, with a certificate from a publicly trusted CA) and use an https:// Tenant URL. scimcheck still probed the http:// URL so the rest could be diagnosed.");
    UrlIncludesResourcePath = "url.includes-resource-path", rank 2,
        "the Tenant URL includes /Users or /Groups",
        Varies;
    UrlMissingScimSegment = "url.missing-scim-segment", rank 2,
        "the Tenant URL lacks the /scim path segment",
        Varies;
    UrlMissingV2Segment = "url.missing-v2-segment", rank 2,
        "the Tenant URL lacks the /v2 path segment",
        Varies;
    UrlMissingScimV2Segments = "url.missing-scim-v2-segments", rank 2,
        "the Tenant URL lacks the /scim/v2 path segments",
        Varies;
    UrlExtraPathSegment = "url.extra-path-segment", rank 2,
        "the Tenant URL has path segments too many",
        Varies;
    UrlWrongPath = "url.wrong-path", rank 2,
        "the SCIM endpoint answers at another path on the same host",
        Varies;
    UrlTrailingSlash = "url.trailing-slash", rank 2,
        "only /Users/ with a trailing slash answers",
        Always("Entra requests /Users and /Groups without a trailing slash: make the server route both forms.");
    UrlRedirect = "url.redirect", rank 2,
        "a 3xx, which Entra does not follow",
        Varies;

    // The token.
    AuthTokenRejected = "auth.token-rejected", rank 3,
        "the token is rejected (401)",
        Varies;
    AuthForbidden = "auth.forbidden", rank 3,
        "the token is not allowed to read users (403)",
        Always("Give the token (or the account it belongs to) the provisioning or admin permission the application requires for SCIM, then test again.");
    AuthBearerPrefix = "auth.bearer-prefix", rank 3,
        "the token was pasted with a `Bearer ` prefix",
        Varies;
    AuthJwtExpired = "auth.jwt-expired", rank 3,
        "the token is a JWT whose exp has passed",
        Varies;

    // The users probe.
    UsersEmptyFilter404 = "users.empty-filter-404", rank 4,
        "a filter that matches no user answers 404",
        Always("Answer a filter query with 200 and a ListResponse, also when nothing matches: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":0,\"Resources\":[]} (RFC 7644 section 3.4.2). Entra reads a 404 as a wrong Tenant URL and quarantines the job.");
    UsersFilterRejected = "users.filter-rejected", rank 4,
        "Entra's userName filter is refused",
        Always("Support the `eq` filter on userName (and `and`), with the value in double quotes, and answer an empty ListResponse when nothing matches.");
    UsersError = "users.error", rank 4,
        "GET /Users answers another 4xx",
        Always("GET /Users with a filter must answer 200 and a ListResponse; see the server's detail and logs.");
    UsersNotFound = "users.not-found", rank 4,
        "GET /Users answers 404 at the Tenant URL and every variant of it",
        Always("Find the SCIM base URL in the application's documentation or admin console: the Tenant URL is the path under which /Users and /Groups live (often ending in /scim or /scim/v2).");
    UsersNotListResponse = "users.not-list-response", rank 4,
        "the users probe does not get a ListResponse",
        Always("A filter query always answers a ListResponse, even with no hits: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":0,\"Resources\":[],\"startIndex\":1,\"itemsPerPage\":0}.");
    UsersFilterIgnored = "users.filter-ignored", rank 4,
        "the users filter matches a random GUID: it is ignored",
        Always("Apply the filter. Entra uses this query to find out whether a user already exists before creating it: ignoring it makes Entra match (and update) the wrong one.");
    UsersListResponseProblems = "users.list-response-problems", rank 4,
        "the users ListResponse deviates from RFC 7644",
        Always("Entra tolerates these, but they break other clients and the SCIM Validator: answer the ListResponse exactly as RFC 7644 section 3.4.2 shows.");

    // Any response.
    ResponseHtml = "response.html", rank 5,
        "an HTML page instead of SCIM JSON",
        Varies;
    ResponseNotJson = "response.not-json", rank 5,
        "a body that does not parse as JSON",
        Always("Answer with a JSON ListResponse and `Content-Type: application/scim+json`.");
    ResponseUnreadable = "response.unreadable", rank 5,
        "the response cannot be read to the end",
        Always("Check the server logs: the connection broke or the body is not valid UTF-8.");
    ResponseJsonContentType = "response.json-content-type", rank 5,
        "application/json instead of application/scim+json",
        Varies;
    ResponseWrongContentType = "response.wrong-content-type", rank 5,
        "a JSON response with another content type",
        Always("Answer with `Content-Type: application/scim+json` (RFC 7644 section 8.1).");
    ServerError = "server.error", rank 5,
        "a 5xx on one of Entra's probes",
        Always("Fix the server error (see its logs for this request); Entra's probes are plain filter queries that must answer 200.");

    // The groups probe.
    GroupsEmptyFilter404 = "groups.empty-filter-404", rank 6,
        "a group filter that matches nothing answers 404",
        Always("Answer a filter query with 200 and a ListResponse, also when nothing matches (RFC 7644 section 3.4.2).");
    GroupsNotFound = "groups.not-found", rank 6,
        "/Groups answers 404, which fails Test Connection even for user-only apps",
        Always("Implement GET /Groups: at least answer Entra's filter query with 200 and an empty ListResponse, even if the application has no groups. Then turn off group provisioning in the Entra mappings if groups are not wanted.");
    GroupsExcludedAttributesRejected = "groups.excluded-attributes-rejected", rank 6,
        "`excludedAttributes=members` is refused",
        Always("Accept the `excludedAttributes` query parameter (RFC 7644 section 3.4.2.5); at the very least ignore it rather than failing.");
    GroupsError = "groups.error", rank 6,
        "the groups probe answers another 4xx",
        Always("GET /Groups?excludedAttributes=members&filter=displayName eq \"...\" must answer 200 and a ListResponse.");
    GroupsDenied = "groups.denied", rank 6,
        "the token is accepted for /Users but not for /Groups",
        Always("Give the token permission to read groups too: Entra probes /Groups on every Test Connection.");
    GroupsHtml = "groups.html", rank 6,
        "/Groups answers an HTML page",
        Always("Route /Groups to the SCIM API and answer a ListResponse.");
    GroupsNotListResponse = "groups.not-list-response", rank 6,
        "the groups probe does not get a ListResponse",
        Always("A filter query always answers a ListResponse, even with no hits.");
    GroupsFilterIgnored = "groups.filter-ignored", rank 6,
        "the groups filter matches a random GUID: it is ignored",
        Always("Apply the filter. Entra uses this query to find out whether a group already exists before creating it: ignoring it makes Entra match (and update) the wrong one.");
    GroupsListResponseProblems = "groups.list-response-problems", rank 6,
        "the groups ListResponse deviates from RFC 7644",
        Always("Entra tolerates these, but they break other clients and the SCIM Validator: answer the ListResponse exactly as RFC 7644 section 3.4.2 shows.");

    // Timing.
    SlowResponse = "slow.response", rank 7,
        "responses slower than the threshold",
        Always("Make the filter queries fast (index userName, externalId and displayName): Entra sends one for every user and group it provisions, and slow answers make provisioning cycles time out.");

    // The discovery documents (`discover`).
    DiscoveryUnavailable = "discovery.unavailable", rank 7,
        "a discovery endpoint gives no usable answer",
        Varies;
    DiscoveryNotJson = "discovery.not-json", rank 7,
        "a discovery document is not JSON",
        Always("Answer with the JSON document and `Content-Type: application/scim+json`.");
    DiscoveryNotListResponse = "discovery.not-list-response", rank 7,
        "a bare JSON array instead of a ListResponse",
        Always("Wrap the items in a ListResponse: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":N,\"Resources\":[...]}.");
    DiscoveryNulls = "discovery.nulls", rank 7,
        "null values, which Entra's schema discovery cannot parse",
        Always("Leave unassigned members out instead of sending `null` (RFC 7643 section 2.5), e.g. omit `canonicalValues`, `referenceTypes` and `subAttributes` when empty.");
    DiscoveryCasing = "discovery.casing", rank 7,
        "characteristic values in the wrong case",
        Always("Spell `mutability`, `returned`, `uniqueness` and `type` values exactly as RFC 7643 section 7 does: readOnly, readWrite, immutable, writeOnly; always, never, default, request; none, server, global; string, boolean, dateTime, complex, ...");
    DiscoveryInvalid = "discovery.invalid", rank 7,
        "other deviations from RFC 7643 / RFC 7644",
        Always("Publish the document exactly as RFC 7643 sections 5-7 define it.");
    DiscoveryEnterpriseExtensionMissing = "discovery.enterprise-extension-missing", rank 7,
        "the enterprise User extension is not published",
        Varies;
    DiscoveryResourceTypeMissing = "discovery.resource-type-missing", rank 7,
        "no resource type for the core User schema",
        Always("Publish the User resource type (endpoint /Users) in /ResourceTypes.");
    DiscoverySchemaMissing = "discovery.schema-missing", rank 7,
        "a resource type names a schema /Schemas lacks",
        Always("Publish every schema a resource type names (core schema and extensions) in /Schemas, or stop naming it.");
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        let mut seen = std::collections::HashSet::new();
        let mut missing = Vec::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let wildcard = format!("*.{}", code.as_str().split_once('.').unwrap().1);
            if !readme.contains(&format!("`{code}`")) && !readme.contains(&format!("`{wildcard}`"))
            {
                missing.push(code.as_str());
            }
        }
        assert!(missing.is_empty(), "not in the README: {missing:?}");
    }

    #[test]
    fn the_earliest_cause_ranks_first() {
        assert!(Code::TlsExpired.rank() < Code::UrlNotHttps.rank());
        assert!(Code::UrlNotHttps.rank() < Code::UrlRedirect.rank());
        assert!(Code::AuthForbidden.rank() < Code::UsersError.rank());
        assert!(Code::ServerError.rank() < Code::GroupsError.rank());
    }
}
