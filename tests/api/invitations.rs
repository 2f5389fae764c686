//! SPEC "Invitations": one test per row and per refusal of the table.

use crate::helpers::{
    claims, code, reason, spawn_app, team, Team, ACCEPT, DELETE_INVITATION, WITHDRAW,
};
use serde_json::{json, Value};

const GET: &str =
    "query($id: ID!) { invitation(id: $id) { id status email emailDelivery { status } } }";

fn inv(body: &Value, field: &str) -> Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body["data"][field].clone()
}

// ---- createInvitation ----

#[tokio::test]
async fn create_invitation_records_a_pending_invitation_and_queues_its_email() {
    let t = team().await;
    let body = t.app.invite(&t.bob, &t.ws, "  Carol@ACME.test ").await;
    let i = inv(&body, "createInvitation");
    assert_eq!(i["status"], "PENDING");
    assert_eq!(i["email"], "carol@acme.test");
    assert_eq!(i["creator"]["handle"], "@bob");
    assert_eq!(i["workspace"]["id"], t.ws.as_str());
    assert_eq!(i["created"], i["lastModified"]);
    assert_eq!(i["emailDelivery"]["status"], "QUEUED");
    assert_eq!(i["emailDelivery"]["attempts"], 0);
    let sent = t.app.deliver_all().await;
    assert_eq!(
        sent.iter().filter(|m| m.to == "carol@acme.test").count(),
        1,
        "one email for Carol"
    );
}

#[tokio::test]
async fn create_invitation_by_a_non_member_is_not_found() {
    let t = team().await;
    let eve = t.app.user("eve@acme.test");
    assert_eq!(
        code(&t.app.invite(&eve, &t.ws, "carol@acme.test").await),
        "NOT_FOUND"
    );
    // NOT_FOUND comes before BAD_USER_INPUT.
    assert_eq!(
        code(&t.app.invite(&eve, &t.ws, "not an email").await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn create_invitation_with_a_malformed_workspace_id_is_bad_user_input() {
    let t = team().await;
    let body = t.app.invite(&t.ada, "workspace-1", "carol@acme.test").await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "workspaceId");
}

#[tokio::test]
async fn create_invitation_with_an_invalid_address_is_invalid_email() {
    let t = team().await;
    let long = format!("{}@acme.test", "a".repeat(65));
    for bad in [
        "",
        "carol",
        "carol@",
        "\"carol\"@acme.test",
        "ca rol@acme.test",
        "carol@@acme.test",
        long.as_str(),
    ] {
        let body = t.app.invite(&t.ada, &t.ws, bad).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}");
        assert_eq!(reason(&body), "INVALID_EMAIL", "{bad}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "email");
    }
}

#[tokio::test]
async fn create_invitation_outside_the_workspace_domains_is_domain_not_allowed() {
    let t = team().await;
    for bad in [
        "carol@evil.test",
        "carol@sub.acme.test",
        "carol@acme.test.evil",
    ] {
        let body = t.app.invite(&t.ada, &t.ws, bad).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{bad}");
        assert_eq!(reason(&body), "DOMAIN_NOT_ALLOWED", "{bad}");
    }
}

#[tokio::test]
async fn create_invitation_accepts_idn_addresses_in_either_spelling_as_one() {
    let t = team().await;
    let body = t.app.invite(&t.ada, &t.ws, "carol@Bücher.example").await;
    assert_eq!(
        inv(&body, "createInvitation")["email"],
        "carol@xn--bcher-kva.example"
    );
    let again = t
        .app
        .invite(&t.ada, &t.ws, "carol@xn--bcher-kva.example")
        .await;
    assert_eq!(reason(&again), "ALREADY_INVITED");
}

#[tokio::test]
async fn create_invitation_for_a_member_is_already_member() {
    let t = team().await;
    let body = t.app.invite(&t.ada, &t.ws, "BOB@acme.test").await;
    assert_eq!(code(&body), "CONFLICT");
    assert_eq!(reason(&body), "ALREADY_MEMBER");
}

#[tokio::test]
async fn create_invitation_when_one_is_pending_is_already_invited() {
    let t = team().await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let body = t.app.invite(&t.bob, &t.ws, "carol@acme.test").await;
    assert_eq!(code(&body), "CONFLICT");
    assert_eq!(reason(&body), "ALREADY_INVITED");
}

#[tokio::test]
async fn create_invitation_again_after_a_withdrawal_is_allowed() {
    let t = team().await;
    let first = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    t.app.ok(&t.ada, WITHDRAW, json!({ "id": first })).await;
    let second = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn concurrent_creates_for_one_address_give_one_invitation() {
    let t = team().await;
    let bodies = futures_util::future::join_all(
        (0..10).map(|_| t.app.invite(&t.ada, &t.ws, "carol@acme.test")),
    )
    .await;
    let created = bodies.iter().filter(|b| b.get("errors").is_none()).count();
    assert_eq!(created, 1, "{bodies:#?}");
    for b in bodies.iter().filter(|b| b.get("errors").is_some()) {
        assert_eq!(reason(b), "ALREADY_INVITED", "{b}");
    }
    let q =
        "query($ws: ID!) { workspace(id: $ws) { invitations(status: [PENDING]) { totalCount } } }";
    let data = t.app.ok(&t.ada, q, json!({ "ws": t.ws })).await;
    assert_eq!(data["workspace"]["invitations"]["totalCount"], 1);
}

// ---- acceptInvitation ----

#[tokio::test]
async fn accepting_makes_the_recipient_a_member() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.bob, &t.ws, &carol.email).await;
    let data = t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    assert_eq!(data["acceptInvitation"]["status"], "ACCEPTED");
    assert_eq!(
        data["acceptInvitation"]["workspace"]["viewerRole"],
        "MEMBER"
    );
    let q = "query($ws: ID!) { workspace(id: $ws) { members { totalCount } } me { defaultWorkspace { id } } }";
    let data = t.app.ok(&carol, q, json!({ "ws": t.ws })).await;
    assert_eq!(data["workspace"]["members"]["totalCount"], 3);
    assert_eq!(
        data["me"]["defaultWorkspace"]["id"],
        t.ws.as_str(),
        "joined workspace becomes the default"
    );
}

#[tokio::test]
async fn accepting_an_accepted_invitation_returns_it_unchanged() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    let first = t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    let again = t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    assert_eq!(first, again);
}

#[tokio::test]
async fn accepting_is_forbidden_to_the_creator_and_owner_and_not_found_to_others() {
    let t = team().await;
    let id = t.app.invited(&t.bob, &t.ws, "carol@acme.test").await;
    assert_eq!(
        code(&t.app.gql(Some(&t.bob), ACCEPT, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&t.app.gql(Some(&t.ada), ACCEPT, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    let eve = t.app.user("eve@acme.test");
    assert_eq!(
        code(&t.app.gql(Some(&eve), ACCEPT, json!({ "id": id })).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn accepting_with_an_unverified_email_is_forbidden() {
    let t = team().await;
    let id = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let mut c = claims("sub|carol", "carol@acme.test");
    c.email_verified = Some(false);
    let carol = t.app.user_with(c);
    let body = t.app.gql(Some(&carol), ACCEPT, json!({ "id": id })).await;
    assert_eq!(code(&body), "FORBIDDEN");
    assert_eq!(reason(&body), "EMAIL_NOT_VERIFIED");
}

#[tokio::test]
async fn accepting_a_revoked_invitation_is_a_conflict() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    t.app.ok(&t.ada, WITHDRAW, json!({ "id": id })).await;
    let body = t.app.gql(Some(&carol), ACCEPT, json!({ "id": id })).await;
    assert_eq!(code(&body), "CONFLICT");
    assert_eq!(reason(&body), "INVITATION_REVOKED");
}

#[tokio::test]
async fn concurrent_accepts_make_one_membership_and_all_return_the_same_invitation() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    let bodies = futures_util::future::join_all(
        (0..10).map(|_| t.app.gql(Some(&carol), ACCEPT, json!({ "id": id }))),
    )
    .await;
    let results: Vec<Value> = bodies.iter().map(|b| inv(b, "acceptInvitation")).collect();
    assert!(results.iter().all(|r| r == &results[0]), "{results:#?}");
    assert_eq!(results[0]["status"], "ACCEPTED");
    let q = "query($ws: ID!) { workspace(id: $ws) { members { totalCount } } }";
    let data = t.app.ok(&t.ada, q, json!({ "ws": t.ws })).await;
    assert_eq!(data["workspace"]["members"]["totalCount"], 3);
}

#[tokio::test]
async fn accepting_an_accepted_invitation_grants_nothing_to_another_recipient() {
    let t = team().await;
    let carol = t.app.user_with(claims("google|carol", "carol@acme.test"));
    let carol2 = t.app.user_with(claims("github|carol", "carol@acme.test"));
    let id = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    t.app.ok(&carol, ACCEPT, json!({ "id": id })).await;
    let data = t.app.ok(&carol2, ACCEPT, json!({ "id": id })).await;
    assert_eq!(data["acceptInvitation"]["status"], "ACCEPTED");
    assert!(
        data["acceptInvitation"]["workspace"]["viewerRole"].is_null(),
        "not a member"
    );
    let q = "query($ws: ID!) { workspace(id: $ws) { id } }";
    assert_eq!(
        code(&t.app.gql(Some(&carol2), q, json!({ "ws": t.ws })).await),
        "NOT_FOUND"
    );
}

// ---- withdrawInvitation ----

#[tokio::test]
async fn withdrawing_a_pending_invitation_revokes_it_and_cancels_its_email() {
    let t = team().await;
    let id = t.app.invited(&t.bob, &t.ws, "carol@acme.test").await;
    let data = t.app.ok(&t.bob, WITHDRAW, json!({ "id": id })).await;
    assert_eq!(data["withdrawInvitation"]["status"], "REVOKED");
    assert_eq!(
        data["withdrawInvitation"]["emailDelivery"]["status"],
        "CANCELLED"
    );
}

#[tokio::test]
async fn the_owner_may_withdraw_a_members_invitation() {
    let t = team().await;
    let id = t.app.invited(&t.bob, &t.ws, "carol@acme.test").await;
    let data = t.app.ok(&t.ada, WITHDRAW, json!({ "id": id })).await;
    assert_eq!(data["withdrawInvitation"]["status"], "REVOKED");
}

#[tokio::test]
async fn withdrawing_is_forbidden_to_the_recipient_and_not_found_to_others() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    assert_eq!(
        code(&t.app.gql(Some(&carol), WITHDRAW, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    // Bob is a member but neither creator nor owner.
    assert_eq!(
        code(&t.app.gql(Some(&t.bob), WITHDRAW, json!({ "id": id })).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn withdrawing_a_revoked_invitation_returns_it_unchanged() {
    let t = team().await;
    let id = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    let first = t.app.ok(&t.ada, WITHDRAW, json!({ "id": id })).await;
    let again = t.app.ok(&t.ada, WITHDRAW, json!({ "id": id })).await;
    assert_eq!(first, again);
}

#[tokio::test]
async fn withdrawing_an_accepted_invitation_ends_the_membership_and_revokes_that_members_invitations(
) {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let granted = t.app.join(&t.ws, &t.ada, &carol).await;
    let carols = t.app.invited(&carol, &t.ws, "dan@acme.test").await;

    let data = t.app.ok(&t.ada, WITHDRAW, json!({ "id": granted })).await;
    assert_eq!(data["withdrawInvitation"]["status"], "REVOKED");

    let q = "query($ws: ID!) { workspace(id: $ws) { id } }";
    assert_eq!(
        code(&t.app.gql(Some(&carol), q, json!({ "ws": t.ws })).await),
        "NOT_FOUND"
    );
    let me = t
        .app
        .ok(&carol, "{ me { defaultWorkspace { id } } }", json!({}))
        .await;
    assert!(me["me"]["defaultWorkspace"].is_null());

    // Carol's pending invitation stopped working, and she still sees it.
    let sent = t
        .app
        .ok(
            &carol,
            "{ sentInvitations { nodes { id status } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        sent["sentInvitations"]["nodes"],
        json!([{ "id": carols, "status": "REVOKED" }])
    );
    let dan = t.app.user("dan@acme.test");
    assert_eq!(
        reason(&t.app.gql(Some(&dan), ACCEPT, json!({ "id": carols })).await),
        "INVITATION_REVOKED"
    );

    // Bob, who joined otherwise, is still a member.
    let members = "query($ws: ID!) { workspace(id: $ws) { members { nodes { handle } } } }";
    let data = t.app.ok(&t.ada, members, json!({ "ws": t.ws })).await;
    assert_eq!(
        data["workspace"]["members"]["nodes"],
        json!([{ "handle": "@ada" }, { "handle": "@bob" }])
    );
}

// ---- deleteInvitation ----

#[tokio::test]
async fn deleting_a_pending_invitation_removes_it_with_its_email() {
    let t = team().await;
    let id = t.app.invited(&t.bob, &t.ws, "carol@acme.test").await;
    let data = t
        .app
        .ok(&t.bob, DELETE_INVITATION, json!({ "id": id }))
        .await;
    assert_eq!(data["deleteInvitation"], id.as_str());
    assert_eq!(
        code(&t.app.gql(Some(&t.bob), GET, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::email_outbox::Entity::find()
            .count(&t.app.db)
            .await
            .unwrap(),
        1,
        "only Bob's own invitation email is left"
    );
}

#[tokio::test]
async fn deleting_a_revoked_invitation_is_allowed() {
    let t = team().await;
    let id = t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    t.app.ok(&t.ada, WITHDRAW, json!({ "id": id })).await;
    let data = t
        .app
        .ok(&t.ada, DELETE_INVITATION, json!({ "id": id }))
        .await;
    assert_eq!(data["deleteInvitation"], id.as_str());
}

#[tokio::test]
async fn deleting_an_accepted_invitation_is_a_conflict() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.join(&t.ws, &t.ada, &carol).await;
    let body = t
        .app
        .gql(Some(&t.ada), DELETE_INVITATION, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "CONFLICT");
    assert_eq!(reason(&body), "INVITATION_ACCEPTED");
}

#[tokio::test]
async fn deleting_is_forbidden_to_the_recipient_and_not_found_to_others() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    assert_eq!(
        code(
            &t.app
                .gql(Some(&carol), DELETE_INVITATION, json!({ "id": id }))
                .await
        ),
        "FORBIDDEN"
    );
    let eve = t.app.user("eve@evil.test");
    assert_eq!(
        code(
            &t.app
                .gql(Some(&eve), DELETE_INVITATION, json!({ "id": id }))
                .await
        ),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn malformed_invitation_ids_are_bad_user_input() {
    let t = team().await;
    for q in [GET, ACCEPT, WITHDRAW, DELETE_INVITATION] {
        let body = t.app.gql(Some(&t.ada), q, json!({ "id": "nope" })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{q}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "id");
    }
}

// ---- invitation(id) and emailDelivery ----

#[tokio::test]
async fn invitation_is_visible_to_creator_owner_and_recipient_only() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.bob, &t.ws, &carol.email).await;
    for who in [&t.bob, &t.ada, &carol] {
        assert_eq!(
            t.app.ok(who, GET, json!({ "id": id })).await["invitation"]["id"],
            id.as_str()
        );
    }
    let dan = t.app.user("dan@acme.test");
    t.app.join(&t.ws, &t.ada, &dan).await;
    let body = t.app.gql(Some(&dan), GET, json!({ "id": id })).await;
    assert_eq!(code(&body), "NOT_FOUND", "a fellow member is not told");
}

#[tokio::test]
async fn email_delivery_is_visible_to_creator_and_owner_and_null_for_the_recipient() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.bob, &t.ws, &carol.email).await;
    for who in [&t.bob, &t.ada] {
        let data = t.app.ok(who, GET, json!({ "id": id })).await;
        assert_eq!(data["invitation"]["emailDelivery"]["status"], "QUEUED");
    }
    let body = t.app.gql(Some(&carol), GET, json!({ "id": id })).await;
    assert!(
        body.get("errors").is_none(),
        "no error for the recipient: {body}"
    );
    assert!(body["data"]["invitation"]["emailDelivery"].is_null());
}

#[tokio::test]
async fn the_recipient_sees_only_the_public_fields_of_the_workspace_through_any_nesting() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    t.app.invited(&t.bob, &t.ws, &carol.email).await;
    let q = "{ receivedInvitations { nodes { workspace {
        id created lastModified alias name imageUrl status defaultWorkspace viewerRole owner { handle }
        domains repositoryUrl pipelinesImage
        members { totalCount } member(id: \"00000000-0000-4000-8000-000000000000\") { id }
        invitations { totalCount }
    } creator { handle } } } }";
    let body = t.app.gql(Some(&carol), q, json!({})).await;
    let ws = &body["data"]["receivedInvitations"]["nodes"][0]["workspace"];
    assert_eq!(ws["name"], "Acme");
    assert_eq!(ws["owner"]["handle"], "@ada");
    assert_eq!(ws["defaultWorkspace"], false);
    assert!(ws["viewerRole"].is_null());
    for field in [
        "domains",
        "repositoryUrl",
        "pipelinesImage",
        "members",
        "member",
        "invitations",
    ] {
        assert!(ws[field].is_null(), "{field} must be null");
        let err = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"].as_array().unwrap().last() == Some(&json!(field)))
            .unwrap_or_else(|| panic!("an error for {field}: {body:#}"));
        assert_eq!(err["extensions"]["code"], "FORBIDDEN", "{field}");
    }
    // Nested again: the workspace's owner's... there is no way back to members.
    let q = "query($ws: ID!) { workspace(id: $ws) { id } }";
    assert_eq!(
        code(&t.app.gql(Some(&carol), q, json!({ "ws": t.ws })).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn a_refused_field_is_present_in_data_as_null_not_left_out() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    t.app.invited(&t.bob, &t.ws, &carol.email).await;
    let q = "{ receivedInvitations { nodes { workspace { domains members { totalCount } } } } }";
    let body = t.app.gql(Some(&carol), q, json!({})).await;
    let ws = body["data"]["receivedInvitations"]["nodes"][0]["workspace"]
        .as_object()
        .unwrap_or_else(|| panic!("the workspace is an object: {body:#}"));
    for field in ["domains", "members"] {
        assert_eq!(ws.get(field), Some(&Value::Null), "{field} in {body:#}");
    }
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body:#}");

    // A field the caller may not see, next to one it may.
    let q = "query($ws: ID!) { workspace(id: $ws) { name member(id: \"00000000-0000-4000-8000-000000000000\") { id } } }";
    let body = t.app.gql(Some(&t.ada), q, json!({ "ws": t.ws })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    assert_eq!(
        body["data"]["workspace"],
        json!({ "name": "Acme", "member": null }),
        "{body:#}"
    );
}

#[tokio::test]
async fn a_failing_non_null_field_nulls_its_nearest_nullable_parent() {
    let t = team().await;
    // A workspace the caller cannot see, asked for at the root: its key is
    // null; `me` beside it is unaffected.
    let q = "query($ws: ID!) { me { handle } workspace(id: $ws) { id } }";
    let eve = t.app.user("eve@acme.test");
    let body = t.app.gql(Some(&eve), q, json!({ "ws": t.ws })).await;
    assert_eq!(
        body["data"],
        json!({ "me": { "handle": "@eve" }, "workspace": null }),
        "{body:#}"
    );
    // `me` is non-null: without a token it fails, and so does all of data.
    let body = t
        .app
        .gql(None, "{ me { handle } __typename }", json!({}))
        .await;
    assert_eq!(body["data"], Value::Null, "{body:#}");
}

#[tokio::test]
async fn a_member_reaching_the_workspace_through_an_invitation_sees_everything() {
    let t = team().await;
    t.app.invited(&t.bob, &t.ws, "carol@acme.test").await;
    let q =
        "{ sentInvitations { nodes { workspace { domains viewerRole members { totalCount } } } } }";
    let data = t.app.ok(&t.bob, q, json!({})).await;
    let ws = &data["sentInvitations"]["nodes"][0]["workspace"];
    assert_eq!(ws["viewerRole"], "MEMBER");
    assert_eq!(ws["members"]["totalCount"], 2);
}

// ---- listings ----

const SENT: &str = "query($status: [InvitationStatus!]) { sentInvitations(status: $status) { totalCount nodes { email status } } }";
const RECEIVED: &str = "query($status: [InvitationStatus!]) { receivedInvitations(status: $status) { totalCount nodes { email status } } }";
const WORKSPACE_INVITATIONS: &str = "query($ws: ID!, $status: [InvitationStatus!]) {
  workspace(id: $ws) { invitations(status: $status) { totalCount nodes { email status } } } }";

/// Carol accepted (from Ada), Dan pending (from Bob), Erin revoked (from Bob).
async fn three_states(t: &Team) {
    t.app
        .join(&t.ws, &t.ada, &t.app.user("carol@acme.test"))
        .await;
    t.app.invited(&t.bob, &t.ws, "dan@acme.test").await;
    let erin = t.app.invited(&t.bob, &t.ws, "erin@acme.test").await;
    t.app.ok(&t.bob, WITHDRAW, json!({ "id": erin })).await;
}

fn emails(conn: &Value) -> Vec<&str> {
    conn["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["email"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn sent_invitations_lists_all_statuses_newest_first_unless_filtered() {
    let t = team().await;
    three_states(&t).await;
    let all = t.app.ok(&t.bob, SENT, json!({})).await;
    assert_eq!(
        emails(&all["sentInvitations"]),
        ["erin@acme.test", "dan@acme.test"]
    );
    let pending = t
        .app
        .ok(&t.bob, SENT, json!({ "status": ["PENDING"] }))
        .await;
    assert_eq!(emails(&pending["sentInvitations"]), ["dan@acme.test"]);
    assert_eq!(pending["sentInvitations"]["totalCount"], 1);
}

#[tokio::test]
async fn received_invitations_lists_those_addressed_to_the_viewers_email() {
    let t = team().await;
    let other_ws = t
        .app
        .create_workspace(&t.bob, "Other", &["acme.test"])
        .await;
    t.app.invited(&t.ada, &t.ws, "carol@acme.test").await;
    t.app.invited(&t.bob, &other_ws, "carol@acme.test").await;
    t.app.invited(&t.bob, &other_ws, "dan@acme.test").await;
    for sub in ["google|carol", "github|carol"] {
        let carol = t.app.user_with(claims(sub, "Carol@acme.test"));
        let data = t.app.ok(&carol, RECEIVED, json!({})).await;
        assert_eq!(data["receivedInvitations"]["totalCount"], 2, "{sub}");
    }
}

#[tokio::test]
async fn workspace_invitations_are_all_for_the_owner_and_own_for_a_member_active_by_default() {
    let t = team().await;
    three_states(&t).await;
    let owner = t
        .app
        .ok(&t.ada, WORKSPACE_INVITATIONS, json!({ "ws": t.ws }))
        .await;
    let mut got = emails(&owner["workspace"]["invitations"]);
    got.sort();
    assert_eq!(
        got,
        ["bob@acme.test", "carol@acme.test", "dan@acme.test"],
        "PENDING and ACCEPTED"
    );
    let member = t
        .app
        .ok(&t.bob, WORKSPACE_INVITATIONS, json!({ "ws": t.ws }))
        .await;
    assert_eq!(
        emails(&member["workspace"]["invitations"]),
        ["dan@acme.test"]
    );
    let revoked = t
        .app
        .ok(
            &t.bob,
            WORKSPACE_INVITATIONS,
            json!({ "ws": t.ws, "status": ["REVOKED"] }),
        )
        .await;
    assert_eq!(
        emails(&revoked["workspace"]["invitations"]),
        ["erin@acme.test"]
    );
}

#[tokio::test]
async fn an_empty_status_list_is_bad_user_input() {
    let t = team().await;
    for q in [SENT, RECEIVED] {
        let body = t.app.gql(Some(&t.ada), q, json!({ "status": [] })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "status");
    }
}

#[tokio::test]
async fn forty_five_invitations_page_by_20_both_ways() {
    let t = team().await;
    for i in 0..45 {
        t.app
            .invited(&t.ada, &t.ws, &format!("u{i:02}@acme.test"))
            .await;
    }
    let q = "query($first: Int, $after: String, $last: Int, $before: String) {
      sentInvitations(first: $first, after: $after, last: $last, before: $before) {
        totalCount nodes { email } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }";
    let want = |range: std::ops::Range<usize>| -> Vec<String> {
        range.rev().map(|i| format!("u{i:02}@acme.test")).collect()
    };
    let (app, ada) = (&t.app, &t.ada);
    let get = |v: Value| async move { app.ok(ada, q, v).await["sentInvitations"].clone() };
    let owned = |c: &Value| emails(c).into_iter().map(String::from).collect::<Vec<_>>();

    let p1 = get(json!({ "first": 20 })).await;
    let p2 = get(json!({ "first": 20, "after": p1["pageInfo"]["endCursor"] })).await;
    let p3 = get(json!({ "first": 20, "after": p2["pageInfo"]["endCursor"] })).await;
    // Ada's own invitation of Bob is the oldest of her 46.
    assert_eq!(p1["totalCount"], 46);
    assert_eq!(owned(&p1), want(25..45));
    assert_eq!(owned(&p2), want(5..25));
    assert_eq!(owned(&p3)[..5], want(0..5)[..]);
    assert_eq!(owned(&p3).len(), 6);
    assert_eq!(
        (
            p3["pageInfo"]["hasNextPage"].clone(),
            p3["pageInfo"]["hasPreviousPage"].clone()
        ),
        (json!(false), json!(true))
    );

    let b1 = get(json!({ "last": 20 })).await;
    let b2 = get(json!({ "last": 20, "before": b1["pageInfo"]["startCursor"] })).await;
    let b3 = get(json!({ "last": 20, "before": b2["pageInfo"]["startCursor"] })).await;
    assert_eq!(owned(&b3), want(39..45));
    assert_eq!(b3["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(b3["pageInfo"]["hasNextPage"], true);
    assert_eq!(owned(&b2), want(19..39));

    let received_cursor = {
        let carol = t.app.user("u00@acme.test");
        let d = t
            .app
            .ok(
                &carol,
                "{ receivedInvitations { pageInfo { endCursor } } }",
                json!({}),
            )
            .await;
        d["receivedInvitations"]["pageInfo"]["endCursor"].clone()
    };
    let body = t
        .app
        .gql(Some(&t.ada), q, json!({ "after": received_cursor }))
        .await;
    assert_eq!(reason(&body), "INVALID_CURSOR");
    for bad in [
        json!({ "first": 101 }),
        json!({ "last": -1 }),
        json!({ "first": 1, "last": 1 }),
    ] {
        assert_eq!(
            code(&t.app.gql(Some(&t.ada), q, bad).await),
            "BAD_USER_INPUT"
        );
    }
}

// ---- workspaces and invitations ----

#[tokio::test]
async fn deleting_a_workspace_removes_its_invitations_and_their_emails() {
    let t = team().await;
    let carol = t.app.user("carol@acme.test");
    let id = t.app.invited(&t.ada, &t.ws, &carol.email).await;
    t.app
        .ok(
            &t.ada,
            "mutation($id: ID!) { deleteWorkspace(id: $id) }",
            json!({ "id": t.ws }),
        )
        .await;
    assert_eq!(
        code(&t.app.gql(Some(&carol), GET, json!({ "id": id })).await),
        "NOT_FOUND"
    );
    let received = t.app.ok(&carol, RECEIVED, json!({})).await;
    assert_eq!(received["receivedInvitations"]["totalCount"], 0);
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::email_outbox::Entity::find()
            .count(&t.app.db)
            .await
            .unwrap(),
        0,
        "no email left to send"
    );
    assert_eq!(
        entity::invitation::Entity::find()
            .count(&t.app.db)
            .await
            .unwrap(),
        0
    );
}

// ---- batching ----

#[tokio::test]
async fn a_nested_listing_makes_the_same_number_of_statements_for_1_10_and_100_invitations() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let zed = app.user("zed@acme.test");
    // Ten workspaces owned by Zed, where Ada is a member: creators and
    // owners are different people, so each is a batch of its own.
    let mut workspaces = Vec::new();
    for i in 0..10 {
        let ws = app
            .create_workspace(&zed, &format!("W{i}"), &["acme.test"])
            .await;
        app.join(&ws, &zed, &ada).await;
        workspaces.push(ws);
    }
    let q = "{ sentInvitations(first: 100) { nodes { creator { name } workspace { name owner { name } } } } }";
    let mut counts = Vec::new();
    let mut made = 0;
    for target in [1, 10, 100] {
        while made < target {
            app.invited(&ada, &workspaces[made % 10], &format!("u{made}@acme.test"))
                .await;
            made += 1;
        }
        let fewest = app.fewest_statements(&ada, q, json!({})).await;
        let data = app.ok(&ada, q, json!({})).await;
        assert_eq!(
            data["sentInvitations"]["nodes"].as_array().unwrap().len(),
            target
        );
        counts.push(fewest);
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert_eq!(counts[1], counts[2], "{counts:?}");
    // The viewer's profile, the page, then one batch each for the
    // creators, the workspaces and their owners (README).
    assert_eq!(counts[0], 5, "{counts:?}");
}
