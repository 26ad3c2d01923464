//! What the server publishes at `/Schemas`, read once for the whole plan: a profile's checks
//! see it as a [`Discovery`] (the reply as JSON, with pointers into it), the runner as schema
//! definitions ([`Plan::with_published`](super::Plan::with_published): custom extensions
//! validated, value checks on attributes the server does not advertise demoted, `requires:`
//! skips). `/ServiceProviderConfig` and `/ResourceTypes` are not read here: no planning
//! decision depends on them (the discovery scenario's own checks read them).

use std::sync::Arc;

use serde_json::Value;

use crate::credential::Credential;
use crate::http::{Client, ClientOptions, Exchange, OutRequest, TenantUrl};
use crate::profile::Discovery;
use crate::scim::schema::SchemaSet;

/// One read of the server's `/Schemas`, in the two shapes its readers need.
#[derive(Debug, Clone)]
pub struct Published {
    /// The reply as a profile reads it (why it is unusable, when it is).
    pub discovery: Discovery,
    /// The schemas it defines, when it was a 200 whose Schema resources parse.
    pub schemas: Option<Arc<SchemaSet>>,
}

impl Published {
    /// The request that reads it: `GET /Schemas`.
    pub fn request() -> OutRequest {
        OutRequest::new("GET", "/Schemas")
    }

    /// Sends [`Published::request`] with `client` (a read; nothing is created). A run's own
    /// client sends it itself and hands the exchange to [`Published::from_exchange`].
    pub async fn fetch(client: &Client) -> Published {
        Published::from_exchange(client.send(&Published::request()).await)
    }

    /// What the exchange of [`Published::request`] says.
    pub fn from_exchange(ex: Exchange) -> Published {
        match ex.response {
            Ok(r) => Published::from_reply(r.status, r.json()),
            Err(e) => {
                let mut discovery = Discovery::unavailable(format!("GET /Schemas failed: {e}"));
                discovery.unreachable = e.is_unreachable();
                Published {
                    discovery,
                    schemas: None,
                }
            }
        }
    }

    /// [`Published::fetch`] with a read-only client of its own, before the run's client
    /// exists (a profile's checks are generated from the reply).
    pub async fn fetch_read_only(
        target: &TenantUrl,
        credential: &Credential,
        options: &ClientOptions,
    ) -> Published {
        let mut options = options.clone();
        options.read_only = true;
        match Client::new(target.clone(), credential.clone(), options) {
            Ok(client) => Published::fetch(&client).await,
            Err(e) => Published {
                discovery: Discovery::unavailable(e),
                schemas: None,
            },
        }
    }

    /// Reads a `/Schemas` reply (`body`: its JSON, if it parsed).
    pub fn from_reply(status: u16, body: Option<Value>) -> Published {
        let schemas = match (&body, status) {
            (Some(b), 200) => SchemaSet::from_list_response(b).ok().map(Arc::new),
            _ => None,
        };
        Published {
            discovery: Discovery::from_reply(status, body.as_ref()),
            schemas,
        }
    }
}
