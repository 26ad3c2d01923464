//! The reference server over real HTTP: the conformant behaviour ([`conformance`]), then every
//! quirk ([`quirks`]). This module holds the client and the request bodies they share.

use reqwest::Method;
use serde_json::{Value, json};

use super::store::id_string;
use super::*;
use crate::scim::urn;

mod conformance;
mod quirks;

const TOKEN: &str = "t0ken";

async fn start_with(opts: ServerOptions) -> (Server, Api) {
    let server = Server::start(ServerOptions {
        token: TOKEN.into(),
        ..opts
    })
    .await
    .unwrap();
    // reqwest is built without a default TLS provider; plain http still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api = Api {
        base: server.base_url(),
        token: TOKEN.into(),
        http: reqwest::Client::new(),
    };
    (server, api)
}

async fn start(quirks: &[&str]) -> (Server, Api) {
    let quirks = quirks.iter().map(|q| q.parse().unwrap()).collect();
    start_with(ServerOptions {
        quirks,
        oauth_client: Some((CLIENT.0.into(), CLIENT.1.into())),
        ..Default::default()
    })
    .await
}

/// The OAuth client of [`start`]'s servers: id and secret.
const CLIENT: (&str, &str) = ("entra", "s3cret:&=");

/// Where a token request carries the client credentials, and its body's media type.
#[derive(Clone, Copy)]
enum Creds {
    Basic,
    Body,
    BasicWrong,
}

/// A token request as Entra sends it (or a variant): status and JSON body.
async fn token(server: &Server, creds: Creds, content_type: &str) -> (u16, Value) {
    use base64::Engine;
    let enc = crate::http::form_encode;
    let mut body = "grant_type=client_credentials".to_string();
    let mut req = reqwest::Client::new().post(server.token_url().unwrap());
    let b64 = |id: &str, secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    };
    match creds {
        Creds::Basic => {
            req = req.header(
                "Authorization",
                format!("Basic {}", b64(CLIENT.0, CLIENT.1)),
            )
        }
        Creds::BasicWrong => {
            req = req.header("Authorization", format!("Basic {}", b64(CLIENT.0, "nope")))
        }
        Creds::Body => body.push_str(&format!(
            "&client_id={}&client_secret={}",
            enc(CLIENT.0),
            enc(CLIENT.1)
        )),
    }
    let resp = req
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let json = resp.json().await.unwrap_or(Value::Null);
    (status, json)
}

const FORM: &str = "application/x-www-form-urlencoded";

/// A minimal SCIM client for the tests.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// A response: status, content type, `Location`, and the body (JSON, a string if not JSON,
/// `Null` if empty).
#[derive(Debug)]
struct Resp {
    status: u16,
    content_type: String,
    location: Option<String>,
    body: Value,
}

impl Api {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            content_type,
            location,
            body,
        }
    }

    async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, ops: Value) -> Resp {
        self.send(
            Method::PATCH,
            path,
            Some(json!({ "schemas": [urn::PATCH_OP], "Operations": ops })),
        )
        .await
    }

    async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }
}

fn user(name: &str) -> Value {
    json!({
        "schemas": [urn::USER, urn::ENTERPRISE_USER],
        "externalId": format!("ext-{name}"),
        "userName": name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Given Family", "familyName": "Family", "givenName": "Given"},
        "roles": []
    })
}

fn group(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|m| json!({"$ref": null, "value": m}))
        .collect();
    json!({
        "schemas": [urn::GROUP, urn::ENTRA_GROUP],
        "externalId": format!("ext-{name}"),
        "displayName": name,
        "members": members,
        "meta": {"resourceType": "Group"}
    })
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn assert_scim_error(resp: &Resp, status: u16) {
    assert_eq!(resp.status, status, "{resp:?}");
    assert_eq!(resp.content_type, "application/scim+json");
    assert_eq!(resp.body["schemas"], json!([urn::ERROR]));
    assert_eq!(resp.body["status"], json!(status.to_string()));
    assert!(resp.body["detail"].is_string());
}
