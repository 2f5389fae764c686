//! The HS256 signing secret: the configured one, or in development mode one
//! generated once and kept beside the SQLite database.

use std::path::{Path, PathBuf};

use super::MIN_SECRET_LEN;
use crate::config::Settings;

/// The signing secret and whether it is the development one.
pub struct SecretSource {
    pub secret: Vec<u8>,
    pub dev_mode: bool,
}

/// The configured secret, or in development mode one generated once and
/// kept beside the SQLite database (or in memory for an in-memory database).
pub fn secret_source(settings: &Settings) -> Result<SecretSource, String> {
    if settings.auth_jwks_url.is_some() {
        return Err(
            "tokens come from the OpenID provider (AUTH_JWKS_URL): there is no secret to sign with"
                .into(),
        );
    }
    if let Some(secret) = &settings.auth_jwt_secret {
        let bytes = secret.expose().as_bytes().to_vec();
        if bytes.len() < MIN_SECRET_LEN {
            return Err(format!(
                "AUTH_JWT_SECRET must be at least {MIN_SECRET_LEN} bytes"
            ));
        }
        return Ok(SecretSource {
            secret: bytes,
            dev_mode: false,
        });
    }
    let file = dev_secret_path(settings.database_url.expose());
    let secret = match &file {
        Some(path) => {
            load_or_create(path).map_err(|e| format!("dev secret {}: {e}", path.display()))?
        }
        None => random_secret(),
    };
    Ok(SecretSource {
        secret,
        dev_mode: true,
    })
}

/// `invitations.db` -> `invitations.db.jwt-secret`; for PostgreSQL, a file
/// in the working directory; none for an in-memory database.
fn dev_secret_path(database_url: &str) -> Option<PathBuf> {
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return Some(PathBuf::from("invitations.jwt-secret"));
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" || database_url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(format!("{path}.jwt-secret")))
}

fn load_or_create(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim().len() >= MIN_SECRET_LEN => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let secret = random_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, &secret)?;
    Ok(secret)
}

fn random_secret() -> Vec<u8> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_secret_lives_beside_the_sqlite_file() {
        assert_eq!(
            dev_secret_path("sqlite://data/inv.db?mode=rwc"),
            Some(PathBuf::from("data/inv.db.jwt-secret"))
        );
        assert_eq!(dev_secret_path("sqlite::memory:"), None);
    }
}
