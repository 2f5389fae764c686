//! The authorization matrix: every operation of the contract against every
//! kind of viewer, generated from one table so a missing cell shows.

use crate::helpers::{spawn_app, TestApp, User};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Viewer {
    Unauthenticated,
    Stranger,
    Member,
    Creator,
    Owner,
    Recipient,
    Admin,
}

const VIEWERS: [Viewer; 7] = [
    Viewer::Unauthenticated,
    Viewer::Stranger,
    Viewer::Member,
    Viewer::Creator,
    Viewer::Owner,
    Viewer::Recipient,
    Viewer::Admin,
];

/// A fresh world per cell: Ada owns the workspace; Bob, a member, created
/// an invitation for Carol; Dan is another member; Fay an admin; Eve is a
/// stranger.
struct World {
    ws: String,
    invitation: String,
    users: [Option<User>; 7],
}

async fn world(app: &TestApp, n: usize) -> World {
    let u = |name: &str| app.user(&format!("{name}{n}@acme.test"));
    let (ada, bob, carol, dan, eve, fay) =
        (u("ada"), u("bob"), u("carol"), u("dan"), u("eve"), u("fay"));
    let ws = app
        .create_workspace(&ada, &format!("Acme {n}"), &["acme.test"])
        .await;
    app.join(&ws, &ada, &bob).await;
    app.join(&ws, &ada, &dan).await;
    let admin = app
        .ok(
            &ada,
            "mutation($ws: ID!, $e: String!) { createInvitation(workspaceId: $ws, email: $e, role: ADMIN) { id } }",
            json!({ "ws": ws, "e": fay.email }),
        )
        .await;
    let fays = admin["createInvitation"]["id"].clone();
    app.ok(
        &fay,
        "mutation($id: ID!) { acceptInvitation(id: $id) { id } }",
        json!({ "id": fays }),
    )
    .await;
    let invitation = app.invited(&bob, &ws, &carol.email).await;
    World {
        ws,
        invitation,
        users: [
            None,
            Some(eve),
            Some(dan),
            Some(bob),
            Some(ada),
            Some(carol),
            Some(fay),
        ],
    }
}

/// What a cell expects: success, a code, or a null field without error.
const OK: &str = "OK";
const NULL: &str = "NULL";
const UA: &str = "UNAUTHENTICATED";
const NF: &str = "NOT_FOUND";
const FB: &str = "FORBIDDEN";

struct Row {
    name: &'static str,
    query: &'static str,
    /// The path to the value the row is about (for OK and NULL).
    path: &'static [&'static str],
    /// In the order of `VIEWERS`.
    expect: [&'static str; 7],
}

fn rows() -> Vec<Row> {
    vec![
        Row { name: "me", query: "{ me { id } }", path: &["me", "id"],
            expect: [UA, OK, OK, OK, OK, OK, OK] },
        Row { name: "workspaces", query: "{ workspaces { totalCount } }", path: &["workspaces", "totalCount"],
            expect: [UA, OK, OK, OK, OK, OK, OK] },
        Row { name: "workspace", query: "query($ws: ID!) { workspace(id: $ws) { id } }", path: &["workspace", "id"],
            expect: [UA, NF, OK, OK, OK, NF, OK] },
        Row { name: "workspace.members", query: "query($ws: ID!) { workspace(id: $ws) { members { totalCount } } }", path: &["workspace", "members", "totalCount"],
            expect: [UA, NF, OK, OK, OK, NF, OK] },
        Row { name: "workspace.invitations", query: "query($ws: ID!) { workspace(id: $ws) { invitations { totalCount } } }", path: &["workspace", "invitations", "totalCount"],
            expect: [UA, NF, OK, OK, OK, NF, OK] },
        Row { name: "invitation", query: "query($inv: ID!) { invitation(id: $inv) { id } }", path: &["invitation", "id"],
            expect: [UA, NF, NF, OK, OK, OK, OK] },
        Row { name: "invitation.emailDelivery", query: "query($inv: ID!) { invitation(id: $inv) { emailDelivery { status } } }", path: &["invitation", "emailDelivery", "status"],
            expect: [UA, NF, NF, OK, OK, NULL, OK] },
        Row { name: "invitation.workspace.domains", query: "query($inv: ID!) { invitation(id: $inv) { workspace { domains } } }", path: &["invitation", "workspace", "domains"],
            expect: [UA, NF, NF, OK, OK, FB, OK] },
        Row { name: "invitation.workspace.members", query: "query($inv: ID!) { invitation(id: $inv) { workspace { members { totalCount } } } }", path: &["invitation", "workspace", "members", "totalCount"],
            expect: [UA, NF, NF, OK, OK, FB, OK] },
        Row { name: "invitation.workspace.invitations", query: "query($inv: ID!) { invitation(id: $inv) { workspace { invitations { totalCount } } } }", path: &["invitation", "workspace", "invitations", "totalCount"],
            expect: [UA, NF, NF, OK, OK, FB, OK] },
        Row { name: "sentInvitations", query: "{ sentInvitations { totalCount } }", path: &["sentInvitations", "totalCount"],
            expect: [UA, OK, OK, OK, OK, OK, OK] },
        Row { name: "receivedInvitations", query: "{ receivedInvitations { totalCount } }", path: &["receivedInvitations", "totalCount"],
            expect: [UA, OK, OK, OK, OK, OK, OK] },
        Row { name: "createWorkspace", query: "mutation { createWorkspace(input: { name: \"Mine\" }) { id } }", path: &["createWorkspace", "id"],
            expect: [UA, OK, OK, OK, OK, OK, OK] },
        Row { name: "updateWorkspace", query: "mutation($ws: ID!) { updateWorkspace(id: $ws, input: { name: \"Renamed\" }) { id } }", path: &["updateWorkspace", "id"],
            expect: [UA, NF, FB, FB, OK, NF, FB] },
        Row { name: "deleteWorkspace", query: "mutation($ws: ID!) { deleteWorkspace(id: $ws) }", path: &["deleteWorkspace"],
            expect: [UA, NF, FB, FB, OK, NF, FB] },
        Row { name: "setDefaultWorkspace", query: "mutation($ws: ID!) { setDefaultWorkspace(id: $ws) { id } }", path: &["setDefaultWorkspace", "id"],
            expect: [UA, NF, OK, OK, OK, NF, OK] },
        Row { name: "updateProfile", query: "mutation { updateProfile(input: { name: \"New\" }) { id } }", path: &["updateProfile", "id"],
            expect: [UA, OK, OK, OK, OK, OK, OK] },
        Row { name: "createInvitation", query: "mutation($ws: ID!) { createInvitation(workspaceId: $ws, email: \"zoe@acme.test\") { id } }", path: &["createInvitation", "id"],
            expect: [UA, NF, OK, OK, OK, NF, OK] },
        Row { name: "acceptInvitation", query: "mutation($inv: ID!) { acceptInvitation(id: $inv) { id } }", path: &["acceptInvitation", "id"],
            expect: [UA, NF, NF, FB, FB, OK, FB] },
        Row { name: "withdrawInvitation", query: "mutation($inv: ID!) { withdrawInvitation(id: $inv) { id } }", path: &["withdrawInvitation", "id"],
            expect: [UA, NF, NF, OK, OK, FB, OK] },
        Row { name: "resendInvitation", query: "mutation($inv: ID!) { resendInvitation(id: $inv) { id } }", path: &["resendInvitation", "id"],
            expect: [UA, NF, NF, OK, OK, FB, OK] },
        Row { name: "declineInvitation", query: "mutation($inv: ID!) { declineInvitation(id: $inv) { id } }", path: &["declineInvitation", "id"],
            expect: [UA, NF, NF, FB, FB, OK, FB] },
        Row { name: "invitation.events", query: "query($inv: ID!) { invitation(id: $inv) { events { totalCount } } }", path: &["invitation", "events", "totalCount"],
            expect: [UA, NF, NF, OK, OK, NULL, OK] },
        Row { name: "deleteInvitation", query: "mutation($inv: ID!) { deleteInvitation(id: $inv) }", path: &["deleteInvitation"],
            expect: [UA, NF, NF, OK, OK, FB, OK] },
    ]
}

fn outcome(body: &Value, path: &[&str]) -> String {
    if let Some(code) = body["errors"][0]["extensions"]["code"].as_str() {
        return code.to_owned();
    }
    let value = path
        .iter()
        .fold(body["data"].clone(), |v, key| v[*key].clone());
    if value.is_null() {
        NULL.into()
    } else {
        OK.into()
    }
}

#[tokio::test]
async fn every_operation_for_every_viewer() {
    let app = spawn_app().await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for (r, row) in rows().iter().enumerate() {
        for (v, viewer) in VIEWERS.iter().enumerate() {
            // A fresh world per cell: mutations must not leak between cells.
            let w = world(&app, r * 10 + v).await;
            let vars = json!({ "ws": w.ws, "inv": w.invitation });
            let body = app.gql(w.users[v].as_ref(), row.query, vars).await;
            let got = outcome(&body, row.path);
            cells += 1;
            if got != row.expect[v] {
                failures.push(format!(
                    "{} as {viewer:?}: expected {}, got {got} ({body})",
                    row.name, row.expect[v]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
