//! Phone numbers as people write them: digits, spaces and `+-().`, at most
//! 32 characters; blank means none.

use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// `None` for a blank value (which clears the number).
    pub fn parse(raw: &str) -> Result<Option<Self>> {
        let phone = raw.trim();
        if phone.is_empty() {
            return Ok(None);
        }
        let ok = phone.len() <= 32
            && phone.chars().any(|c| c.is_ascii_digit())
            && phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !ok {
            return Err(Error::bad_input(
                Reason::InvalidPhone,
                "The phone number may hold digits, spaces and +-(). only, at most 32 characters",
            ));
        }
        Ok(Some(Self(phone.to_owned())))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_accepts_what_people_write_and_blank_clears() {
        assert_eq!(
            Phone::parse(" +1 (555) 010-0000 ").unwrap(),
            Some(Phone("+1 (555) 010-0000".into()))
        );
        assert_eq!(Phone::parse("  ").unwrap(), None);
        assert!(Phone::parse("call me").is_err());
    }
}
