//! Rate limits on creating invitations, counted in the database.

use crate::helpers::{code, reason, second_instance, spawn_app_with, INVITE};
use serde_json::{json, Value};

#[tokio::test]
async fn an_inviter_over_the_limit_is_rate_limited_with_a_retry_after() {
    let app = spawn_app_with(|s| s.invite_rate_per_inviter = 3).await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    for i in 0..3 {
        app.invited(&ada, &ws, &format!("u{i}@acme.test")).await;
    }
    let body = app.invite(&ada, &ws, "u3@acme.test").await;
    assert_eq!(code(&body), "RATE_LIMITED");
    let retry = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // Another inviter in the same workspace is not held back.
    let bob = app.user("bob@acme.test");
    let other_ws = app.create_workspace(&bob, "Bob's", &["acme.test"]).await;
    app.invited(&bob, &other_ws, "u3@acme.test").await;
}

#[tokio::test]
async fn a_workspace_over_the_limit_is_rate_limited_whoever_invites() {
    let app = spawn_app_with(|s| s.invite_rate_per_workspace = 3).await;
    let ada = app.user("ada@acme.test");
    let bob = app.user("bob@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    app.join(&ws, &ada, &bob).await; // 1
    app.invited(&bob, &ws, "u1@acme.test").await; // 2
    app.invited(&ada, &ws, "u2@acme.test").await; // 3
    assert_eq!(
        code(&app.invite(&bob, &ws, "u3@acme.test").await),
        "RATE_LIMITED"
    );
    let other = app.create_workspace(&ada, "Other", &["acme.test"]).await;
    app.invited(&ada, &other, "u3@acme.test").await;
}

#[tokio::test]
async fn a_refused_invitation_does_not_count() {
    let app = spawn_app_with(|s| s.invite_rate_per_inviter = 2).await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    app.invited(&ada, &ws, "u1@acme.test").await;
    for _ in 0..5 {
        assert_eq!(
            reason(&app.invite(&ada, &ws, "u1@acme.test").await),
            "ALREADY_INVITED"
        );
        assert_eq!(
            reason(&app.invite(&ada, &ws, "u9@evil.test").await),
            "DOMAIN_NOT_ALLOWED"
        );
    }
    app.invited(&ada, &ws, "u2@acme.test").await;
}

#[tokio::test]
async fn the_limit_holds_across_server_processes() {
    let app = spawn_app_with(|s| s.invite_rate_per_inviter = 2).await;
    let ada = app.user("ada@acme.test");
    let ws = app.create_workspace(&ada, "Acme", &["acme.test"]).await;
    app.invited(&ada, &ws, "u1@acme.test").await;
    let other = second_instance(&app, |s| s.invite_rate_per_inviter = 2).await;
    let post = |base: String, email: &str| {
        let req = app
            .client
            .post(format!("{base}/graphql"))
            .bearer_auth(&ada.token)
            .json(&json!({ "query": INVITE, "variables": { "ws": ws, "email": email } }));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let second = post(other.clone(), "u2@acme.test").await;
    assert!(second.get("errors").is_none(), "{second}");
    assert_eq!(code(&post(other, "u3@acme.test").await), "RATE_LIMITED");
    assert_eq!(
        code(&post(app.base.clone(), "u4@acme.test").await),
        "RATE_LIMITED"
    );
}
