//! An OpenID provider's key set (JWKS): fetched over HTTPS and cached by
//! `kid`. A key set older than `max_age` is refreshed in the background
//! while the cached keys keep verifying tokens; an unknown `kid` fetches
//! the set at once, at most once per `min_refresh`. A failed fetch never
//! lets a token through (a `kid` not in the cache is refused), and keeps
//! the keys there were.

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse},
    Algorithm, DecodingKey,
};
use std::{
    collections::HashMap,
    sync::Arc,
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

struct Inner {
    url: String,
    client: reqwest::Client,
    min_refresh: Duration,
    max_age: Duration,
    cache: RwLock<Cache>,
    /// Serialises fetches and remembers when the last one was tried.
    last_try: Mutex<Option<Instant>>,
}

#[derive(Clone)]
pub struct KeySet(Arc<Inner>);

impl KeySet {
    /// Only `https://` URLs, except on a loopback host (a local provider or
    /// a test).
    pub fn new(url: &str, min_refresh: Duration, max_age: Duration) -> Result<Self, String> {
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
        Ok(Self(Arc::new(Inner {
            url: url.to_owned(),
            client,
            min_refresh,
            max_age,
            cache: RwLock::new(Cache::default()),
            last_try: Mutex::new(None),
        })))
    }

    /// The key for `kid`: from the cache (refreshing an old set in the
    /// background), or, for a `kid` not seen yet (a rotation), after
    /// fetching the set again within the refresh limit.
    pub async fn key(&self, kid: &str) -> Option<Key> {
        {
            let cache = self.0.cache.read().await;
            if let Some(key) = cache.keys.get(kid) {
                let stale = cache
                    .fetched_at
                    .is_none_or(|t| t.elapsed() >= self.0.max_age);
                if stale {
                    let set = self.clone();
                    tokio::spawn(async move { set.refresh().await });
                }
                return Some(key.clone());
            }
        }
        self.refresh().await;
        self.0.cache.read().await.keys.get(kid).cloned()
    }

    async fn refresh(&self) {
        let inner = &self.0;
        let Ok(mut last_try) = inner.last_try.try_lock() else {
            // A fetch is under way: wait for it rather than start another.
            let _ = inner.last_try.lock().await;
            return;
        };
        if last_try.is_some_and(|t| t.elapsed() < inner.min_refresh) {
            return;
        }
        *last_try = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %inner.url, keys = keys.len(), "fetched the OpenID key set");
                *inner.cache.write().await = Cache {
                    keys,
                    fetched_at: Some(Instant::now()),
                };
            }
            // Keep what we had: a provider outage should not log everyone out.
            Err(e) => {
                tracing::warn!(url = %inner.url, error = %e, "could not fetch the OpenID key set")
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Key>, String> {
        let set: JwkSet = self
            .0
            .client
            .get(&self.0.url)
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

/// RS256 for RSA keys, ES256 for P-256 keys; anything else is skipped, and
/// so are keys for encryption and keys that name another algorithm.
fn usable(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
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
