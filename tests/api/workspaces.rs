//! SPEC "Workspaces and members".

use crate::helpers::{code, reason, spawn_app};
use serde_json::{json, Value};

const CREATE: &str = "mutation($input: CreateWorkspaceInput!) {
  createWorkspace(input: $input) {
    id alias name domains status viewerRole defaultWorkspace imageUrl repositoryUrl pipelinesImage
    created lastModified owner { id name handle }
    members { totalCount nodes { id } }
  }
}";

const UPDATE: &str = "mutation($id: ID!, $input: UpdateWorkspaceInput!) {
  updateWorkspace(id: $id, input: $input) { name domains repositoryUrl imageUrl lastModified }
}";

const DELETE: &str = "mutation($id: ID!) { deleteWorkspace(id: $id) }";

async fn create(app: &crate::helpers::TestApp, user: &crate::helpers::User, input: Value) -> Value {
    app.gql(Some(user), CREATE, json!({ "input": input })).await
}

#[tokio::test]
async fn creator_becomes_the_owner_and_only_member() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let body = create(
        &app,
        &ada,
        json!({ "name": "Acme", "imageUrl": "https://acme.test/logo.png" }),
    )
    .await;
    let ws = &body["data"]["createWorkspace"];
    assert_eq!(ws["viewerRole"], "OWNER");
    assert_eq!(ws["status"], "READY");
    assert_eq!(ws["owner"]["id"], app.profile_id(&ada).await.as_str());
    assert_eq!(ws["members"]["totalCount"], 1);
    assert_eq!(ws["imageUrl"], "https://acme.test/logo.png");
    let created = ws["created"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.contains('.'),
        "RFC 3339 UTC with fractions: {created}"
    );

    let id = ws["id"].as_str().unwrap();
    let read = app
        .ok(
            &ada,
            "query($id: ID!) { workspace(id: $id) { members { totalCount } viewerRole } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["workspace"]["members"]["totalCount"], 1);
    assert_eq!(read["workspace"]["viewerRole"], "OWNER");
}

#[tokio::test]
async fn name_is_1_to_100_characters_after_trimming() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    for bad in ["", "   ", &"x".repeat(101)] {
        let body = create(&app, &ada, json!({ "name": bad })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
        assert_eq!(reason(&body), "INVALID_NAME");
    }
    let body = create(&app, &ada, json!({ "name": "  Acme  " })).await;
    assert_eq!(body["data"]["createWorkspace"]["name"], "Acme");
}

#[tokio::test]
async fn given_alias_must_match_the_pattern() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    for bad in [
        "Acme",
        "1acme",
        "ac-me",
        "_a",
        &format!("a{}", "b".repeat(63)),
    ] {
        let body = create(&app, &ada, json!({ "name": "Acme", "alias": bad })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}");
        assert_eq!(reason(&body), "INVALID_ALIAS");
        assert_eq!(body["errors"][0]["extensions"]["field"], "alias");
    }
}

#[tokio::test]
async fn given_alias_that_is_taken_is_a_conflict() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    create(&app, &ada, json!({ "name": "Acme", "alias": "acme" })).await;
    let body = create(
        &app,
        &app.user("bob@x.test"),
        json!({ "name": "Other", "alias": "acme" }),
    )
    .await;
    assert_eq!(code(&body), "CONFLICT");
    assert_eq!(reason(&body), "ALIAS_TAKEN");
}

#[tokio::test]
async fn generated_alias_comes_from_the_name_and_gets_a_suffix() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let mut aliases = Vec::new();
    for _ in 0..3 {
        let body = create(&app, &ada, json!({ "name": "Acme Corp!" })).await;
        aliases.push(
            body["data"]["createWorkspace"]["alias"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(aliases, ["acme_corp", "acme_corp_2", "acme_corp_3"]);
    let body = create(&app, &ada, json!({ "name": "42 Things" })).await;
    assert_eq!(body["data"]["createWorkspace"]["alias"], "w_42_things");
}

#[tokio::test]
async fn generated_aliases_stay_unique_under_concurrent_creation() {
    let app = spawn_app().await;
    let users: Vec<_> = (0..10).map(|i| app.user(&format!("u{i}@x.test"))).collect();
    let bodies = futures_util::future::join_all(
        users
            .iter()
            .map(|u| create(&app, u, json!({ "name": "Same Name" }))),
    )
    .await;
    let mut aliases: Vec<String> = bodies
        .iter()
        .map(|b| {
            assert!(b.get("errors").is_none(), "{b}");
            b["data"]["createWorkspace"]["alias"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    aliases.sort();
    aliases.dedup();
    assert_eq!(aliases.len(), 10, "{aliases:?}");
}

#[tokio::test]
async fn domains_are_normalised_idn_encoded_and_deduplicated() {
    let app = spawn_app().await;
    let body = create(
        &app,
        &app.user("ada@acme.test"),
        json!({ "name": "Acme", "domains": [" Acme.TEST. ", "acme.test", "Bücher.example"] }),
    )
    .await;
    assert_eq!(
        body["data"]["createWorkspace"]["domains"],
        json!(["acme.test", "xn--bcher-kva.example"])
    );
}

#[tokio::test]
async fn domains_must_be_host_names_with_a_dot_and_not_ip_addresses() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    for bad in ["localhost", "127.0.0.1", "a b.test", "-x.test", "", "[::1]"] {
        let body = create(&app, &ada, json!({ "name": "Acme", "domains": [bad] })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}");
        assert_eq!(reason(&body), "INVALID_DOMAIN", "{bad}");
    }
}

#[tokio::test]
async fn first_workspace_becomes_the_default_and_later_ones_do_not() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let first = create(&app, &ada, json!({ "name": "One" })).await;
    assert_eq!(first["data"]["createWorkspace"]["defaultWorkspace"], true);
    let second = create(&app, &ada, json!({ "name": "Two" })).await;
    assert_eq!(second["data"]["createWorkspace"]["defaultWorkspace"], false);
    let me = app
        .ok(&ada, "{ me { defaultWorkspace { id } } }", json!({}))
        .await;
    assert_eq!(
        me["me"]["defaultWorkspace"]["id"],
        first["data"]["createWorkspace"]["id"]
    );
}

#[tokio::test]
async fn deleting_the_default_leaves_none_until_the_next_workspace() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let one = app.create_workspace(&ada, "One", &[]).await;
    let two = app.create_workspace(&ada, "Two", &[]).await;
    app.ok(&ada, DELETE, json!({ "id": one })).await;
    let me = app
        .ok(&ada, "{ me { defaultWorkspace { id } } }", json!({}))
        .await;
    assert!(
        me["me"]["defaultWorkspace"].is_null(),
        "no fallback to {two}"
    );
    let three = app.create_workspace(&ada, "Three", &[]).await;
    let me = app
        .ok(&ada, "{ me { defaultWorkspace { id } } }", json!({}))
        .await;
    assert_eq!(me["me"]["defaultWorkspace"]["id"], three.as_str());
}

#[tokio::test]
async fn set_default_workspace_takes_a_workspace_of_the_viewer() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    app.create_workspace(&ada, "One", &[]).await;
    let two = app.create_workspace(&ada, "Two", &[]).await;
    let q = "mutation($id: ID!) { setDefaultWorkspace(id: $id) { defaultWorkspace { id defaultWorkspace } } }";
    let data = app.ok(&ada, q, json!({ "id": two })).await;
    assert_eq!(
        data["setDefaultWorkspace"]["defaultWorkspace"]["id"],
        two.as_str()
    );
    assert_eq!(
        data["setDefaultWorkspace"]["defaultWorkspace"]["defaultWorkspace"],
        true
    );

    let body = app
        .gql(Some(&app.user("bob@x.test")), q, json!({ "id": two }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn update_workspace_changes_given_fields_and_empty_domains_clear() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let id = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    let data = app
        .ok(
            &ada,
            UPDATE,
            json!({ "id": id, "input": { "repositoryUrl": "https://git.test/acme" } }),
        )
        .await;
    assert_eq!(
        data["updateWorkspace"]["name"], "Acme",
        "absent fields are unchanged"
    );
    assert_eq!(data["updateWorkspace"]["domains"], json!(["acme.test"]));
    assert_eq!(
        data["updateWorkspace"]["repositoryUrl"],
        "https://git.test/acme"
    );
    let data = app
        .ok(&ada, UPDATE, json!({ "id": id, "input": { "name": "Acme 2", "domains": [], "repositoryUrl": null } }))
        .await;
    assert_eq!(data["updateWorkspace"]["name"], "Acme 2");
    assert_eq!(data["updateWorkspace"]["domains"], json!([]));
    assert!(data["updateWorkspace"]["repositoryUrl"].is_null());
}

#[tokio::test]
async fn update_workspace_validates_like_create() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let id = app.create_workspace(&ada, "Acme", &[]).await;
    let body = app
        .gql(
            Some(&ada),
            UPDATE,
            json!({ "id": id, "input": { "domains": ["nodot"] } }),
        )
        .await;
    assert_eq!(reason(&body), "INVALID_DOMAIN");
}

#[tokio::test]
async fn only_the_owner_may_update_or_delete_a_member_is_forbidden_a_stranger_not_found() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let bob = app.user("bob@acme.test");
    let eve = app.user("eve@evil.test");
    let id = app.create_workspace(&ada, "Acme", &[]).await;
    app.add_member(&id, &bob).await;
    let update = json!({ "id": id, "input": { "name": "Mine" } });
    assert_eq!(
        code(&app.gql(Some(&bob), UPDATE, update.clone()).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&app.gql(Some(&eve), UPDATE, update).await),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&app.gql(Some(&bob), DELETE, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&app.gql(Some(&eve), DELETE, json!({ "id": id })).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn delete_workspace_removes_it_and_its_memberships() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let bob = app.user("bob@acme.test");
    let id = app.create_workspace(&ada, "Acme", &[]).await;
    app.add_member(&id, &bob).await;
    let data = app.ok(&ada, DELETE, json!({ "id": id })).await;
    assert_eq!(data["deleteWorkspace"], id.as_str());
    let q = "query($id: ID!) { workspace(id: $id) { id } }";
    assert_eq!(
        code(&app.gql(Some(&ada), q, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    let list = app
        .ok(&bob, "{ workspaces { totalCount } }", json!({}))
        .await;
    assert_eq!(list["workspaces"]["totalCount"], 0);
}

#[tokio::test]
async fn workspace_is_not_found_for_a_non_member() {
    let app = spawn_app().await;
    let id = app
        .create_workspace(&app.user("ada@acme.test"), "Acme", &[])
        .await;
    let q = "query($id: ID!) { workspace(id: $id) { id name } }";
    let body = app
        .gql(Some(&app.user("eve@evil.test")), q, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    assert!(body["data"]["workspace"].is_null());
}

#[tokio::test]
async fn malformed_id_is_bad_user_input_with_its_field() {
    let app = spawn_app().await;
    let q = "query($id: ID!) { workspace(id: $id) { id } }";
    let body = app
        .gql(Some(&app.user("ada@acme.test")), q, json!({ "id": "42" }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id");
}

#[tokio::test]
async fn members_are_listed_in_the_order_they_joined_owner_first() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let id = app.create_workspace(&ada, "Acme", &[]).await;
    for name in ["bob", "cy", "di"] {
        app.add_member(&id, &app.user(&format!("{name}@acme.test")))
            .await;
    }
    let q = "query($id: ID!) { workspace(id: $id) { members { nodes { handle } } } }";
    let data = app
        .ok(&app.user("cy@acme.test"), q, json!({ "id": id }))
        .await;
    let handles: Vec<_> = data["workspace"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["handle"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(handles, ["@ada", "@bob", "@cy", "@di"]);
}

#[tokio::test]
async fn member_by_id_shows_a_member_and_is_not_found_for_anyone_else() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let bob = app.user("bob@acme.test");
    let id = app.create_workspace(&ada, "Acme", &[]).await;
    app.add_member(&id, &bob).await;
    let q = "query($id: ID!, $m: ID!) { workspace(id: $id) { name member(id: $m) { id name handle } } }";
    let bob_id = app.profile_id(&bob).await;
    let data = app.ok(&ada, q, json!({ "id": id, "m": bob_id })).await;
    assert_eq!(data["workspace"]["member"]["handle"], "@bob");

    let eve_id = app.profile_id(&app.user("eve@evil.test")).await;
    let body = app
        .gql(Some(&ada), q, json!({ "id": id, "m": eve_id }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    assert!(body["data"]["workspace"]["member"].is_null());
    assert_eq!(
        body["data"]["workspace"]["name"], "Acme",
        "the rest of the workspace still resolves"
    );
}

#[tokio::test]
async fn member_shows_no_email_or_phone() {
    let app = spawn_app().await;
    let q = "{ workspaces { nodes { owner { email } } } }";
    let body = app
        .gql(Some(&app.user("ada@acme.test")), q, json!({}))
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
}
