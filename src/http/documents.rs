//! Persisted documents, resolved at the edge before anything else looks at
//! a request, so a document sent by hash is checked (the GET/mutation rule,
//! the shape and cost limits) exactly like one sent as text:
//!
//! - Apollo's automatic persisted queries: a request may carry
//!   `extensions.persistedQuery.sha256Hash`; with the document beside it,
//!   the document is checked against the hash and remembered (an LRU of
//!   `GRAPHQL_PERSISTED_QUERIES` documents); alone, the remembered document
//!   runs, or the answer is `PERSISTED_QUERY_NOT_FOUND` and the client
//!   sends the document.
//! - Trusted documents (`GRAPHQL_TRUSTED_DOCUMENTS`, the JSON map of
//!   SHA-256 to document that GraphQL Code Generator's client preset
//!   writes): only those run, sent by hash (Apollo's extension or the
//!   spec's `documentId: "sha256:<hex>"`) or as their exact text.

use lru::LruCache;
use std::{collections::HashMap, num::NonZeroUsize, path::Path, sync::Mutex};

/// Why a request's document could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    /// No document and no hash.
    NoDocument,
    /// A hash this server does not know (or, with trusted documents, a
    /// document it does not trust).
    NotFound,
    /// A document that is not what its hash says.
    WrongHash,
}

enum Mode {
    /// Documents come as text only.
    Off,
    Automatic(Mutex<LruCache<String, String>>),
    Trusted(HashMap<String, String>),
}

pub(crate) struct Documents(Mode);

impl Documents {
    /// Trusted documents from `trusted` when set; otherwise automatic
    /// persisted queries, `capacity` of them (0: off).
    pub(crate) fn new(trusted: Option<&Path>, capacity: usize) -> Result<Self, String> {
        if let Some(path) = trusted {
            return Ok(Self(Mode::Trusted(load_trusted(path)?)));
        }
        Ok(Self(match NonZeroUsize::new(capacity) {
            Some(n) => Mode::Automatic(Mutex::new(LruCache::new(n))),
            None => Mode::Off,
        }))
    }

    /// The document to run, given what the request carried.
    pub(crate) fn resolve(
        &self,
        query: Option<String>,
        hash: Option<&str>,
    ) -> Result<String, Missing> {
        let hash = hash.map(str::to_ascii_lowercase);
        match (&self.0, query, hash) {
            (_, None, None) => Err(Missing::NoDocument),
            (_, Some(q), Some(h)) if sha256_hex(&q) != h => Err(Missing::WrongHash),
            (Mode::Off, Some(q), _) => Ok(q),
            (Mode::Off, None, Some(_)) => Err(Missing::NotFound),
            (Mode::Automatic(cache), Some(q), Some(h)) => {
                lock(cache).put(h, q.clone());
                Ok(q)
            }
            (Mode::Automatic(_), Some(q), None) => Ok(q),
            (Mode::Automatic(cache), None, Some(h)) => {
                lock(cache).get(&h).cloned().ok_or(Missing::NotFound)
            }
            (Mode::Trusted(docs), Some(q), None) => {
                let trusted = docs.get(&sha256_hex(&q)).is_some_and(|d| *d == q);
                trusted.then_some(q).ok_or(Missing::NotFound)
            }
            (Mode::Trusted(docs), _, Some(h)) => docs.get(&h).cloned().ok_or(Missing::NotFound),
        }
    }
}

fn lock(
    cache: &Mutex<LruCache<String, String>>,
) -> std::sync::MutexGuard<'_, LruCache<String, String>> {
    cache.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The map a client preset writes; every key must be its document's
/// SHA-256, so a hash sent by a client means one document only.
fn load_trusted(path: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("GRAPHQL_TRUSTED_DOCUMENTS {}: {e}", path.display()))?;
    let docs: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
        format!(
            "GRAPHQL_TRUSTED_DOCUMENTS {}: not a JSON map of hash to document: {e}",
            path.display()
        )
    })?;
    let mut trusted = HashMap::with_capacity(docs.len());
    for (hash, doc) in docs {
        let hash = hash.trim_start_matches("sha256:").to_ascii_lowercase();
        if sha256_hex(&doc) != hash {
            return Err(format!(
                "GRAPHQL_TRUSTED_DOCUMENTS {}: {hash} is not the SHA-256 of its document \
                 (generate the file with persistedDocuments: {{ hashAlgorithm: 'sha256' }})",
                path.display()
            ));
        }
        trusted.insert(hash, doc);
    }
    Ok(trusted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = "{ me { email } }";

    fn automatic() -> Documents {
        Documents::new(None, 10).unwrap()
    }

    #[test]
    fn an_unknown_hash_is_not_found_until_its_document_is_sent() {
        let d = automatic();
        let h = sha256_hex(Q);
        assert_eq!(d.resolve(None, Some(&h)), Err(Missing::NotFound));
        assert_eq!(d.resolve(Some(Q.into()), Some(&h)).as_deref(), Ok(Q));
        assert_eq!(d.resolve(None, Some(&h)).as_deref(), Ok(Q));
    }

    #[test]
    fn a_document_with_another_hash_is_refused_and_registers_nothing() {
        let d = automatic();
        let wrong = sha256_hex("{ __typename }");
        assert_eq!(
            d.resolve(Some(Q.into()), Some(&wrong)),
            Err(Missing::WrongHash)
        );
        assert_eq!(d.resolve(None, Some(&wrong)), Err(Missing::NotFound));
    }

    #[test]
    fn no_document_and_no_hash_is_no_document() {
        assert_eq!(automatic().resolve(None, None), Err(Missing::NoDocument));
    }

    #[test]
    fn trusted_documents_run_by_hash_or_exact_text_and_nothing_else() {
        let path = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, serde_json::json!({ sha256_hex(Q): Q }).to_string()).unwrap();
        let d = Documents::new(Some(&path), 0).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(d.resolve(None, Some(&sha256_hex(Q))).as_deref(), Ok(Q));
        assert_eq!(d.resolve(Some(Q.into()), None).as_deref(), Ok(Q));
        let other = "{ __typename }";
        assert_eq!(d.resolve(Some(other.into()), None), Err(Missing::NotFound));
        assert_eq!(
            d.resolve(Some(other.into()), Some(&sha256_hex(other))),
            Err(Missing::NotFound),
            "no registering beside the trusted set"
        );
    }

    #[test]
    fn a_trusted_file_with_a_wrong_hash_is_refused_at_start() {
        let path = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, serde_json::json!({ "abc": Q }).to_string()).unwrap();
        assert!(Documents::new(Some(&path), 0).is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
