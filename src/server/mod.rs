//! An embedded, in-memory reference SCIM 2.0 server (RFC 7643/7644) with quirk switches that
//! reproduce real-world server bugs. Used by `scimcheck serve`, `scimcheck demo` and the tests.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use scimcheck::server::{Server, ServerOptions};
//! let server = Server::start(ServerOptions { token: "secret".into(), ..Default::default() }).await?;
//! println!("{}", server.base_url());
//! server.run_until(tokio::signal::ctrl_c()).await;
//! # Ok(()) }
//! ```

mod oauth;
mod project;
mod quirks;
mod routes;
mod store;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use oauth::TOKEN_PATH;
pub use quirks::{QUIRKS, Quirk, QuirkParseError};

use crate::scim::path::AttrPath;
use crate::scim::schema::{self, SchemaSet};
use quirks::QuirkSet;
use store::{Config, Kind, Store};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The bearer token every request must carry.
    pub token: String,
    /// The bugs to reproduce.
    pub quirks: Vec<Quirk>,
    /// The path the SCIM endpoints live under (default `/scim/v2`).
    pub base_path: String,
    /// The port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Extra User attributes declared required in `/Schemas` and enforced on create and PUT.
    pub required_attributes: Vec<String>,
    /// Added to every response: a remote endpoint's round trip, on loopback.
    pub latency: Duration,
    /// `(client id, client secret)`: also serve an OAuth2 client-credentials token endpoint at
    /// [`TOKEN_PATH`] whose access tokens the SCIM endpoints accept (the static `token` too).
    pub oauth_client: Option<(String, String)>,
    /// The lifetime (`expires_in`) of the access tokens issued.
    pub oauth_token_ttl: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            token: "scimcheck-token".into(),
            quirks: Vec::new(),
            base_path: "/scim/v2".into(),
            port: 0,
            required_attributes: Vec::new(),
            latency: Duration::ZERO,
            oauth_client: None,
            oauth_token_ttl: Duration::from_secs(3600),
        }
    }
}

/// State shared by all requests.
pub(crate) struct Shared {
    cfg: Config,
    store: RwLock<Store>,
    requests: AtomicU64,
    token: String,
    base_path: String,
    addr: SocketAddr,
    discovery: Discovery,
    latency: Duration,
    oauth: Option<oauth::TokenEndpoint>,
}

/// The discovery documents, computed once as the response quirks publish them (without
/// `meta.location`).
struct Discovery {
    schemas: Vec<Value>,
    resource_types: Vec<Value>,
    service_provider_config: Value,
}

/// A running server; dropping it without [`Server::shutdown`] leaves it running in the background
/// until the runtime stops.
pub struct Server {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds 127.0.0.1:`port` and starts serving in the background.
    pub async fn start(opts: ServerOptions) -> std::io::Result<Server> {
        let mut required = Vec::new();
        for name in &opts.required_attributes {
            let path = AttrPath::parse(name)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            required.push((name.clone(), path));
        }
        let quirks = QuirkSet::new(&opts.quirks);
        let schemas = published_schemas(&required);
        let discovery = Discovery::new(&schemas, &quirks);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cfg: Config {
                quirks,
                schemas,
                required,
            },
            store: RwLock::new(Store::default()),
            requests: AtomicU64::new(0),
            token: opts.token,
            base_path: normalise_base_path(&opts.base_path),
            addr,
            discovery,
            latency: opts.latency,
            oauth: opts
                .oauth_client
                .map(|(id, secret)| oauth::TokenEndpoint::new(id, secret, opts.oauth_token_ttl)),
        });
        let app = Router::new()
            .fallback(routes::handle)
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Server {
            shared,
            shutdown: Some(tx),
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT` followed by the base path.
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.shared.addr, self.shared.base_path)
    }

    /// The token endpoint's URL, when the server has an OAuth client.
    pub fn token_url(&self) -> Option<String> {
        self.shared
            .oauth
            .as_ref()
            .map(|_| format!("http://{}{TOKEN_PATH}", self.shared.addr))
    }

    /// How many OAuth access tokens were issued so far.
    pub fn issued_tokens(&self) -> u64 {
        self.shared
            .oauth
            .as_ref()
            .map_or(0, oauth::TokenEndpoint::issued_count)
    }

    /// `{"users":[...],"groups":[...]}` exactly as stored, sorted by id.
    pub fn dump(&self) -> Value {
        self.shared
            .store
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .dump()
    }

    /// Stores a user as if POSTed and returns its id. Panics when the body would be rejected.
    pub fn seed_user(&self, body: Value) -> String {
        self.seed(Kind::User, body)
    }

    /// Stores a group as if POSTed and returns its id. Panics when the body would be rejected.
    pub fn seed_group(&self, body: Value) -> String {
        self.seed(Kind::Group, body)
    }

    fn seed(&self, kind: Kind, body: Value) -> String {
        let mut store = self.shared.store.write().unwrap_or_else(|e| e.into_inner());
        match store.create(&self.shared.cfg, kind, body, &self.base_url()) {
            Ok(resource) => routes::resource_id(&resource),
            Err(e) => panic!("seed {}: {} {}", kind.resource_type(), e.status, e.detail),
        }
    }

    /// The number of HTTP requests served so far.
    pub fn request_count(&self) -> u64 {
        self.shared
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops accepting requests and waits (at most a second) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(1), &mut self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }

    /// Serves in the foreground until `signal` completes (e.g. `tokio::signal::ctrl_c()`),
    /// then shuts down.
    pub async fn run_until<F: Future>(self, signal: F) {
        signal.await;
        self.shutdown().await;
    }
}

/// `/scim/v2/` -> `/scim/v2`, `scim` -> `/scim`, `/` -> ``.
fn normalise_base_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// The built-in schemas with the extra required attributes marked `required: true`.
/// The custom extension the built-in suite sends the way Entra sends custom extension
/// attributes (`user.shapes.custom-extension`). The reference server supports it and so
/// publishes it; a server that publishes no such extension only gets a warning there.
const TEST_EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:scimcheck:2.0:User";

fn published_schemas(required: &[(String, AttrPath)]) -> SchemaSet {
    let mut set = SchemaSet::builtin().clone();
    let extension = SchemaSet::from_list_response(&serde_json::json!({"Resources": [{
        "id": TEST_EXTENSION,
        "name": "scimcheck test extension",
        "description": "A custom extension attribute, as an Entra admin adds one to the mapping.",
        "attributes": [{
            "name": "badgeCode", "type": "string", "multiValued": false, "required": false,
            "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none"
        }]
    }]}))
    .expect("the test extension's schema is valid");
    set.schemas.extend(extension.schemas);
    for (_, path) in required {
        let urn = path
            .urn
            .clone()
            .unwrap_or_else(|| crate::scim::urn::USER.to_string());
        let Some(schema) = set
            .schemas
            .iter_mut()
            .find(|s| s.id.eq_ignore_ascii_case(&urn))
        else {
            continue;
        };
        let Some(attr) = schema
            .attributes
            .iter_mut()
            .find(|a| a.name.eq_ignore_ascii_case(&path.name))
        else {
            continue;
        };
        match &path.sub {
            None => attr.required = true,
            Some(sub) => {
                if let Some(s) = attr
                    .sub_attributes
                    .iter_mut()
                    .find(|a| a.name.eq_ignore_ascii_case(sub))
                {
                    s.required = true;
                }
            }
        }
    }
    set
}

impl Discovery {
    fn new(schemas: &SchemaSet, quirks: &QuirkSet) -> Self {
        let schemas = schemas
            .schemas
            .iter()
            .map(|s| {
                let mut doc = schema::schema_resource(s);
                quirks::response::schema_document(quirks, &mut doc);
                doc
            })
            .collect();
        let resource_types = schema::resource_types()
            .as_array()
            .cloned()
            .unwrap_or_default();
        Discovery {
            schemas,
            resource_types,
            service_provider_config: schema::service_provider_config().clone(),
        }
    }
}
