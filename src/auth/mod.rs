//! Bearer tokens -> [`Identity`]: HS256 with a shared secret, or RS256/ES256
//! with an OpenID provider's key set ([`jwks`]).

pub mod jwks;
mod secret;

pub use secret::{secret_source, SecretSource};

use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Settings;
use crate::domain::{caller::Identity, values::email};

pub const MIN_SECRET_LEN: usize = 32;

/// The claims we read. `sub`, `email` and `exp` are required.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// A string or, as Auth0 and Keycloak often send, an array of them;
    /// the validation checks it, we never read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
}

/// The verifier the settings ask for: a key set with `AUTH_JWKS_URL`, the
/// configured secret, or the development secret; and whether that is
/// development mode.
pub fn verifier_from(settings: &Settings) -> Result<(Verifier, bool), String> {
    let rules = Rules {
        issuer: settings.auth_issuer.clone(),
        audience: settings.auth_audience.clone(),
        leeway_secs: settings.auth_clock_skew.as_secs(),
    };
    if let Some(url) = &settings.auth_jwks_url {
        if settings.auth_jwt_secret.is_some() {
            return Err("set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both".into());
        }
        let keys = jwks::KeySet::new(
            url,
            settings.auth_jwks_min_refresh,
            settings.auth_jwks_max_age,
        )?;
        return Ok((Verifier::jwks(keys, rules), false));
    }
    let source = secret_source(settings)?;
    Ok((Verifier::hs256(&source.secret, rules), source.dev_mode))
}

/// Why a token was refused; the message is safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError(pub String);

enum Keys {
    Hs256(DecodingKey),
    Jwks(jwks::KeySet),
}

/// What every token must satisfy besides its signature.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// Tolerance for clock differences on `exp` (and `nbf`), in seconds.
    pub leeway_secs: u64,
}

pub struct Verifier {
    keys: Keys,
    rules: Rules,
}

impl Verifier {
    pub fn hs256(secret: &[u8], rules: Rules) -> Self {
        Self {
            keys: Keys::Hs256(DecodingKey::from_secret(secret)),
            rules,
        }
    }

    pub fn jwks(keys: jwks::KeySet, rules: Rules) -> Self {
        Self {
            keys: Keys::Jwks(keys),
            rules,
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.rules.leeway_secs;
        // A configured issuer or audience must also be present in the token.
        let mut required = vec!["exp", "sub"];
        if let Some(iss) = &self.rules.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        match &self.rules.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// Verifies a compact JWT. Only the configured algorithms are accepted
    /// (HS256 with a secret; RS256 or ES256, as the key says, with a key
    /// set), so `alg: none` and algorithm confusion are refused.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        Ok(self.verify_session(token).await?.0)
    }

    /// As [`Verifier::verify`], with the moment the token stops being
    /// accepted (`exp` plus the clock-skew allowance): a WebSocket that
    /// outlives it is closed.
    pub async fn verify_session(&self, token: &str) -> Result<(Identity, SystemTime), AuthError> {
        let invalid = |e: &dyn std::fmt::Display| AuthError(format!("Invalid token: {e}"));
        let header = decode_header(token).map_err(|e| invalid(&e))?;
        let (key, algorithm) = match &self.keys {
            Keys::Hs256(key) => (key.clone(), Algorithm::HS256),
            Keys::Jwks(set) => {
                let kid = header.kid.as_deref().ok_or_else(|| invalid(&"no `kid`"))?;
                let key = set
                    .key(kid)
                    .await
                    .ok_or_else(|| invalid(&"unknown `kid`"))?;
                (key.decoding, key.algorithm)
            }
        };
        if header.alg != algorithm {
            return Err(invalid(&format!("{:?} is not accepted here", header.alg)));
        }
        let data =
            decode::<Claims>(token, &key, &self.validation(algorithm)).map_err(|e| invalid(&e))?;
        let claims = data.claims;
        let email = email::normalise(&claims.email);
        if claims.sub.trim().is_empty() || !email.contains('@') {
            return Err(AuthError(
                "Invalid token: `sub` and `email` are required".into(),
            ));
        }
        let until =
            UNIX_EPOCH + Duration::from_secs(claims.exp.saturating_add(self.rules.leeway_secs));
        let identity = Identity {
            subject: claims.sub,
            email,
            name: claims.name,
            email_verified: claims.email_verified.unwrap_or(true),
        };
        Ok((identity, until))
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
pub fn bearer(header: &str) -> Result<&str, AuthError> {
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| AuthError("Authorization must be `Bearer <token>`".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError("Authorization must be `Bearer <token>`".into()));
    }
    Ok(token.trim())
}

/// Signs an HS256 token (the `token` command and tests).
pub fn mint(secret: &[u8], claims: &Claims) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing with an in-memory key cannot fail")
}

pub fn expiry_in(ttl: Duration) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (now + ttl).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "auth0|1".into(),
            email: "Ada@Example.com".into(),
            name: None,
            email_verified: None,
            exp,
            iss: None,
            aud: None,
        }
    }

    #[tokio::test]
    async fn valid_token_gives_identity_with_lower_cased_email() {
        let v = Verifier::hs256(SECRET, Rules::default());
        let id = v
            .verify(&mint(SECRET, &claims(expiry_in(Duration::from_secs(60)))))
            .await
            .unwrap();
        assert_eq!(id.email, "ada@example.com");
        assert!(
            id.email_verified,
            "a token without email_verified counts as verified"
        );
    }

    #[tokio::test]
    async fn expired_token_is_refused() {
        let v = Verifier::hs256(SECRET, Rules::default());
        assert!(v.verify(&mint(SECRET, &claims(1000))).await.is_err());
    }

    #[tokio::test]
    async fn token_signed_with_another_secret_is_refused() {
        let v = Verifier::hs256(SECRET, Rules::default());
        let other = mint(
            b"another-secret-another-secret-xx",
            &claims(expiry_in(Duration::from_secs(60))),
        );
        assert!(v.verify(&other).await.is_err());
    }

    #[tokio::test]
    async fn alg_none_is_refused() {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims(expiry_in(Duration::from_secs(60)))).unwrap());
        let v = Verifier::hs256(SECRET, Rules::default());
        assert!(v.verify(&format!("{header}.{body}.")).await.is_err());
    }

    #[tokio::test]
    async fn issuer_and_audience_are_checked_when_configured() {
        let v = Verifier::hs256(
            SECRET,
            Rules {
                issuer: Some("https://id.test/".into()),
                audience: Some("invitations".into()),
                leeway_secs: 0,
            },
        );
        let mut c = claims(expiry_in(Duration::from_secs(60)));
        assert!(v.verify(&mint(SECRET, &c)).await.is_err());
        c.iss = Some("https://id.test/".into());
        c.aud = Some("invitations".into());
        assert!(v.verify(&mint(SECRET, &c)).await.is_ok());
    }

    #[test]
    fn bearer_scheme_is_required() {
        assert_eq!(bearer("Bearer abc").unwrap(), "abc");
        assert!(bearer("Basic abc").is_err());
        assert!(bearer("abc").is_err());
    }
}
