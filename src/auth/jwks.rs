//! An OpenID provider's key set (JWKS): fetched over HTTPS, cached by `kid`,
//! fetched again for an unknown `kid` at most once per `min_refresh`, and
//! after `max_age`. A failed fetch never lets a token through: a `kid` that
//! is not in the cache is refused.

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet},
    Algorithm, DecodingKey,
};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};
use tokio::sync::{Mutex, RwLock};

/// One usable key: what it verifies and with which algorithm.
#[derive(Clone)]
pub struct Key {
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Key>,
    fetched_at: Option<Instant>,
}

pub struct KeySet {
    url: String,
    client: reqwest::Client,
    min_refresh: Duration,
    max_age: Duration,
    cache: RwLock<Cache>,
    /// Serialises fetches and remembers when the last one was tried.
    last_try: Mutex<Option<Instant>>,
}

impl KeySet {
    /// Only `https://` URLs, except on a loopback host (a local provider or
    /// a test).
    pub fn new(url: &str, min_refresh: Duration) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|_| "AUTH_JWKS_URL is not a URL".to_owned())?;
        let loopback = matches!(
            parsed.host_str(),
            Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
        );
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err("AUTH_JWKS_URL must be https:// (http:// only on localhost)".into());
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            url: url.to_owned(),
            client,
            min_refresh,
            max_age: Duration::from_secs(3600),
            cache: RwLock::new(Cache::default()),
            last_try: Mutex::new(None),
        })
    }

    /// The key for `kid`, fetching the set again when the `kid` is unknown
    /// (a rotation) or the cache is old, within the refresh limit.
    pub async fn key(&self, kid: &str) -> Option<Key> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched_at.is_some_and(|t| t.elapsed() < self.max_age);
            if let (Some(key), true) = (cache.keys.get(kid), fresh) {
                return Some(key.clone());
            }
        }
        self.refresh().await;
        self.cache.read().await.keys.get(kid).cloned()
    }

    async fn refresh(&self) {
        let mut last_try = self.last_try.lock().await;
        if last_try.is_some_and(|t| t.elapsed() < self.min_refresh) {
            return;
        }
        *last_try = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched the OpenID key set");
                *self.cache.write().await = Cache {
                    keys,
                    fetched_at: Some(Instant::now()),
                };
            }
            // Keep what we had: a provider outage should not log everyone out.
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "could not fetch the OpenID key set")
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Key>, String> {
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| format!("not a JWKS document: {e}"))?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, usable(jwk)?)))
            .collect())
    }
}

/// RS256 for RSA keys, ES256 for P-256 keys; anything else is skipped. A
/// key that names another algorithm is skipped too.
fn usable(jwk: &Jwk) -> Option<Key> {
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    if let Some(named) = jwk.common.key_algorithm {
        if format!("{named:?}") != format!("{algorithm:?}") {
            return None;
        }
    }
    Some(Key {
        algorithm,
        decoding: DecodingKey::from_jwk(jwk).ok()?,
    })
}
