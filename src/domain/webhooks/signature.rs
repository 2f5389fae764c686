//! Standard Webhooks signing (<https://www.standardwebhooks.com>): a
//! secret `whsec_<base64 of the key>`, and `webhook-signature: v1,<base64
//! HMAC-SHA256 of "id.timestamp.body">` keyed with the decoded key, so a
//! receiver verifies with any of the format's libraries.

use base64::{engine::general_purpose::STANDARD, Engine};
use ring::hmac;

const PREFIX: &str = "whsec_";

/// A webhook's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// 32 random bytes from the operating system.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Self(key))
    }

    /// From its text form (the `whsec_` prefix optional, as the format's
    /// libraries accept it); `None` if it is not base64.
    pub fn parse(text: &str) -> Option<Self> {
        let b64 = text.strip_prefix(PREFIX).unwrap_or(text);
        let key = STANDARD.decode(b64).ok()?;
        (!key.is_empty()).then_some(Self(key))
    }

    /// `whsec_` and the key in base64: shown once, and stored.
    pub fn to_text(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }
}

/// The `webhook-signature` header of one attempt: `timestamp` is the
/// attempt's `webhook-timestamp` (Unix seconds), `id` the delivery's
/// `webhook-id`.
pub fn sign(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.0);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_matches_the_standard_webhooks_test_vector() {
        // The vector the format's reference libraries test against.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_secret_is_whsec_and_base64_of_32_random_bytes() {
        let a = Secret::generate().unwrap();
        let text = a.to_text();
        assert!(text.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&text[6..]).unwrap().len(), 32);
        assert_eq!(Secret::parse(&text), Some(a.clone()));
        assert_ne!(Secret::generate().unwrap(), a);
    }

    #[test]
    fn a_secret_that_is_not_base64_does_not_parse() {
        assert_eq!(Secret::parse("whsec_***"), None);
        assert_eq!(Secret::parse("whsec_"), None);
    }

    #[test]
    fn a_secret_does_not_show_in_logs() {
        let s = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(format!("{s:?}"), "Secret(..)");
    }
}
