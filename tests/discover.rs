//! `scimcheck discover`: what the discovery documents say, and the problems Entra trips over.

use crate::common;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use common::TOKEN;
use scimcheck::scim::schema::{
    SchemaSet, resource_types, schema_resource, service_provider_config,
};
use scimcheck::scim::urn;

async fn scimcheck(args: Vec<String>) -> (i32, String) {
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::scimcheck(&args, &[])
    })
    .await
    .expect("binary ran");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn discover_json(url: &str, token: &str) -> (i32, Value) {
    let args = ["discover", "--url", url, "--token", token, "--json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (code, out) = scimcheck(args).await;
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["exit_code"], json!(code));
    (code, report)
}

async fn discover_human(url: &str) -> (i32, String) {
    let args = ["discover", "--url", url, "--token", TOKEN]
        .iter()
        .map(|s| s.to_string())
        .collect();
    scimcheck(args).await
}

fn codes(report: &Value) -> Vec<String> {
    let mut c: Vec<String> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

fn problem<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == code)
        .unwrap_or_else(|| panic!("no problem {code} in {:#}", report["problems"]))
}

macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
                (r"\b\d+(\.\d+)? m?s\b", "[TIME]"),
            ],
        }, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_is_well_formed_and_its_capabilities_are_listed() {
    let server = common::server(&[]).await;
    let (code, report) = discover_json(&server.base_url(), TOKEN).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(codes(&report), Vec::<String>::new());
    let spc = &report["service_provider_config"];
    assert_eq!(spc["patch"], true);
    assert_eq!(spc["filter_max_results"], 200);
    assert_eq!(spc["bulk"], false);
    assert_eq!(spc["authentication_schemes"][0]["type"], "oauthbearertoken");
    let user = &report["resource_types"][0];
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["extensions"][0]["schema"], urn::ENTERPRISE_USER);
    let core = report["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == urn::USER)
        .unwrap();
    let user_name = &core["attributes"][0];
    assert_eq!(user_name["name"], "userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    let (code, text) = discover_human(&server.base_url()).await;
    assert_eq!(code, 0);
    snapshot!("discover_reference", text);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nulls_and_pascal_case_characteristics_are_problems_with_readable_paths() {
    let server = common::server(&["discovery-nulls", "discovery-pascal-case"]).await;
    let (code, report) = discover_json(&server.base_url(), TOKEN).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["discovery.casing", "discovery.nulls"]);
    let casing = problem(&report, "discovery.casing");
    assert!(
        casing["examples"][0]
            .as_str()
            .unwrap()
            .starts_with("urn:ietf:params:scim:schemas:core:2.0:User: userName: mutability: \"ReadWrite\" should be \"readWrite\""),
        "{casing:#}"
    );
    assert!(casing["count"].as_u64().unwrap() > 10);
    // The table shows what the server published, as published.
    let (_, text) = discover_human(&server.base_url()).await;
    assert!(text.contains("ReadWrite"));
    let problems = &text[text.find("Problems Entra would trip over").unwrap()..];
    snapshot!("discover_quirks", problems);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_discovery_endpoints_are_each_reported() {
    let server = common::server(&["discovery-not-found"]).await;
    let (code, report) = discover_json(&server.base_url(), TOKEN).await;
    assert_eq!(code, 1);
    let unavailable: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "discovery.unavailable")
        .map(|p| p["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        unavailable,
        vec!["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_array_from_schemas_is_not_a_list_response() {
    let server = common::server(&["schemas-not-list-response"]).await;
    let (code, report) = discover_json(&server.base_url(), TOKEN).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["discovery.not-list-response"]);
    assert_eq!(
        problem(&report, "discovery.not-list-response")["endpoint"],
        "/Schemas"
    );
    assert!(
        report["schemas"].as_array().unwrap().len() >= 3,
        "the items are still read"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_json_is_only_a_warning() {
    let server = common::server(&["json-content-type"]).await;
    let (code, report) = discover_json(&server.base_url(), TOKEN).await;
    assert_eq!(code, 0);
    assert_eq!(codes(&report), vec!["response.json-content-type"]);
    server.shutdown().await;
}

fn scim(body: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

fn list(items: Vec<Value>) -> Value {
    json!({"schemas": [urn::LIST_RESPONSE], "totalResults": items.len(), "Resources": items,
           "startIndex": 1, "itemsPerPage": items.len()})
}

async fn spawn(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_types_naming_unpublished_schemas_and_a_missing_enterprise_extension_are_flagged()
{
    // /ResourceTypes names the enterprise extension, /Schemas publishes only the core User.
    let addr = spawn(Router::new().fallback(|req: Request| async move {
        match req.uri().path() {
            "/scim/ServiceProviderConfig" => scim(service_provider_config().clone()),
            "/scim/ResourceTypes" => scim(list(resource_types().as_array().unwrap().clone())),
            "/scim/Schemas" => {
                let user = SchemaSet::builtin().get(urn::USER).unwrap();
                scim(list(vec![schema_resource(user)]))
            }
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }))
    .await;
    let (code, report) = discover_json(&format!("http://{addr}/scim"), TOKEN).await;
    assert_eq!(code, 1);
    assert_eq!(
        codes(&report),
        vec![
            "discovery.enterprise-extension-missing",
            "discovery.schema-missing"
        ]
    );
    let missing = problem(&report, "discovery.schema-missing");
    assert!(
        missing["examples"]
            .to_string()
            .contains(urn::ENTERPRISE_USER)
    );
    assert!(missing["examples"].to_string().contains(urn::GROUP));
    assert_eq!(
        problem(&report, "discovery.enterprise-extension-missing")["severity"],
        "warning"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_points_to_connect() {
    let server = common::server(&[]).await;
    let (code, report) = discover_json(&server.base_url(), "not-the-token").await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["auth.token-rejected"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_exits_3() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (code, report) = discover_json(&format!("http://127.0.0.1:{port}/scim/v2"), TOKEN).await;
    assert_eq!(code, 3);
    assert!(
        report["endpoints"][0]["error"]
            .as_str()
            .unwrap()
            .contains("refused")
    );
}
