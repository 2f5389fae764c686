//! SPEC "Who is asking": tokens and profiles.

use crate::helpers::{claims, code, reason, spawn_app, token};
use serde_json::json;

const ME: &str = "{ me { id name handle email phone defaultWorkspace { id } } }";

#[tokio::test]
async fn no_token_is_unauthenticated() {
    let app = spawn_app().await;
    let body = app.gql(None, ME, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    assert!(body["data"].is_null());
}

#[tokio::test]
async fn typename_and_introspection_need_no_token() {
    let app = spawn_app().await;
    let body = app
        .gql(
            None,
            "{ __typename __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let mut expired = claims("s", "a@x.test");
    expired.exp = 1_000;
    let forged = invitations::auth::mint(
        b"some-other-secret-some-other-secret!",
        &claims("s", "a@x.test"),
    );
    let none_alg = {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let b = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims("s", "a@x.test")).unwrap());
        format!("{h}.{b}.")
    };
    for (what, header) in [
        ("expired", format!("Bearer {}", token(&expired))),
        ("wrong secret", format!("Bearer {forged}")),
        ("alg none", format!("Bearer {none_alg}")),
        ("garbage", "Bearer not.a.token".to_owned()),
        (
            "wrong scheme",
            format!("Basic {}", token(&claims("s", "a@x.test"))),
        ),
    ] {
        let res = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("authorization", header)
            .json(&json!({ "query": ME }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{what}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(code(&body), "UNAUTHENTICATED", "{what}");
    }
}

#[tokio::test]
async fn token_without_email_is_unauthenticated() {
    let app = spawn_app().await;
    let mut c = serde_json::to_value(claims("s", "a@x.test")).unwrap();
    c.as_object_mut().unwrap().remove("email");
    let t = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &c,
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::SECRET.as_bytes()),
    )
    .unwrap();
    let user = crate::helpers::User {
        email: String::new(),
        token: t,
    };
    assert_eq!(
        code(&app.gql(Some(&user), ME, json!({})).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn profile_is_created_on_first_access_from_the_claims() {
    let app = spawn_app().await;
    let mut c = claims("auth0|ada", "Ada@Example.COM");
    c.name = Some("Ada Lovelace".into());
    let ada = app.user_with(c);
    let me = &app.ok(&ada, ME, json!({})).await["me"];
    assert_eq!(
        me["email"], "ada@example.com",
        "emails are stored lower-cased"
    );
    assert_eq!(me["name"], "Ada Lovelace");
    assert_eq!(me["handle"], "@ada_lovelace");
    assert!(me["phone"].is_null());
    assert!(me["defaultWorkspace"].is_null());
}

#[tokio::test]
async fn name_defaults_to_the_email_local_part() {
    let app = spawn_app().await;
    let me = &app
        .ok(&app.user("grace.hopper@navy.test"), ME, json!({}))
        .await["me"];
    assert_eq!(me["name"], "grace.hopper");
    assert_eq!(me["handle"], "@grace_hopper");
}

#[tokio::test]
async fn control_characters_in_a_token_name_become_spaces() {
    let app = spawn_app().await;
    let mut c = claims("sub-tab", "ann@x.test");
    c.name = Some("Ann\tLee\r\nBcc: x".into());
    let me = &app.ok(&app.user_with(c), ME, json!({})).await["me"];
    assert_eq!(me["name"], "Ann Lee  Bcc: x");
    assert_eq!(me["handle"], "@ann_lee_bcc_x");
}

#[tokio::test]
async fn same_subject_is_the_same_profile() {
    let app = spawn_app().await;
    let ada = app.user("ada@x.test");
    assert_eq!(app.profile_id(&ada).await, app.profile_id(&ada).await);
}

#[tokio::test]
async fn concurrent_first_requests_create_one_profile() {
    let app = spawn_app().await;
    let ada = app.user("ada@x.test");
    let ids = futures_util::future::join_all((0..10).map(|_| app.profile_id(&ada))).await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
}

#[tokio::test]
async fn email_follows_the_token() {
    let app = spawn_app().await;
    let first = app.user_with(claims("sub-1", "old@x.test"));
    let id = app.profile_id(&first).await;
    let later = app.user_with(claims("sub-1", "New@X.test"));
    let me = &app.ok(&later, "{ me { id email } }", json!({})).await["me"];
    assert_eq!(me["id"], id.as_str());
    assert_eq!(me["email"], later.email.to_lowercase());
}

#[tokio::test]
async fn name_comes_from_the_token_only_when_the_profile_is_created() {
    let app = spawn_app().await;
    let mut c = claims("sub-1", "a@x.test");
    c.name = Some("First".into());
    app.profile_id(&app.user_with(c)).await;
    let mut c = claims("sub-1", "a@x.test");
    c.name = Some("Second".into());
    let me = &app
        .ok(&app.user_with(c), "{ me { name } }", json!({}))
        .await["me"];
    assert_eq!(me["name"], "First");
}

#[tokio::test]
async fn handles_are_made_unique_with_a_number_suffix() {
    let app = spawn_app().await;
    let mut handles = Vec::new();
    for i in 0..3 {
        let mut c = claims(&format!("sub-{i}"), &format!("u{i}@x.test"));
        c.name = Some("Ada Lovelace".into());
        let me = app
            .ok(&app.user_with(c), "{ me { handle } }", json!({}))
            .await;
        handles.push(me["me"]["handle"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        handles,
        ["@ada_lovelace", "@ada_lovelace_2", "@ada_lovelace_3"]
    );
}

#[tokio::test]
async fn handle_is_user_when_the_name_leaves_nothing() {
    let app = spawn_app().await;
    let mut c = claims("s", "x@x.test");
    c.name = Some("日本語".into());
    let me = app
        .ok(&app.user_with(c), "{ me { handle } }", json!({}))
        .await;
    assert_eq!(me["me"]["handle"], "@user");
}

#[tokio::test]
async fn several_subjects_may_share_an_email() {
    let app = spawn_app().await;
    let a = app.user_with(claims("google|1", "same@x.test"));
    let b = app.user_with(claims("github|1", "same@x.test"));
    assert_ne!(app.profile_id(&a).await, app.profile_id(&b).await);
}

const UPDATE: &str =
    "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { name handle phone } }";

#[tokio::test]
async fn update_profile_changes_name_and_phone_but_not_the_handle() {
    let app = spawn_app().await;
    let ada = app.user("ada@x.test");
    let data = app
        .ok(
            &ada,
            UPDATE,
            json!({ "input": { "name": "  Countess  ", "phone": "+44 20 7946 0000" } }),
        )
        .await;
    assert_eq!(data["updateProfile"]["name"], "Countess");
    assert_eq!(data["updateProfile"]["handle"], "@ada");
    assert_eq!(data["updateProfile"]["phone"], "+44 20 7946 0000");
    let again = app.ok(&ada, "{ me { name phone } }", json!({})).await;
    assert_eq!(again["me"]["name"], "Countess");
}

#[tokio::test]
async fn update_profile_refuses_a_blank_name() {
    let app = spawn_app().await;
    let body = app
        .gql(
            Some(&app.user("a@x.test")),
            UPDATE,
            json!({ "input": { "name": "   " } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(reason(&body), "INVALID_NAME");
    assert_eq!(body["errors"][0]["extensions"]["field"], "name");
}

#[tokio::test]
async fn update_profile_refuses_a_bad_phone() {
    let app = spawn_app().await;
    let body = app
        .gql(
            Some(&app.user("a@x.test")),
            UPDATE,
            json!({ "input": { "phone": "<script>" } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "phone");
}
