//! The conformant behaviour: authentication, create, filters, PATCH in both Entra dialects,
//! PUT, DELETE, groups, discovery, the token endpoint.

use reqwest::Method;
use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn the_token_endpoint_issues_tokens_the_scim_endpoints_accept_until_they_expire() {
    let (server, api) = start_with(ServerOptions {
        oauth_client: Some((CLIENT.0.into(), CLIENT.1.into())),
        oauth_token_ttl: std::time::Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    for creds in [Creds::Basic, Creds::Body] {
        let (status, body) = token(&server, creds, FORM).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 1);
    }
    let (status, body) = token(&server, Creds::BasicWrong, FORM).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (_, body) = token(&server, Creds::Basic, FORM).await;
    let access = body["access_token"].as_str().unwrap().to_string();
    let with = |t: &str| Api {
        base: api.base.clone(),
        token: t.into(),
        http: reqwest::Client::new(),
    };
    assert_eq!(with(&access).get("/Users").await.status, 200);
    assert_eq!(
        api.get("/Users").await.status,
        200,
        "the static token still works"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(with(&access).get("/Users").await.status, 401, "expired");
    assert_eq!(server.issued_tokens(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn requests_without_the_right_bearer_token_get_401_scim_errors() {
    let (server, api) = start(&[]).await;
    let wrong = Api {
        token: "other".into(),
        ..api
    };
    assert_scim_error(&wrong.get("/Users").await, 401);
    let none = wrong
        .http
        .get(format!("{}/Users", wrong.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 401);
    assert_eq!(none.headers()["content-type"], "application/scim+json");
    assert_eq!(server.request_count(), 2);
    assert_eq!(server.dump(), json!({"users": [], "groups": []}));
    server.shutdown().await;
}

#[tokio::test]
async fn create_user_answers_201_with_id_meta_location_and_no_password() {
    let (server, api) = start(&[]).await;
    let mut body = user("alice@example.com");
    body["password"] = json!("s3cret");
    body["id"] = json!("client-chosen");
    body["department"] = json!(null);
    let created = api.post("/Users", body).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.content_type, "application/scim+json");
    let r = &created.body;
    let id = r["id"].as_str().unwrap();
    assert_ne!(id, "client-chosen");
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(r["userName"], "alice@example.com");
    assert_eq!(
        r["emails"],
        json!([{"primary": true, "type": "work", "value": "alice@example.com"}])
    );
    assert!(
        r.get("password").is_none() && r.get("roles").is_none() && r.get("department").is_none()
    );
    let location = format!("{}/Users/{id}", server.base_url());
    assert_eq!(created.location.as_deref(), Some(location.as_str()));
    assert_eq!(r["meta"]["location"], location);
    assert_eq!(r["meta"]["resourceType"], "User");
    assert_eq!(r["meta"]["version"], "W/\"1\"");
    let created_at = r["meta"]["created"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok() && created_at.ends_with('Z'));
    assert_eq!(r["meta"]["lastModified"], created_at);
    let got = api.get(&format!("/Users/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, created.body);
    assert_eq!(server.dump()["users"][0]["password"], "s3cret");
    server.shutdown().await;
}

#[tokio::test]
async fn create_stores_values_as_sent_converting_only_string_booleans() {
    let (server, api) = start(&[]).await;
    let mut body = user("bob@example.com");
    body["active"] = json!("False");
    body["roles"] = json!([{"primary": "True", "value": "Admin", "display": null}]);
    body["customThing"] = json!({"x": [1, "two"]});
    body[urn::ENTERPRISE_USER] = json!({"employeeNumber": "007", "manager": null});
    let r = api.post("/Users", body).await.body;
    assert_eq!(r["active"], false);
    assert_eq!(r["roles"], json!([{"primary": true, "value": "Admin"}]));
    assert_eq!(r["customThing"], json!({"x": [1, "two"]}));
    assert_eq!(r[urn::ENTERPRISE_USER], json!({"employeeNumber": "007"}));
    assert_eq!(r["schemas"], json!([urn::USER, urn::ENTERPRISE_USER]));
    let plain = api.post("/Users", user("carol@example.com")).await.body;
    assert_eq!(
        plain["schemas"],
        json!([urn::USER]),
        "no extension object, no extension URN"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn create_rejects_bad_bodies_and_duplicates() {
    let (server, api) = start_with(ServerOptions {
        required_attributes: vec!["title".into()],
        ..Default::default()
    })
    .await;
    let mut ok_body = user("dave@example.com");
    ok_body["title"] = json!("Boss");
    assert_eq!(api.post("/Users", ok_body.clone()).await.status, 201);
    let dup = api
        .post(
            "/Users",
            json!({"schemas": [urn::USER], "userName": "DAVE@example.com", "title": "x"}),
        )
        .await;
    assert_scim_error(&dup, 409);
    assert_eq!(dup.body["scimType"], "uniqueness");
    let no_schema = api
        .post("/Users", json!({"userName": "x", "title": "x"}))
        .await;
    assert_scim_error(&no_schema, 400);
    assert_eq!(no_schema.body["scimType"], "invalidSyntax");
    let no_name = api
        .post("/Users", json!({"schemas": [urn::USER], "title": "x"}))
        .await;
    assert_eq!(
        (no_name.status, no_name.body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    let no_title = api.post("/Users", user("erin@example.com")).await;
    assert_eq!(
        (no_title.status, no_title.body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    assert!(no_title.body["detail"].as_str().unwrap().contains("title"));
    let not_json = api.send(Method::POST, "/Users", None).await;
    assert_scim_error(&not_json, 400);
    assert_eq!(server.dump()["users"].as_array().unwrap().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn bodies_are_accepted_as_scim_json_or_json_only() {
    let (server, api) = start(&[]).await;
    let post = |content_type: &'static str, name: &str| {
        let req = api
            .http
            .post(format!("{}/Users", api.base))
            .bearer_auth(TOKEN);
        req.header("Content-Type", content_type)
            .body(user(name).to_string())
            .send()
    };
    let json = post("application/json; charset=utf-8", "a@x")
        .await
        .unwrap();
    assert_eq!(json.status().as_u16(), 201);
    assert_eq!(json.headers()["content-type"], "application/scim+json");
    let text = post("text/plain", "b@x").await.unwrap();
    assert_eq!(text.status().as_u16(), 415);
    assert_eq!(server.dump()["users"].as_array().unwrap().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_ids_and_paths_answer_404_scim_errors() {
    let (server, api) = start(&[]).await;
    assert_scim_error(&api.get("/Users/nope").await, 404);
    assert_scim_error(&api.get("/Groups/nope").await, 404);
    assert_scim_error(&api.get("/Nothing").await, 404);
    assert_scim_error(
        &api.send(Method::PUT, "/Users/nope", Some(user("x"))).await,
        404,
    );
    assert_scim_error(&api.patch("/Users/nope", json!([])).await, 404);
    assert_scim_error(&api.delete("/Users/nope").await, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn filter_eq_on_username_is_case_insensitive_and_misses_give_empty_list_responses() {
    let (server, api) = start(&[]).await;
    server.seed_user(user("alice@example.com"));
    let id = server.seed_user(user("bob@example.com"));
    let hit = api
        .get("/Users?filter=userName%20eq%20%22ALICE%40EXAMPLE.COM%22")
        .await;
    assert_eq!(hit.status, 200);
    assert_eq!(hit.body["schemas"], json!([urn::LIST_RESPONSE]));
    assert_eq!(
        (
            hit.body["totalResults"].as_u64(),
            hit.body["itemsPerPage"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(hit.body["Resources"][0]["userName"], "alice@example.com");
    let by_id = api
        .get(&format!("/Users?filter=id eq \"{id}\"&attributes=id"))
        .await
        .body;
    assert_eq!(
        by_id["Resources"],
        json!([{"schemas": [urn::USER], "id": id, "meta": {"resourceType": "User"}}])
    );
    let miss = api
        .get("/Users?filter=userName eq \"9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d\"")
        .await;
    assert_eq!(
        miss.body,
        json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0})
    );
    let bad = api.get("/Users?filter=userName%20eq").await;
    assert_scim_error(&bad, 400);
    assert_eq!(bad.body["scimType"], "invalidFilter");
    server.shutdown().await;
}

#[tokio::test]
async fn filters_on_other_attributes_and_and_filters_are_evaluated() {
    let (server, api) = start(&[]).await;
    server.seed_user(user("alice@x"));
    server.seed_user(user("bob@x"));
    let total = |f: &str| {
        let path = format!(
            "/Users?filter={}",
            f.replace(' ', "%20").replace('"', "%22")
        );
        let api = &api;
        async move { api.get(&path).await.body["totalResults"].as_u64().unwrap() }
    };
    assert_eq!(total("externalId eq \"ext-bob@x\"").await, 1);
    assert_eq!(
        total("externalId eq \"EXT-BOB@x\"").await,
        0,
        "externalId is caseExact"
    );
    assert_eq!(
        total("emails[type eq \"work\"].value eq \"ALICE@x\"").await,
        1
    );
    assert_eq!(total("userName eq \"alice@x\" and active eq true").await, 1);
    assert_eq!(
        total("userName eq \"alice@x\" and active eq false").await,
        0
    );
    assert_eq!(total("userName sw \"B\"").await, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn manager_is_accepted_as_a_bare_string_or_an_array_and_removed_by_empty_replace() {
    let (server, api) = start(&[]).await;
    let [boss, boss2, id] = ["boss@x", "boss2@x", "u@x"].map(|n| server.seed_user(user(n)));
    let path = format!("/Users/{id}");
    let manager = format!("{}:manager", urn::ENTERPRISE_USER);
    let add = api
        .patch(
            &path,
            json!([{"op": "Add", "path": manager, "value": boss}]),
        )
        .await;
    assert_eq!(add.status, 200, "{add:?}");
    let got = api.get(&path).await.body;
    assert_eq!(got[urn::ENTERPRISE_USER]["manager"]["value"], boss.as_str());
    assert!(
        got["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(urn::ENTERPRISE_USER))
    );
    let url = format!("{}/Users/{boss2}", server.base_url());
    let ops = json!([{"op": "Add", "path": "manager", "value": [{"$ref": url, "value": boss2}]}]);
    assert_eq!(api.patch(&path, ops).await.status, 200);
    let got = api.get(&path).await.body;
    assert_eq!(
        got[urn::ENTERPRISE_USER]["manager"]["value"],
        boss2.as_str()
    );
    let remove = api
        .patch(
            &path,
            json!([{"op": "Replace", "path": manager, "value": ""}]),
        )
        .await;
    assert_eq!(remove.status, 200, "{remove:?}");
    let got = api.get(&path).await.body;
    assert!(got.get(urn::ENTERPRISE_USER).is_none(), "{got}");
    assert_eq!(got["schemas"], json!([urn::USER]));
    server.shutdown().await;
}

#[tokio::test]
async fn run_until_serves_until_the_signal_then_stops() {
    let (server, api) = start(&[]).await;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(rx));
    assert_eq!(api.get("/Users").await.status, 200);
    tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn pagination_uses_one_based_start_index_and_count() {
    let (server, api) = start(&[]).await;
    for i in 0..5 {
        server.seed_user(user(&format!("u{i}@x")));
    }
    let names = |r: &Resp| -> Vec<String> {
        r.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect()
    };
    let page = api.get("/Users?startIndex=2&count=2").await;
    assert_eq!(names(&page), ["u1@x", "u2@x"]);
    assert_eq!(
        (
            page.body["totalResults"].as_u64(),
            page.body["startIndex"].as_u64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(page.body["itemsPerPage"], 2);
    let zero = api.get("/Users?count=0").await.body;
    assert_eq!(
        (
            zero["totalResults"].as_u64(),
            zero["Resources"].as_array().unwrap().len()
        ),
        (Some(5), 0)
    );
    let low = api.get("/Users?startIndex=-3&count=1").await;
    assert_eq!(
        (names(&low), low.body["startIndex"].as_u64()),
        (vec!["u0@x".to_string()], Some(1))
    );
    let past = api.get("/Users?startIndex=9").await.body;
    assert_eq!(past["Resources"], json!([]));
    assert_eq!(names(&api.get("/Users").await).len(), 5);
    assert_eq!(api.get("/Users?count=abc").await.status, 400);
    server.shutdown().await;
}

#[tokio::test]
async fn groups_are_created_with_empty_members_and_members_can_be_excluded() {
    let (server, api) = start(&[]).await;
    let created = api.post("/Groups", group("Sales", &[])).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["members"], json!([]));
    assert_eq!(
        created.body["schemas"],
        json!([urn::GROUP, urn::ENTRA_GROUP])
    );
    let u = server.seed_user(user("alice@x"));
    let g = server.seed_group(group("Eng", &[&u]));
    let full = api.get(&format!("/Groups/{g}")).await.body;
    assert_eq!(
        full["members"],
        json!([{"value": u}]),
        "`$ref: null` is dropped"
    );
    let lean = api
        .get(&format!("/Groups/{g}?excludedAttributes=members"))
        .await
        .body;
    assert!(lean.get("members").is_none() && lean["displayName"] == "Eng");
    let listed = api
        .get("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22eng%22")
        .await
        .body;
    assert_eq!(listed["totalResults"], 1);
    assert!(listed["Resources"][0].get("members").is_none());
    let dup = api.post("/Groups", group("SALES", &[])).await;
    assert_eq!(dup.status, 409);
    let ghost = api
        .post("/Groups", group("Ghosts", &["no-such-user"]))
        .await;
    assert_eq!(
        (ghost.status, ghost.body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn patch_user_in_the_default_entra_dialect_is_applied() {
    let (server, api) = start(&[]).await;
    let id = server.seed_user(user("alice@example.com"));
    let ops = json!([
        {"op": "Replace", "path": "displayName", "value": "Alice A"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "alice@new.example.com"},
        {"op": "Replace", "path": "name.givenName", "value": "Alicia"},
        {"op": "Replace", "path": "name.familyName", "value": "Smith"},
        {"op": "Replace", "path": "externalId", "value": "ext-2"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "42"},
        {"op": "Add", "path": "nickName", "value": "Babs"},
        {"op": "Replace", "path": "active", "value": "False"}
    ]);
    let patched = api.patch(&format!("/Users/{id}"), ops).await;
    assert_eq!(patched.status, 200, "{patched:?}");
    let got = api.get(&format!("/Users/{id}")).await.body;
    assert_eq!(patched.body, got);
    assert_eq!(got["displayName"], "Alice A");
    assert_eq!(got["emails"][0]["value"], "alice@new.example.com");
    assert_eq!(
        (
            got["name"]["givenName"].as_str(),
            got["name"]["familyName"].as_str()
        ),
        (Some("Alicia"), Some("Smith"))
    );
    assert_eq!(got["externalId"], "ext-2");
    assert_eq!(got[urn::ENTERPRISE_USER]["employeeNumber"], "42");
    assert!(
        got["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(urn::ENTERPRISE_USER))
    );
    assert_eq!(
        (got["nickName"].as_str(), got["active"].as_bool()),
        (Some("Babs"), Some(false))
    );
    assert_eq!(got["meta"]["version"], "W/\"2\"");
    let disabled = api
        .get("/Users?filter=userName%20eq%20%22alice%40example.com%22")
        .await
        .body;
    assert_eq!(disabled["totalResults"], 1, "disable is not delete");
    server.shutdown().await;
}

#[tokio::test]
async fn patch_user_in_the_aad_opt_scim_062020_dialect_is_applied() {
    let (server, api) = start(&[]).await;
    let id = server.seed_user(user("alice@example.com"));
    let ops = json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "alice@new.example.com"},
        {"op": "replace", "value": {
            "displayName": "Alice A",
            "name.givenName": "Alicia",
            "name.familyName": "Smith",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42"
        }},
        {"op": "add", "path": "nickName", "value": "Babs"},
        {"op": "replace", "path": "active", "value": false}
    ]);
    assert_eq!(api.patch(&format!("/Users/{id}"), ops).await.status, 200);
    let got = api.get(&format!("/Users/{id}")).await.body;
    assert_eq!(got["emails"][0]["value"], "alice@new.example.com");
    assert_eq!(got["name"]["givenName"], "Alicia");
    assert_eq!(got["name"]["familyName"], "Smith");
    assert_eq!(got["displayName"], "Alice A");
    assert_eq!(got[urn::ENTERPRISE_USER]["employeeNumber"], "42");
    assert_eq!(
        (got["nickName"].as_str(), got["active"].as_bool()),
        (Some("Babs"), Some(false))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn patch_bodies_are_checked_and_empty_operations_change_nothing() {
    let (server, api) = start(&[]).await;
    let id = server.seed_user(user("alice@x"));
    let before = server.dump();
    let empty = api.patch(&format!("/Users/{id}"), json!([])).await;
    assert_eq!(empty.status, 200);
    assert_eq!(server.dump(), before, "no change, no version bump");
    let no_urn = api
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({"Operations": []})),
        )
        .await;
    assert_eq!(
        (no_urn.status, no_urn.body["scimType"].as_str()),
        (400, Some("invalidSyntax"))
    );
    let no_ops = api
        .send(
            Method::PATCH,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [urn::PATCH_OP]})),
        )
        .await;
    assert_eq!(
        (no_ops.status, no_ops.body["scimType"].as_str()),
        (400, Some("invalidSyntax"))
    );
    let other = server.seed_user(user("bob@x"));
    let clash = api
        .patch(
            &format!("/Users/{other}"),
            json!([{"op": "replace", "path": "userName", "value": "ALICE@x"}]),
        )
        .await;
    assert_eq!(
        (clash.status, clash.body["scimType"].as_str()),
        (409, Some("uniqueness"))
    );
    assert_eq!(server.dump()["users"].as_array().unwrap().len(), 2);
    assert_eq!(
        api.get(&format!("/Users/{other}")).await.body["userName"],
        "bob@x"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn group_members_are_added_and_removed_in_both_dialects() {
    let (server, api) = start(&[]).await;
    let [a, b, c] = ["a@x", "b@x", "c@x"].map(|n| server.seed_user(user(n)));
    let g = server.seed_group(group("Eng", &[]));
    let path = format!("/Groups/{g}");
    let add = api
        .patch(
            &path,
            json!([{"op": "Add", "path": "members", "value": [
        {"$ref": null, "value": a}, {"$ref": null, "value": b}, {"$ref": null, "value": c}]}]),
        )
        .await;
    assert_eq!((add.status, &add.body), (204, &Value::Null));
    assert_eq!(member_ids(&api.get(&path).await.body), sorted([&a, &b, &c]));
    let remove_default = api
        .patch(
            &path,
            json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}]),
        )
        .await;
    assert_eq!(remove_default.status, 204);
    assert_eq!(member_ids(&api.get(&path).await.body), sorted([&b, &c]));
    let remove_rfc = api
        .patch(
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
        )
        .await;
    assert_eq!(remove_rfc.status, 204);
    assert_eq!(member_ids(&api.get(&path).await.body), vec![c.clone()]);
    let ghost = api
        .patch(
            &path,
            json!([{"op": "Add", "path": "members", "value": [{"value": "ghost"}]}]),
        )
        .await;
    assert_eq!(ghost.status, 400);
    let rename = api
        .patch(
            &path,
            json!([{"op": "Replace", "path": "displayName", "value": "Engineering"}]),
        )
        .await;
    assert_eq!(rename.status, 204);
    assert_eq!(api.get(&path).await.body["displayName"], "Engineering");
    server.shutdown().await;
}

fn sorted<const N: usize>(ids: [&String; N]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn put_replaces_all_but_id_and_created() {
    let (server, api) = start(&[]).await;
    let id = server.seed_user(user("alice@x"));
    server.seed_user(user("bob@x"));
    let before = api.get(&format!("/Users/{id}")).await.body;
    let put = api
        .send(
            Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [urn::USER], "userName": "alice2@x", "id": "zzz"})),
        )
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(put.body["id"], id.as_str());
    assert_eq!(put.body["meta"]["created"], before["meta"]["created"]);
    assert_eq!(put.body["meta"]["version"], "W/\"2\"");
    assert!(put.body.get("emails").is_none() && put.body.get("name").is_none());
    let clash = api
        .send(
            Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [urn::USER], "userName": "Bob@x"})),
        )
        .await;
    assert_eq!(clash.status, 409);
    server.shutdown().await;
}

#[tokio::test]
async fn delete_answers_204_then_404_and_removes_users_from_groups() {
    let (server, api) = start(&[]).await;
    let [a, b] = ["a@x", "b@x"].map(|n| server.seed_user(user(n)));
    let g = server.seed_group(group("Eng", &[&a, &b]));
    let deleted = api.delete(&format!("/Users/{a}")).await;
    assert_eq!((deleted.status, &deleted.body), (204, &Value::Null));
    assert_scim_error(&api.get(&format!("/Users/{a}")).await, 404);
    assert_scim_error(&api.delete(&format!("/Users/{a}")).await, 404);
    let group_now = api.get(&format!("/Groups/{g}")).await.body;
    assert_eq!(member_ids(&group_now), vec![b]);
    assert_eq!(group_now["meta"]["version"], "W/\"2\"");
    assert_eq!(api.delete(&format!("/Groups/{g}")).await.status, 204);
    assert_eq!(api.get(&format!("/Groups/{g}")).await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn discovery_endpoints_publish_schemas_resource_types_and_config() {
    let (server, api) = start_with(ServerOptions {
        required_attributes: vec!["title".into()],
        ..Default::default()
    })
    .await;
    let schemas = api.get("/Schemas").await;
    assert_eq!(
        (schemas.status, schemas.content_type.as_str()),
        (200, "application/scim+json")
    );
    assert_eq!(schemas.body["schemas"], json!([urn::LIST_RESPONSE]));
    let resources = schemas.body["Resources"].as_array().unwrap();
    let ids: Vec<&str> = resources
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    // The fourth is the custom extension the suite sends as Entra sends custom attributes.
    assert_eq!(
        ids,
        [
            urn::USER,
            urn::ENTERPRISE_USER,
            urn::GROUP,
            "urn:ietf:params:scim:schemas:extension:scimcheck:2.0:User"
        ]
    );
    assert_eq!(schemas.body["totalResults"], 4);
    let user_schema = &resources[0];
    assert_eq!(
        user_schema["meta"]["location"],
        format!("{}/Schemas/{}", server.base_url(), urn::USER)
    );
    let title = user_schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "title")
        .unwrap();
    assert_eq!(title["required"], true);
    assert!(!schemas.body.to_string().contains("null"));
    let one = api.get(&format!("/Schemas/{}", urn::GROUP)).await;
    assert_eq!(
        (one.status, one.body["id"].as_str()),
        (200, Some(urn::GROUP))
    );
    assert_eq!(api.get("/Schemas/urn:nope").await.status, 404);
    let encoded = api
        .get(&format!("/Schemas/{}", urn::USER.replace(':', "%3A")))
        .await;
    assert_eq!(encoded.body["id"], urn::USER);
    let types = api.get("/ResourceTypes").await.body;
    assert_eq!(types["totalResults"], 2);
    assert_eq!(
        types["Resources"][0]["meta"]["location"],
        format!("{}/ResourceTypes/User", server.base_url())
    );
    assert_eq!(
        api.get("/ResourceTypes/Group").await.body["endpoint"],
        "/Groups"
    );
    let spc = api.get("/ServiceProviderConfig").await.body;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], routes::MAX_RESULTS);
    assert_eq!(
        spc["meta"]["location"],
        format!("{}/ServiceProviderConfig", server.base_url())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn reads_leave_the_store_unchanged() {
    let (server, api) = start(&[]).await;
    let u = server.seed_user(user("alice@x"));
    server.seed_group(group("Eng", &[&u]));
    let before = server.dump();
    for path in [
        "/Users",
        "/Groups",
        &format!("/Users/{u}"),
        "/Users?filter=userName eq \"alice@x\"",
        "/Schemas",
    ] {
        assert_eq!(api.get(path).await.status, 200, "{path}");
    }
    assert_eq!(server.dump(), before);
    assert_eq!(server.request_count(), 5);
    server.shutdown().await;
}

#[tokio::test]
async fn base_path_is_configurable_and_normalised() {
    let (server, api) = start_with(ServerOptions {
        base_path: "/rest/scim/v2/".into(),
        ..Default::default()
    })
    .await;
    assert!(server.base_url().ends_with("/rest/scim/v2"));
    assert_eq!(api.get("/Users").await.status, 200);
    let outside = api
        .http
        .get(format!("http://{}/Users", server.addr()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status().as_u16(), 404);
    server.shutdown().await;
}
