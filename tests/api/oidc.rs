//! SPEC "Who is asking", OpenID part: RS256/ES256 tokens verified against a
//! provider's key set served by a local JWKS endpoint, with real keys.

use crate::helpers::{claims, code, spawn_app_with, TestApp, User};
use actix_web::{web, App, HttpResponse, HttpServer};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use invitations::auth::Claims;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex,
};
use std::time::Duration;

const ISSUER: &str = "https://id.acme.test/";
const AUDIENCE: &str = "invitations";

/// A signing key and its public JWK.
struct TestKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    /// The raw public key bytes, for the algorithm-confusion attack.
    public_bytes: Vec<u8>,
}

fn rsa_key(kid: &str) -> TestKey {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let der = key.to_pkcs1_der().unwrap();
    let n = key.n().to_bytes_be();
    TestKey {
        kid: kid.into(),
        algorithm: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(&n),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }),
        public_bytes: n,
    }
}

fn ec_key(kid: &str) -> TestKey {
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    TestKey {
        kid: kid.into(),
        algorithm: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }),
        public_bytes: point,
    }
}

fn provider_claims(email: &str) -> Claims {
    let mut c = claims(&format!("auth0|{email}"), email);
    c.iss = Some(ISSUER.into());
    c.aud = Some(AUDIENCE.into());
    c
}

fn sign(key: &TestKey, claims: &Claims) -> String {
    let mut header = Header::new(key.algorithm);
    header.kid = Some(key.kid.clone());
    encode(&header, claims, &key.encoding).unwrap()
}

/// A local JWKS endpoint whose key set can be swapped, counting fetches.
#[derive(Clone)]
struct Provider {
    keys: Arc<Mutex<Option<Value>>>,
    fetches: Arc<AtomicUsize>,
    url: String,
}

impl Provider {
    async fn start(keys: &[&TestKey]) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://127.0.0.1:{}/.well-known/jwks.json",
            listener.local_addr().unwrap().port()
        );
        let provider = Provider {
            keys: Arc::new(Mutex::new(None)),
            fetches: Arc::new(AtomicUsize::new(0)),
            url,
        };
        provider.serve(keys);
        let state = provider.clone();
        let server = HttpServer::new(move || {
            let state = state.clone();
            App::new().route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    let state = state.clone();
                    async move {
                        state.fetches.fetch_add(1, Ordering::SeqCst);
                        match state.keys.lock().unwrap().clone() {
                            Some(set) => HttpResponse::Ok().json(set),
                            None => HttpResponse::ServiceUnavailable().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        provider
    }

    fn serve(&self, keys: &[&TestKey]) {
        let set = json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() });
        *self.keys.lock().unwrap() = Some(set);
    }

    fn go_down(&self) {
        *self.keys.lock().unwrap() = None;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn app_for(provider: &Provider, min_refresh: Duration) -> TestApp {
    app_with_max_age(provider, min_refresh, Duration::from_secs(3600)).await
}

async fn app_with_max_age(
    provider: &Provider,
    min_refresh: Duration,
    max_age: Duration,
) -> TestApp {
    let url = provider.url.clone();
    spawn_app_with(move |s| {
        s.auth_jwt_secret = None;
        s.auth_jwks_url = Some(url.clone());
        s.auth_issuer = Some(ISSUER.into());
        s.auth_audience = Some(AUDIENCE.into());
        s.auth_jwks_min_refresh = min_refresh;
        s.auth_jwks_max_age = max_age;
    })
    .await
}

fn accepted(body: &Value) -> bool {
    body.get("errors").is_none()
}

fn bearer(token: String) -> User {
    User {
        email: String::new(),
        token,
    }
}

async fn me(app: &TestApp, token: String) -> Value {
    app.gql(Some(&bearer(token)), "{ me { email } }", json!({}))
        .await
}

#[tokio::test]
async fn an_rs256_token_from_the_provider_is_accepted() {
    let key = rsa_key("rsa-1");
    let provider = Provider::start(&[&key]).await;
    let app = app_for(&provider, Duration::from_secs(60)).await;
    let body = me(&app, sign(&key, &provider_claims("ada@acme.test"))).await;
    assert_eq!(body["data"]["me"]["email"], "ada@acme.test", "{body}");
}

#[tokio::test]
async fn an_audience_array_as_auth0_and_keycloak_send_is_accepted() {
    let key = rsa_key("rsa-1");
    let provider = Provider::start(&[&key]).await;
    let app = app_for(&provider, Duration::from_secs(60)).await;
    let mut c = provider_claims("ada@acme.test");
    c.aud = Some(json!([AUDIENCE, "https://id.acme.test/userinfo"]));
    let body = me(&app, sign(&key, &c)).await;
    assert_eq!(body["data"]["me"]["email"], "ada@acme.test", "{body}");
    c.aud = Some(json!(["someone-else"]));
    assert_eq!(code(&me(&app, sign(&key, &c)).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_es256_token_from_the_provider_is_accepted() {
    let key = ec_key("ec-1");
    let provider = Provider::start(&[&key]).await;
    let app = app_for(&provider, Duration::from_secs(60)).await;
    let body = me(&app, sign(&key, &provider_claims("ada@acme.test"))).await;
    assert_eq!(body["data"]["me"]["email"], "ada@acme.test", "{body}");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_its_kid_first_appears() {
    let old = ec_key("2026-01");
    let new = ec_key("2026-02");
    let provider = Provider::start(&[&old]).await;
    let app = app_for(&provider, Duration::ZERO).await;
    assert!(me(&app, sign(&old, &provider_claims("a@acme.test")))
        .await
        .get("errors")
        .is_none());
    provider.serve(&[&new]);
    let body = me(&app, sign(&new, &provider_claims("a@acme.test"))).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(provider.fetches(), 2);
}

#[tokio::test]
async fn an_unknown_kid_is_refused_and_refetches_at_most_once_a_minute() {
    let known = ec_key("known");
    let stranger = ec_key("stranger");
    let provider = Provider::start(&[&known]).await;
    let app = app_for(&provider, Duration::from_secs(60)).await;
    assert_eq!(
        code(&me(&app, sign(&stranger, &provider_claims("a@acme.test"))).await),
        "UNAUTHENTICATED"
    );
    let after_first = provider.fetches();
    for _ in 0..3 {
        assert_eq!(
            code(&me(&app, sign(&stranger, &provider_claims("a@acme.test"))).await),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        provider.fetches(),
        after_first,
        "no more fetches within the minute"
    );
    assert!(me(&app, sign(&known, &provider_claims("a@acme.test")))
        .await
        .get("errors")
        .is_none());
}

#[tokio::test]
async fn a_key_for_encryption_is_not_used_to_verify() {
    let mut key = ec_key("enc");
    key.jwk["use"] = json!("enc");
    let provider = Provider::start(&[&key]).await;
    let app = app_for(&provider, Duration::ZERO).await;
    assert_eq!(
        code(&me(&app, sign(&key, &provider_claims("a@acme.test"))).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn an_old_key_set_keeps_verifying_while_it_is_refreshed_in_the_background() {
    let old = ec_key("old");
    let provider = Provider::start(&[&old]).await;
    let app = app_with_max_age(&provider, Duration::ZERO, Duration::from_millis(200)).await;
    let token = sign(&old, &provider_claims("a@acme.test"));
    assert!(accepted(&me(&app, token.clone()).await));
    assert_eq!(provider.fetches(), 1);
    // The set grows old, and the provider is away: the cached key still
    // verifies, and a refresh is tried behind the request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    provider.go_down();
    assert!(accepted(&me(&app, token.clone()).await));
    // Back, with the old key rotated out: the background refresh drops it.
    provider.serve(&[&ec_key("new")]);
    let mut refused = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !accepted(&me(&app, token.clone()).await) {
            refused = true;
            break;
        }
    }
    assert!(refused, "the refreshed set no longer holds the old key");
    assert!(provider.fetches() >= 3, "{}", provider.fetches());
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_lets_no_token_through() {
    let key = ec_key("k");
    let provider = Provider::start(&[&key]).await;
    provider.go_down();
    let app = app_for(&provider, Duration::ZERO).await;
    assert_eq!(
        code(&me(&app, sign(&key, &provider_claims("a@acme.test"))).await),
        "UNAUTHENTICATED"
    );
    provider.serve(&[&key]);
    assert!(me(&app, sign(&key, &provider_claims("a@acme.test")))
        .await
        .get("errors")
        .is_none());
}

#[tokio::test]
async fn wrong_issuer_wrong_audience_and_expired_tokens_are_refused() {
    let key = rsa_key("k");
    let provider = Provider::start(&[&key]).await;
    let app = app_for(&provider, Duration::from_secs(60)).await;
    let mut wrong_iss = provider_claims("a@acme.test");
    wrong_iss.iss = Some("https://evil.test/".into());
    let mut wrong_aud = provider_claims("a@acme.test");
    wrong_aud.aud = Some("someone-else".into());
    let mut no_aud = provider_claims("a@acme.test");
    no_aud.aud = None;
    let mut expired = provider_claims("a@acme.test");
    expired.exp = invitations::auth::expiry_in(Duration::ZERO) - 3600;
    for (what, c) in [
        ("issuer", wrong_iss),
        ("audience", wrong_aud),
        ("no audience", no_aud),
        ("expired", expired),
    ] {
        assert_eq!(
            code(&me(&app, sign(&key, &c)).await),
            "UNAUTHENTICATED",
            "{what}"
        );
    }
}

#[tokio::test]
async fn alg_none_and_hs256_signed_with_the_public_key_are_refused() {
    let key = rsa_key("k");
    let provider = Provider::start(&[&key]).await;
    let app = app_for(&provider, Duration::from_secs(60)).await;
    let c = provider_claims("a@acme.test");

    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "typ": "JWT", "kid": "k" }).to_string()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap()),
    );
    assert_eq!(code(&me(&app, none).await), "UNAUTHENTICATED", "alg none");

    // Algorithm confusion: HMAC keyed with the (public) RSA key.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k".into());
    let confused = encode(&header, &c, &EncodingKey::from_secret(&key.public_bytes)).unwrap();
    assert_eq!(
        code(&me(&app, confused).await),
        "UNAUTHENTICATED",
        "HS256 with the public key"
    );

    // An ES256 header on a kid whose key is RSA.
    let ec = ec_key("k");
    assert_eq!(
        code(&me(&app, sign(&ec, &c)).await),
        "UNAUTHENTICATED",
        "ES256 on an RSA kid"
    );
}
