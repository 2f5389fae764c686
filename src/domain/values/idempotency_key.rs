//! A client's idempotency key: 1 to 255 printable ASCII characters.

use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self> {
        let ok = (1..=255).contains(&raw.len()) && raw.bytes().all(|b| (0x20..0x7f).contains(&b));
        if !ok {
            return Err(Error::bad_input(
                Reason::InvalidIdempotencyKey,
                "An idempotency key is 1 to 255 printable ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_1_to_255_printable_ascii_characters() {
        assert!(IdempotencyKey::parse("retry-7f3a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in [
            String::new(),
            "k".repeat(256),
            "tab\there".into(),
            "é".into(),
        ] {
            assert!(IdempotencyKey::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
