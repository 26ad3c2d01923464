//! Every quirk: the one behaviour it changes, observed on a conformant and on a quirky server.

use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn drops_attribute_quirk_drops_only_that_path_on_create_put_and_patch() {
    let cost = format!("{}:costCenter", urn::ENTERPRISE_USER);
    let (server, api) = start(&[
        "drops-attribute=phoneNumbers",
        &format!("drops-attribute={cost}"),
    ])
    .await;
    let mut body = user("alice@x");
    body["phoneNumbers"] = json!([{"type": "work", "value": "1"}]);
    body[urn::ENTERPRISE_USER] = json!({"costCenter": "C1", "department": "D"});
    let created = api.post("/Users", body).await.body;
    assert!(created.get("phoneNumbers").is_none());
    assert_eq!(created[urn::ENTERPRISE_USER], json!({"department": "D"}));
    let id = created["id"].as_str().unwrap();
    let patched = api.patch(&format!("/Users/{id}"), json!([{"op": "Add", "path": cost, "value": "C2"}, {"op": "Add", "path": "title", "value": "T"}])).await;
    assert_eq!(patched.status, 200);
    let got = api.get(&format!("/Users/{id}")).await.body;
    assert_eq!(
        (
            got["title"].as_str(),
            got[urn::ENTERPRISE_USER].get("costCenter")
        ),
        (Some("T"), None)
    );
    server.shutdown().await;
}

/// Observes the one behaviour a quirk changes, on a fresh server.
async fn observe(quirk: &Quirk, server: &Server, api: &Api) -> Value {
    let seed = || server.seed_user(user("alice@x"));
    let status = |r: Resp| json!(r.status);
    match quirk {
        Quirk::JsonContentType => json!(api.get("/Users").await.content_type),
        Quirk::CreateReturns200 => status(api.post("/Users", user("a@x")).await),
        Quirk::NoDuplicateCheck => {
            api.post("/Users", user("a@x")).await;
            status(api.post("/Users", user("A@x")).await)
        }
        Quirk::CaseSensitiveFilter => {
            seed();
            api.get("/Users?filter=userName eq \"ALICE@X\"").await.body["totalResults"].clone()
        }
        Quirk::RejectsCapitalisedOps => status(
            api.patch(
                &format!("/Users/{}", seed()),
                json!([{"op": "Replace", "path": "nickName", "value": "B"}]),
            )
            .await,
        ),
        Quirk::RejectsStringBooleans => {
            let mut body = user("a@x");
            body["active"] = json!("False");
            let created = api.post("/Users", body).await.status;
            let ops = json!([{"op": "Replace", "path": "active", "value": "False"}]);
            json!([
                created,
                api.patch(&format!("/Users/{}", seed()), ops).await.status
            ])
        }
        Quirk::RemoveMemberWipesGroup => {
            let [a, b] = ["a@x", "b@x"].map(|n| server.seed_user(user(n)));
            let g = server.seed_group(group("G", &[&a, &b]));
            api.patch(
                &format!("/Groups/{g}"),
                json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}]),
            )
            .await;
            json!(member_ids(&api.get(&format!("/Groups/{g}")).await.body).len())
        }
        Quirk::IgnoresExcludedAttributes => {
            let g = server.seed_group(group("G", &[&seed()]));
            json!(
                api.get(&format!("/Groups/{g}?excludedAttributes=members"))
                    .await
                    .body
                    .get("members")
                    .is_some()
            )
        }
        Quirk::EmptyFilterReturns404 => {
            status(api.get("/Users?filter=userName eq \"nobody\"").await)
        }
        Quirk::DropsPatchChanges => {
            let id = seed();
            let patched = api
                .patch(
                    &format!("/Users/{id}"),
                    json!([{"op": "add", "path": "nickName", "value": "B"}]),
                )
                .await;
            json!([
                patched.status,
                patched.body["nickName"],
                api.get(&format!("/Users/{id}")).await.body["nickName"]
            ])
        }
        Quirk::DisableDeletesUser => {
            let id = seed();
            api.patch(
                &format!("/Users/{id}"),
                json!([{"op": "Replace", "path": "active", "value": "False"}]),
            )
            .await;
            status(api.get(&format!("/Users/{id}")).await)
        }
        Quirk::NonScimErrors => {
            let r = api.get("/Users/nope").await;
            json!([r.status, r.content_type, r.body.is_string()])
        }
        Quirk::GroupsNotFound => status(api.get("/Groups").await),
        Quirk::AcceptsAnyToken => status(
            Api {
                token: "wrong".into(),
                base: api.base.clone(),
                http: api.http.clone(),
            }
            .get("/Users")
            .await,
        ),
        Quirk::IgnoresPagination => {
            (0..3).for_each(|i| drop(server.seed_user(user(&format!("u{i}@x")))));
            let r = api.get("/Users?startIndex=2&count=1").await.body;
            json!([r["itemsPerPage"], r["startIndex"]])
        }
        Quirk::ManagerStringRejected | Quirk::ManagerObjectRejected => {
            let boss = server.seed_user(user("boss@x"));
            let value = if *quirk == Quirk::ManagerStringRejected {
                json!(boss)
            } else {
                json!([{"value": boss}])
            };
            let path = if *quirk == Quirk::ManagerStringRejected {
                format!("{}:manager", urn::ENTERPRISE_USER)
            } else {
                "manager".into()
            };
            status(
                api.patch(
                    &format!("/Users/{}", seed()),
                    json!([{"op": "Add", "path": path, "value": value}]),
                )
                .await,
            )
        }
        Quirk::EmptyOperationsRejected => {
            status(api.patch(&format!("/Users/{}", seed()), json!([])).await)
        }
        Quirk::FilteredPathRejected => {
            let ops = json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "n@x"}]);
            status(api.patch(&format!("/Users/{}", seed()), ops).await)
        }
        Quirk::DottedKeysRejected => {
            let ops = json!([{"op": "replace", "value": {"name.givenName": "N"}}]);
            status(api.patch(&format!("/Users/{}", seed()), ops).await)
        }
        Quirk::MissingSchemas => {
            let id = seed();
            let one = api.get(&format!("/Users/{id}")).await.body;
            let list = api.get("/Users").await.body;
            json!([
                one.get("schemas").is_some(),
                list.get("schemas").is_some(),
                list["Resources"][0].get("schemas").is_some()
            ])
        }
        Quirk::MissingMeta => json!(
            api.get(&format!("/Users/{}", seed()))
                .await
                .body
                .get("meta")
                .is_some()
        ),
        Quirk::NumericId => json!(api.post("/Users", user("a@x")).await.body["id"].is_number()),
        Quirk::ReturnsPassword => {
            let mut body = user("a@x");
            body["password"] = json!("pw");
            let id = api.post("/Users", body).await.body["id"].clone();
            json!(
                api.get(&format!("/Users/{}", id_string(&id)))
                    .await
                    .body
                    .get("password")
                    .is_some()
            )
        }
        Quirk::IgnoresUsernameChange => {
            let id = seed();
            api.patch(
                &format!("/Users/{id}"),
                json!([{"op": "Replace", "path": "userName", "value": "new@x"}]),
            )
            .await;
            api.get(&format!("/Users/{id}")).await.body["userName"].clone()
        }
        Quirk::DeleteReturns200 => {
            let r = api.delete(&format!("/Users/{}", seed())).await;
            json!([r.status, r.body])
        }
        Quirk::DeleteMissingReturns204 => status(api.delete("/Users/nope").await),
        Quirk::WrongTotalResults => {
            (0..3).for_each(|i| drop(server.seed_user(user(&format!("u{i}@x")))));
            api.get("/Users?count=1").await.body["totalResults"].clone()
        }
        Quirk::OmitsEmptyMembers => json!(
            api.post("/Groups", group("G", &[]))
                .await
                .body
                .get("members")
                .is_some()
        ),
        Quirk::RejectsEntraGroupSchema => status(api.post("/Groups", group("G", &[])).await),
        Quirk::UnquotedFilterRejected => status(api.get("/Users?filter=active eq true").await),
        Quirk::AndFilterRejected => status(
            api.get("/Users?filter=userName eq \"a\" and active eq true")
                .await,
        ),
        Quirk::DiscoveryNotFound => {
            let mut out = Vec::new();
            for path in ["/Schemas", "/ResourceTypes", "/ServiceProviderConfig"] {
                out.push(api.get(path).await.status);
            }
            json!(out)
        }
        Quirk::DiscoveryNulls => json!(api.get("/Schemas").await.body.to_string().contains("null")),
        Quirk::DiscoveryPascalCase => {
            let body = api.get("/Schemas").await.body;
            let user_name = &body["Resources"][0]["attributes"][0];
            json!([
                user_name["mutability"],
                user_name["returned"],
                user_name["uniqueness"]
            ])
        }
        Quirk::SchemasNotListResponse => json!(api.get("/Schemas").await.body.is_array()),
        Quirk::UnknownIdReturns200 => {
            let r = api.get("/Users/nope").await;
            json!([r.status, r.body == json!({})])
        }
        Quirk::ErrorStatusNumber => api.get("/Users/nope").await.body["status"].clone(),
        Quirk::FirstPatchOpOnly => {
            let id = seed();
            let ops = json!([
                {"op": "add", "path": "nickName", "value": "B"},
                {"op": "add", "path": "title", "value": "T"}
            ]);
            let patched = api.patch(&format!("/Users/{id}"), ops).await.status;
            let got = api.get(&format!("/Users/{id}")).await.body;
            json!([patched, got["nickName"], got["title"]])
        }
        Quirk::KeepsManagerOnEmptyValue => {
            let boss = server.seed_user(user("boss@x"));
            let path = format!("/Users/{}", seed());
            let manager = format!("{}:manager", urn::ENTERPRISE_USER);
            let set = |value: Value| json!([{"op": "Replace", "path": manager, "value": value}]);
            api.patch(&path, set(json!(boss))).await;
            let mut out = Vec::new();
            for empty in [json!(""), json!([]), json!(null)] {
                out.push(json!(api.patch(&path, set(empty)).await.status));
                let got = api.get(&path).await.body;
                out.push(json!(
                    got[urn::ENTERPRISE_USER]["manager"]["value"] == json!(boss)
                ));
                api.patch(&path, set(json!(boss))).await;
            }
            json!(out)
        }
        Quirk::RejectsActiveNoop => {
            let ops = json!([{"op": "Replace", "path": "active", "value": "True"}]);
            status(api.patch(&format!("/Users/{}", seed()), ops).await)
        }
        Quirk::CaseSensitiveStringBooleans => {
            let path = format!("/Users/{}", seed());
            let mut out = Vec::new();
            for v in ["False", "true"] {
                let ops = json!([{"op": "Replace", "path": "active", "value": v}]);
                out.push(api.patch(&path, ops).await.status);
            }
            json!(out)
        }
        Quirk::FilteredReplaceAppends => {
            let path = format!("/Users/{}", seed());
            let ops = json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "n@x"}]);
            api.patch(&path, ops).await;
            json!(api.get(&path).await.body["emails"].as_array().map(Vec::len))
        }
        Quirk::CaseSensitiveSubAttributes => {
            let ops = json!([{"op": "Add", "path": "addresses[type eq \"other\"].Formatted", "value": "1 Way"}]);
            status(api.patch(&format!("/Users/{}", seed()), ops).await)
        }
        Quirk::ExtensionNeedsSchemasEntry => {
            let mut body = user("a@x");
            body["urn:ietf:params:scim:schemas:extension:acme:2.0:User"] = json!({"badge": "B"});
            let created = api.post("/Users", body).await.body;
            json!(
                created
                    .get("urn:ietf:params:scim:schemas:extension:acme:2.0:User")
                    .is_some()
            )
        }
        Quirk::RejectsClearingValues => {
            let path = format!("/Users/{}", seed());
            let mut out = Vec::new();
            for v in [json!(""), json!(null)] {
                let ops = json!([{"op": "Replace", "path": "title", "value": v}]);
                out.push(api.patch(&path, ops).await.status);
            }
            json!(out)
        }
        Quirk::RemovesFirstMemberOnly => {
            let [a, b, c] = ["a@x", "b@x", "c@x"].map(|n| server.seed_user(user(n)));
            let g = server.seed_group(group("G", &[&a, &b, &c]));
            let ops =
                json!([{"op": "Remove", "path": "members", "value": [{"value": a}, {"value": b}]}]);
            api.patch(&format!("/Groups/{g}"), ops).await;
            json!(member_ids(&api.get(&format!("/Groups/{g}")).await.body).len())
        }
        Quirk::ReaddMemberConflicts | Quirk::RemoveNonMemberFails => {
            let [a, b] = ["a@x", "b@x"].map(|n| server.seed_user(user(n)));
            let g = server.seed_group(group("G", &[&a]));
            let (op, id) = if *quirk == Quirk::ReaddMemberConflicts {
                ("Add", &a)
            } else {
                ("Remove", &b)
            };
            let ops = json!([{"op": op, "path": "members", "value": [{"value": id}]}]);
            status(api.patch(&format!("/Groups/{g}"), ops).await)
        }
        Quirk::DeletedStillFiltered => {
            api.delete(&format!("/Users/{}", seed())).await;
            api.get("/Users?filter=userName eq \"alice@x\"").await.body["totalResults"].clone()
        }
        Quirk::ManglesNonAscii | Quirk::TruncatesLongValues => {
            let mut body = user("a@x");
            body["displayName"] = json!(format!("Zoë {}", "x".repeat(120)));
            let created = api.post("/Users", body).await.body;
            let name = created["displayName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            json!([name.contains('ë'), name.chars().count()])
        }
        Quirk::FilterPlusAsSpace => {
            server.seed_user(user("a+b@x"));
            api.get("/Users?filter=userName%20eq%20%22a%2Bb%40x%22")
                .await
                .body["totalResults"]
                .clone()
        }
        Quirk::StringBooleanFilterMisses => {
            let mut body = user("a@x");
            body["roles"] = json!([{"primary": true, "value": "Admin"}]);
            let id = server.seed_user(body);
            let ops = json!([{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "R"}]);
            status(api.patch(&format!("/Users/{id}"), ops).await)
        }
        Quirk::MultiValuedReplaceMerges | Quirk::MultiValuedReplaceRejected => {
            let mut body = user("a@x");
            body["roles"] = json!([{"value": "Admin"}]);
            let path = format!("/Users/{}", server.seed_user(body));
            let ops = json!([{"op": "replace", "path": "roles", "value": [{"value": "User"}]}]);
            let patched = api.patch(&path, ops).await.status;
            json!([
                patched,
                api.get(&path).await.body["roles"].as_array().map(Vec::len)
            ])
        }
        Quirk::OmitsEmptyResources => json!(
            api.get("/Users?filter=userName eq \"nobody\"")
                .await
                .body
                .get("Resources")
                .is_some()
        ),
        Quirk::MinimalGroupMeta => {
            let meta = api.post("/Groups", group("G", &[])).await.body["meta"].clone();
            json!([meta["created"].is_string(), meta["location"].is_string()])
        }
        Quirk::AbsoluteResourceTypeEndpoints => {
            let endpoint = api.get("/ResourceTypes/User").await.body["endpoint"].clone();
            json!([
                endpoint == "/Users",
                endpoint == json!(format!("{}/Users", api.base))
            ])
        }
        Quirk::EqAndFiltersOnly => json!([
            status(
                api.get("/Users?filter=userName eq \"a\" and active eq true")
                    .await
            ),
            status(api.get("/Users?filter=userName sw \"a\"").await),
        ]),
        Quirk::RequiresNameFormatted => {
            let mut bare = user("b@x");
            bare["name"] = json!({"givenName": "B"});
            json!([
                status(api.post("/Users", user("a@x")).await),
                status(api.post("/Users", bare).await),
            ])
        }
        Quirk::RejectsExplicitNulls => {
            let mut body = user("a@x");
            body["title"] = Value::Null;
            status(api.post("/Users", body).await)
        }
        Quirk::UnpublishedNickname => {
            let schema = api.get(&format!("/Schemas/{}", urn::USER)).await.body;
            let published = schema["attributes"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["name"] == "nickName"));
            let mut body = user("a@x");
            body["nickName"] = json!("Babs");
            let stored = api.post("/Users", body).await.body["nickName"].clone();
            json!([published, stored])
        }
        Quirk::OauthCredentialsInBodyOnly => json!([
            token(server, Creds::Basic, FORM).await.0,
            token(server, Creds::Body, FORM).await.0
        ]),
        Quirk::OauthRejectsForm => json!(token(server, Creds::Basic, FORM).await.0),
        Quirk::OauthNoAccessToken => {
            json!(token(server, Creds::Basic, FORM).await.1["access_token"].is_string())
        }
        Quirk::OauthExpiresInOutOfWindow | Quirk::OauthShortLivedTokens => {
            token(server, Creds::Basic, FORM).await.1["expires_in"].clone()
        }
        Quirk::OauthTokensDieEarly => {
            let (_, body) = token(server, Creds::Basic, FORM).await;
            let with = Api {
                base: api.base.clone(),
                token: body["access_token"].as_str().unwrap_or_default().into(),
                http: reqwest::Client::new(),
            };
            let fresh = with.get("/Users").await.status;
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
            json!([fresh, body["expires_in"], with.get("/Users").await.status])
        }
        Quirk::WrongMetaLocation => {
            let got = api.get(&format!("/Users/{}", seed())).await.body;
            json!(
                got["meta"]["location"]
                    .as_str()
                    .map(|l| l.starts_with(&api.base))
            )
        }
        Quirk::RoleJsonValueRejected => {
            let ops = json!([{"op": "Add", "path": "roles", "value": [{"value": "{\"id\":\"1\",\"value\":\"25\"}"}]}]);
            status(api.patch(&format!("/Users/{}", seed()), ops).await)
        }
        Quirk::DropsAttribute(_) => {
            let mut body = user("a@x");
            body["title"] = json!("T");
            api.post("/Users", body).await.body["title"].clone()
        }
        // The delays are observed with a client that gives up after 1 s: the status, or null.
        Quirk::Slow(_) => {
            let r = impatient()
                .get(format!("{}/Users", api.base))
                .bearer_auth(&api.token);
            json!(r.send().await.ok().map(|r| r.status().as_u16()))
        }
        Quirk::SlowCreate(_) => {
            let r = impatient()
                .post(format!("{}/Users", api.base))
                .bearer_auth(&api.token)
                .header("Content-Type", "application/scim+json")
                .body(user("a@x").to_string());
            let status = r.send().await.ok().map(|r| r.status().as_u16());
            json!([status, server.dump()["users"].as_array().map(Vec::len)])
        }
    }
}

/// A client that gives up after 1 s, for the delay quirks.
fn impatient() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap()
}

/// What a conformant server shows, and what the quirk shows: an exhaustive match, so a new
/// quirk without an expectation does not compile.
fn expectation(quirk: &Quirk) -> (Value, Value) {
    match quirk {
        Quirk::JsonContentType => (json!("application/scim+json"), json!("application/json")),
        Quirk::CreateReturns200 => (json!(201), json!(200)),
        Quirk::NoDuplicateCheck => (json!(409), json!(201)),
        Quirk::CaseSensitiveFilter => (json!(1), json!(0)),
        Quirk::RejectsCapitalisedOps => (json!(200), json!(400)),
        Quirk::RejectsStringBooleans => (json!([201, 200]), json!([400, 400])),
        Quirk::RemoveMemberWipesGroup => (json!(1), json!(0)),
        Quirk::IgnoresExcludedAttributes => (json!(false), json!(true)),
        Quirk::EmptyFilterReturns404 => (json!(200), json!(404)),
        Quirk::DropsPatchChanges => (json!([200, "B", "B"]), json!([200, "B", null])),
        Quirk::DisableDeletesUser => (json!(200), json!(404)),
        Quirk::NonScimErrors => (
            json!([404, "application/scim+json", false]),
            json!([404, "text/html; charset=utf-8", true]),
        ),
        Quirk::GroupsNotFound => (json!(200), json!(404)),
        Quirk::AcceptsAnyToken => (json!(401), json!(200)),
        Quirk::IgnoresPagination => (json!([1, 2]), json!([3, 1])),
        Quirk::ManagerStringRejected => (json!(200), json!(400)),
        Quirk::ManagerObjectRejected => (json!(200), json!(400)),
        Quirk::EmptyOperationsRejected => (json!(200), json!(400)),
        Quirk::FilteredPathRejected => (json!(200), json!(400)),
        Quirk::DottedKeysRejected => (json!(200), json!(400)),
        Quirk::MissingSchemas => (json!([true, true, true]), json!([false, false, false])),
        Quirk::MissingMeta => (json!(true), json!(false)),
        Quirk::NumericId => (json!(false), json!(true)),
        Quirk::ReturnsPassword => (json!(false), json!(true)),
        Quirk::IgnoresUsernameChange => (json!("new@x"), json!("alice@x")),
        Quirk::DeleteReturns200 => (json!([204, null]), json!([200, {}])),
        Quirk::DeleteMissingReturns204 => (json!(404), json!(204)),
        Quirk::WrongTotalResults => (json!(3), json!(1)),
        Quirk::OmitsEmptyMembers => (json!(true), json!(false)),
        Quirk::RejectsEntraGroupSchema => (json!(201), json!(400)),
        Quirk::UnquotedFilterRejected => (json!(200), json!(400)),
        Quirk::AndFilterRejected => (json!(200), json!(400)),
        Quirk::DiscoveryNotFound => (json!([200, 200, 200]), json!([404, 404, 404])),
        Quirk::DiscoveryNulls => (json!(false), json!(true)),
        Quirk::DiscoveryPascalCase => (
            json!(["readWrite", "default", "server"]),
            json!(["ReadWrite", "Default", "Server"]),
        ),
        Quirk::SchemasNotListResponse => (json!(false), json!(true)),
        Quirk::UnknownIdReturns200 => (json!([404, false]), json!([200, true])),
        Quirk::ErrorStatusNumber => (json!("404"), json!(404)),
        Quirk::FirstPatchOpOnly => (json!([200, "B", "T"]), json!([200, "B", null])),
        Quirk::KeepsManagerOnEmptyValue => (
            json!([200, false, 200, false, 200, false]),
            json!([200, true, 200, true, 200, true]),
        ),
        Quirk::RejectsActiveNoop => (json!(200), json!(400)),
        Quirk::CaseSensitiveStringBooleans => (json!([200, 200]), json!([200, 400])),
        Quirk::FilteredReplaceAppends => (json!(1), json!(2)),
        Quirk::CaseSensitiveSubAttributes => (json!(200), json!(400)),
        Quirk::ExtensionNeedsSchemasEntry => (json!(true), json!(false)),
        Quirk::RejectsClearingValues => (json!([200, 200]), json!([400, 400])),
        Quirk::RemovesFirstMemberOnly => (json!(1), json!(2)),
        Quirk::ReaddMemberConflicts => (json!(204), json!(409)),
        Quirk::RemoveNonMemberFails => (json!(204), json!(400)),
        Quirk::DeletedStillFiltered => (json!(0), json!(1)),
        Quirk::ManglesNonAscii => (json!([true, 124]), json!([false, 124])),
        Quirk::TruncatesLongValues => (json!([true, 124]), json!([true, 100])),
        Quirk::FilterPlusAsSpace => (json!(1), json!(0)),
        Quirk::StringBooleanFilterMisses => (json!(200), json!(400)),
        Quirk::MultiValuedReplaceMerges => (json!([200, 1]), json!([200, 2])),
        Quirk::RoleJsonValueRejected => (json!(200), json!(400)),
        Quirk::MultiValuedReplaceRejected => (json!([200, 1]), json!([400, 1])),
        Quirk::OmitsEmptyResources => (json!(true), json!(false)),
        Quirk::MinimalGroupMeta => (json!([true, true]), json!([false, true])),
        Quirk::AbsoluteResourceTypeEndpoints => (json!([true, false]), json!([false, true])),
        Quirk::EqAndFiltersOnly => (json!([200, 200]), json!([200, 400])),
        Quirk::RequiresNameFormatted => (json!([201, 201]), json!([201, 400])),
        Quirk::RejectsExplicitNulls => (json!(201), json!(400)),
        Quirk::UnpublishedNickname => (json!([true, "Babs"]), json!([false, null])),
        Quirk::WrongMetaLocation => (json!(true), json!(false)),
        Quirk::OauthCredentialsInBodyOnly => (json!([200, 200]), json!([401, 200])),
        Quirk::OauthRejectsForm => (json!(200), json!(415)),
        Quirk::OauthNoAccessToken => (json!(true), json!(false)),
        Quirk::OauthExpiresInOutOfWindow => (json!(3600), json!(86400)),
        Quirk::OauthShortLivedTokens => (json!(3600), json!(2)),
        Quirk::OauthTokensDieEarly => (json!([200, 3600, 200]), json!([200, 3600, 401])),
        Quirk::DropsAttribute(_) => (json!("T"), json!(null)),
        Quirk::Slow(_) => (json!(200), json!(null)),
        Quirk::SlowCreate(_) => (json!([201, 1]), json!([null, 1])),
    }
}

/// The quirk as the tests switch it on: the parameterised ones with a parameter.
fn switched(quirk: &Quirk) -> Quirk {
    match quirk {
        Quirk::DropsAttribute(_) => Quirk::DropsAttribute("title".into()),
        Quirk::Slow(_) => Quirk::Slow(3000),
        Quirk::SlowCreate(_) => Quirk::SlowCreate(3000),
        q => q.clone(),
    }
}

#[tokio::test]
async fn every_quirk_changes_exactly_its_observed_behaviour() {
    let mut failures = Vec::new();
    for quirk in Quirk::ALL.iter().map(switched) {
        let (normal, quirky) = expectation(&quirk);
        let (server, api) = start(&[]).await;
        let seen = observe(&quirk, &server, &api).await;
        server.shutdown().await;
        if seen != normal {
            failures.push(format!(
                "{quirk}: conformant server showed {seen}, expected {normal}"
            ));
        }
        let (server, api) = start(&[&quirk.to_string()]).await;
        let seen = observe(&quirk, &server, &api).await;
        server.shutdown().await;
        if seen != quirky {
            failures.push(format!(
                "{quirk}: quirky server showed {seen}, expected {quirky}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
