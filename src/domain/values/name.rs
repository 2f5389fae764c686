//! Display names of workspaces and people: 1 to 100 characters after
//! trimming, without control characters.

use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self> {
        let name = raw.trim();
        let len = name.chars().count();
        if len == 0 || len > Self::MAX_CHARS || name.chars().any(char::is_control) {
            return Err(Error::bad_input(
                Reason::InvalidName,
                "The name must be 1 to 100 characters, without control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_trimmed() {
        assert_eq!(Name::parse("  Acme  ").unwrap().as_str(), "Acme");
    }

    #[test]
    fn name_must_not_be_blank() {
        assert!(Name::parse("   ").is_err());
    }

    #[test]
    fn name_is_at_most_100_characters() {
        assert!(Name::parse(&"é".repeat(100)).is_ok());
        assert!(Name::parse(&"é".repeat(101)).is_err());
    }

    #[test]
    fn name_has_no_control_characters() {
        assert!(Name::parse("a\nb").is_err());
    }
}
