//! SPEC Part 2 "Federation": `_service` for routers (no token), and
//! `_entities` resolved with the visibility of `invitation(id)` and
//! `workspace(id)`, batched. (Composition and a gateway: tests/browser.)

use serde_json::{json, Value};

use crate::helpers::{code, spawn_app_with, team, Team, User};

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
  __typename
  ... on Invitation { id email }
  ... on Workspace { id name }
  ... on Member { id handle role }
} }";

async fn entities(t: &Team, user: &User, representations: Value) -> Vec<Value> {
    t.app
        .ok(user, ENTITIES, json!({ "r": representations }))
        .await["_entities"]
        .as_array()
        .unwrap()
        .clone()
}

fn invitation(id: &str) -> Value {
    json!({ "__typename": "Invitation", "id": id })
}

#[tokio::test]
async fn a_router_reads_the_subgraph_schema_without_a_token() {
    let t = team().await;
    let body = t.app.gql(None, "{ _service { sdl } }", json!({})).await;
    let sdl = body["data"]["_service"]["sdl"].as_str().unwrap();
    assert!(sdl.contains("specs.apollo.dev/federation/v2"), "{sdl}");
    for entity in ["Invitation", "Workspace", "Member"] {
        assert!(
            sdl.contains(&format!("type {entity} @key(fields: \"id\")")),
            "{entity}"
        );
    }
}

#[tokio::test]
async fn without_graphql_federation_there_is_no_service_or_entities() {
    let app = spawn_app_with(|s| s.graphql_federation = false).await;
    let body = app.gql(None, "{ _service { sdl } }", json!({})).await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn entities_need_the_viewers_token() {
    let t = team().await;
    let body = t
        .app
        .gql(None, ENTITIES, json!({ "r": [invitation(&t.ws)] }))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_invitation_resolves_for_its_creator_and_recipient_and_is_null_for_a_stranger() {
    let t = team().await;
    let id = t.app.invited(&t.bob, &t.ws, "carol@acme.test").await;
    let carol = t.app.user("carol@acme.test");
    let eve = t.app.user("eve@elsewhere.test");
    for viewer in [&t.bob, &t.ada, &carol] {
        let found = entities(&t, viewer, json!([invitation(&id)])).await;
        assert_eq!(found[0]["email"], "carol@acme.test");
    }
    let hidden = entities(&t, &eve, json!([invitation(&id), invitation("not-an-id")])).await;
    assert_eq!(hidden, [Value::Null, Value::Null]);
}

#[tokio::test]
async fn a_workspace_resolves_for_its_members_only() {
    let t = team().await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let carol = t.app.user("carol@acme.test");
    let ws = json!([{ "__typename": "Workspace", "id": t.ws }]);
    assert_eq!(entities(&t, &t.bob, ws.clone()).await[0]["name"], "Acme");
    // An invitee reaches it only through the invitation, not as an entity.
    assert_eq!(entities(&t, &carol, ws).await, [Value::Null]);
}

#[tokio::test]
async fn a_member_resolves_for_who_shares_a_workspace_or_may_view_an_invitation_it_created() {
    let t = team().await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let ada = json!([{ "__typename": "Member", "id": t.app.profile_id(&t.ada).await }]);
    let carol = t.app.user("carol@acme.test");
    let eve = t.app.user("eve@elsewhere.test");
    let seen_by_bob = entities(&t, &t.bob, ada.clone()).await;
    assert_eq!(seen_by_bob[0]["handle"], "@ada");
    assert_eq!(
        seen_by_bob[0]["role"],
        Value::Null,
        "no workspace is implied"
    );
    assert_eq!(entities(&t, &carol, ada.clone()).await[0]["handle"], "@ada");
    assert_eq!(entities(&t, &eve, ada).await, [Value::Null]);
}

#[tokio::test]
async fn entities_are_batched_whatever_their_number() {
    let t = team().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(
            t.app
                .invited(&t.ada, &t.ws, &format!("u{i}@acme.test"))
                .await,
        );
    }
    let one = json!({ "r": [invitation(&ids[0])] });
    let ten = json!({ "r": ids.iter().map(|id| invitation(id)).collect::<Vec<_>>() });
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Invitation { email workspace { name } creator { handle } } } }";
    let for_one = t.app.fewest_statements(&t.ada, query, one).await;
    let for_ten = t.app.fewest_statements(&t.ada, query, ten).await;
    assert_eq!(for_one, for_ten);
}
