//! Optional free-text workspace settings (URLs, an image reference):
//! trimmed, blank means none, at most 2048 characters, no control
//! characters.

use crate::error::{Error, Reason, Result};

pub const MAX_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting(String);

impl Setting {
    /// `None` for a blank value.
    pub fn parse(raw: &str) -> Result<Option<Self>> {
        let value = raw.trim();
        if value.is_empty() {
            return Ok(None);
        }
        if value.len() > MAX_LEN || value.chars().any(char::is_control) {
            return Err(Error::bad_input(
                Reason::InvalidValue,
                "At most 2048 characters, without control characters",
            ));
        }
        Ok(Some(Self(value.to_owned())))
    }

    /// An optional argument: absent or blank is none.
    pub fn parse_opt(raw: Option<&str>) -> Result<Option<Self>> {
        Ok(raw.map(Self::parse).transpose()?.flatten())
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_trimmed_and_blank_means_none() {
        assert_eq!(Setting::parse("  ").unwrap(), None);
        assert_eq!(
            Setting::parse(" https://x.test/a.png ").unwrap(),
            Some(Setting("https://x.test/a.png".into()))
        );
        assert!(Setting::parse(&"x".repeat(2049)).is_err());
        assert!(Setting::parse("a\u{7}b").is_err());
    }
}
