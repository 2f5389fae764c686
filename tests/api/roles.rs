//! SPEC Part 2 "Roles": admins beside the owner, the roles invitations
//! grant, changing roles, removing members and leaving.

use crate::helpers::{code, reason, spawn_app, TestApp, User, ACCEPT, WITHDRAW};
use serde_json::{json, Value};

/// Ada owns Acme; Adam is an admin; Bob a plain member.
struct Team {
    app: TestApp,
    ada: User,
    adam: User,
    bob: User,
    ws: String,
}

const INVITE_AS: &str = "mutation($ws: ID!, $email: String!, $role: WorkspaceRole) {
  createInvitation(workspaceId: $ws, email: $email, role: $role) { id role } }";
const ROLE: &str = "mutation($ws: ID!, $p: ID!, $role: WorkspaceRole!) {
  updateMemberRole(workspaceId: $ws, profileId: $p, role: $role) { id handle role } }";
const REMOVE: &str = "mutation($ws: ID!, $p: ID!) {
  removeMember(workspaceId: $ws, profileId: $p) { id name viewerRole } }";
const MEMBERS: &str =
    "query($ws: ID!) { workspace(id: $ws) { members { nodes { handle role } } } }";

impl Team {
    async fn new() -> Team {
        let app = spawn_app().await;
        let ada = app.user("ada@acme.test");
        let adam = app.user("adam@acme.test");
        let bob = app.user("bob@acme.test");
        let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
        let t = Team {
            app,
            ada,
            adam,
            bob,
            ws,
        };
        t.join_as(&t.adam, "ADMIN").await;
        t.app.join(&t.ws, &t.ada, &t.bob).await;
        t
    }

    async fn invite_as(&self, by: &User, email: &str, role: &str) -> Value {
        self.app
            .gql(
                Some(by),
                INVITE_AS,
                json!({ "ws": self.ws, "email": email, "role": role }),
            )
            .await
    }

    /// Invited by Ada with `role`, accepted; the invitation's id.
    async fn join_as(&self, user: &User, role: &str) -> String {
        let body = self.invite_as(&self.ada, &user.email, role).await;
        let id = body["data"]["createInvitation"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned();
        self.app.ok(user, ACCEPT, json!({ "id": id })).await;
        id
    }

    async fn id(&self, user: &User) -> String {
        self.app.profile_id(user).await
    }

    async fn change(&self, by: &User, p: &str, role: &str) -> Value {
        let vars = json!({ "ws": self.ws, "p": p, "role": role });
        self.app.gql(Some(by), ROLE, vars).await
    }

    async fn remove(&self, by: &User, p: String) -> Value {
        let vars = json!({ "ws": self.ws, "p": p });
        self.app.gql(Some(by), REMOVE, vars).await
    }

    async fn members(&self) -> Value {
        self.app
            .ok(&self.ada, MEMBERS, json!({ "ws": self.ws }))
            .await["workspace"]["members"]["nodes"]
            .clone()
    }
}

#[tokio::test]
async fn an_invitation_grants_the_role_it_names_on_accepting() {
    let t = Team::new().await;
    assert_eq!(
        t.members().await,
        json!([
            { "handle": "@ada", "role": "OWNER" },
            { "handle": "@adam", "role": "ADMIN" },
            { "handle": "@bob", "role": "MEMBER" },
        ])
    );
    let q = "query($ws: ID!) { workspace(id: $ws) { viewerRole } }";
    let me = t.app.ok(&t.adam, q, json!({ "ws": t.ws })).await;
    assert_eq!(me["workspace"]["viewerRole"], "ADMIN");
}

#[tokio::test]
async fn an_invitation_cannot_grant_owner_and_a_plain_member_cannot_grant_admin() {
    let t = Team::new().await;
    let body = t.invite_as(&t.ada, "carol@acme.test", "OWNER").await;
    assert_eq!(
        (code(&body), reason(&body)),
        ("BAD_USER_INPUT", "INVALID_ROLE")
    );
    let body = t.invite_as(&t.bob, "carol@acme.test", "ADMIN").await;
    assert_eq!(
        (code(&body), reason(&body)),
        ("FORBIDDEN", "ROLE_NOT_GRANTABLE")
    );
    let body = t.invite_as(&t.adam, "carol@acme.test", "ADMIN").await;
    assert_eq!(body["data"]["createInvitation"]["role"], "ADMIN", "{body}");
    let body = t.invite_as(&t.bob, "dan@acme.test", "MEMBER").await;
    assert_eq!(body["data"]["createInvitation"]["role"], "MEMBER");
}

#[tokio::test]
async fn admins_manage_invitations_as_the_owner_does() {
    let t = Team::new().await;
    let body = t.invite_as(&t.bob, "carol@acme.test", "MEMBER").await;
    let bobs = body["data"]["createInvitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = "query($id: ID!) { invitation(id: $id) { id emailDelivery { status } } }";
    let seen = t.app.ok(&t.adam, q, json!({ "id": bobs })).await;
    assert_eq!(seen["invitation"]["emailDelivery"]["status"], "QUEUED");
    let listing = "query($ws: ID!) { workspace(id: $ws) { invitations { totalCount } } }";
    let all = t.app.ok(&t.adam, listing, json!({ "ws": t.ws })).await;
    assert_eq!(
        all["workspace"]["invitations"]["totalCount"], 3,
        "all of them"
    );
    let own = t.app.ok(&t.bob, listing, json!({ "ws": t.ws })).await;
    assert_eq!(own["workspace"]["invitations"]["totalCount"], 1, "its own");
    let withdrawn = t.app.ok(&t.adam, WITHDRAW, json!({ "id": bobs })).await;
    assert_eq!(withdrawn["withdrawInvitation"]["status"], "REVOKED");
}

#[tokio::test]
async fn the_owner_changes_roles_and_nobody_else_does() {
    let t = Team::new().await;
    let (bob, adam, ada) = (t.id(&t.bob).await, t.id(&t.adam).await, t.id(&t.ada).await);
    let made = t.change(&t.ada, &bob, "ADMIN").await;
    assert_eq!(
        made["data"]["updateMemberRole"],
        json!({ "id": bob, "handle": "@bob", "role": "ADMIN" })
    );
    assert_eq!(
        code(&t.change(&t.adam, &bob, "MEMBER").await),
        "FORBIDDEN",
        "an admin"
    );
    let eve = t.app.user("eve@acme.test");
    assert_eq!(
        code(&t.change(&eve, &bob, "MEMBER").await),
        "NOT_FOUND",
        "a stranger"
    );
    let body = t.change(&t.ada, &adam, "OWNER").await;
    assert_eq!(
        (code(&body), reason(&body)),
        ("BAD_USER_INPUT", "INVALID_ROLE")
    );
    let body = t.change(&t.ada, &ada, "MEMBER").await;
    assert_eq!(
        (code(&body), reason(&body)),
        ("CONFLICT", "OWNER_ROLE_FIXED")
    );
    let nobody = t.id(&eve).await;
    assert_eq!(
        code(&t.change(&t.ada, &nobody, "MEMBER").await),
        "NOT_FOUND",
        "not a member"
    );
}

#[tokio::test]
async fn removing_a_member_ends_the_membership_as_withdrawing_its_invitation_does() {
    let t = Team::new().await;
    let carol = t.app.user("carol@acme.test");
    let granted = t.join_as(&carol, "MEMBER").await;
    let hers = t.invite_as(&carol, "dan@acme.test", "MEMBER").await["data"]["createInvitation"]
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let removed = t
        .app
        .ok(
            &t.adam,
            REMOVE,
            json!({ "ws": t.ws, "p": t.id(&carol).await }),
        )
        .await;
    assert_eq!(removed["removeMember"]["name"], "Acme");
    let q = "query($id: ID!) { invitation(id: $id) { status events { nodes { kind actor { handle } } } } }";
    let g = t.app.ok(&t.ada, q, json!({ "id": granted })).await;
    assert_eq!(g["invitation"]["status"], "REVOKED");
    assert_eq!(
        g["invitation"]["events"]["nodes"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        &json!({ "kind": "REVOKED", "actor": { "handle": "@adam" } })
    );
    let h = t.app.ok(&t.ada, q, json!({ "id": hers })).await;
    assert_eq!(
        h["invitation"]["status"], "REVOKED",
        "her pending ones stop working"
    );
    let last = h["invitation"]["events"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "REVOKED")
        .unwrap()
        .clone();
    assert!(last["actor"].is_null(), "revoked by the system");
    let ws = "query($ws: ID!) { workspace(id: $ws) { id } }";
    assert_eq!(
        code(&t.app.gql(Some(&carol), ws, json!({ "ws": t.ws })).await),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn an_admin_cannot_remove_the_owner_or_another_admin_and_a_member_no_one_else() {
    let t = Team::new().await;
    let amy = t.app.user("amy@acme.test");
    t.join_as(&amy, "ADMIN").await;
    assert_eq!(
        code(&t.remove(&t.adam, t.id(&t.ada).await).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&t.remove(&t.adam, t.id(&amy).await).await),
        "FORBIDDEN"
    );
    assert_eq!(code(&t.remove(&t.bob, t.id(&amy).await).await), "FORBIDDEN");
    let eve = t.app.user("eve@acme.test");
    assert_eq!(code(&t.remove(&eve, t.id(&t.bob).await).await), "NOT_FOUND");
    assert_eq!(
        code(&t.remove(&t.ada, t.id(&eve).await).await),
        "NOT_FOUND",
        "not a member"
    );
    // The owner removes an admin.
    let ok = t.remove(&t.ada, t.id(&amy).await).await;
    assert!(ok.get("errors").is_none(), "{ok}");
}

#[tokio::test]
async fn anyone_may_leave_but_the_owner() {
    let t = Team::new().await;
    let left = t
        .app
        .ok(
            &t.bob,
            REMOVE,
            json!({ "ws": t.ws, "p": t.id(&t.bob).await }),
        )
        .await;
    assert!(left["removeMember"]["viewerRole"].is_null(), "outside now");
    let body = t
        .app
        .gql(
            Some(&t.ada),
            REMOVE,
            json!({ "ws": t.ws, "p": t.id(&t.ada).await }),
        )
        .await;
    assert_eq!(
        (code(&body), reason(&body)),
        ("CONFLICT", "OWNER_CANNOT_LEAVE")
    );
}

#[tokio::test]
async fn a_members_role_is_its_role_in_the_workspace_it_is_seen_through_and_null_once_gone() {
    let t = Team::new().await;
    let body = t.invite_as(&t.bob, "carol@acme.test", "MEMBER").await;
    let id = body["data"]["createInvitation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q =
        "query($id: ID!) { invitation(id: $id) { creator { role } workspace { owner { role } } } }";
    let seen = t.app.ok(&t.ada, q, json!({ "id": id })).await;
    assert_eq!(
        seen["invitation"],
        json!({ "creator": { "role": "MEMBER" }, "workspace": { "owner": { "role": "OWNER" } } })
    );
    t.app
        .ok(
            &t.ada,
            REMOVE,
            json!({ "ws": t.ws, "p": t.id(&t.bob).await }),
        )
        .await;
    let sent = "{ sentInvitations { nodes { creator { role } } } }";
    let mine = t.app.ok(&t.bob, sent, json!({})).await;
    assert!(mine["sentInvitations"]["nodes"][0]["creator"]["role"].is_null());
}

#[tokio::test]
async fn removing_someone_racing_their_accept_ends_in_one_consistent_state() {
    let t = Team::new().await;
    for i in 0..5 {
        let carol = t.app.user(&format!("carol{i}@acme.test"));
        let carol_id = t.id(&carol).await;
        let inv = t.app.invited(&t.ada, &t.ws, &carol.email).await;
        let (removed, accepted) = tokio::join!(
            t.app
                .gql(Some(&t.ada), REMOVE, json!({ "ws": t.ws, "p": carol_id })),
            t.app.gql(Some(&carol), ACCEPT, json!({ "id": inv })),
        );
        assert!(accepted.get("errors").is_none(), "{accepted}");
        let q = "query($id: ID!) { invitation(id: $id) { status } }";
        let status =
            t.app.ok(&t.ada, q, json!({ "id": inv })).await["invitation"]["status"].clone();
        let member = t
            .members()
            .await
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["handle"] == format!("@carol{i}"));
        if removed.get("errors").is_none() {
            // Removed after she joined: the membership and its invitation end.
            assert_eq!((status, member), (json!("REVOKED"), false));
        } else {
            // Not a member yet when the removal looked.
            assert_eq!(code(&removed), "NOT_FOUND", "{removed}");
            assert_eq!((status, member), (json!("ACCEPTED"), true));
        }
    }
}
