//! Workspace aliases: `^[a-z][a-z0-9_]{0,62}$`, unique.

use super::slug;
use crate::error::{Error, Reason, Result};

pub const MAX_LEN: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias(String);

impl Alias {
    /// A client-given alias, taken as it is (no case folding: an alias with
    /// capitals is refused rather than silently changed).
    pub fn parse(raw: &str) -> Result<Self> {
        let ok = raw.len() <= MAX_LEN
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(Error::bad_input(
                Reason::InvalidAlias,
                "The alias must match ^[a-z][a-z0-9_]{0,62}$",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The base for an alias generated from a workspace name.
    pub fn base_from_name(name: &str) -> String {
        let s = slug::slugify(name);
        let s = if s.starts_with(|c: char| c.is_ascii_lowercase()) {
            s
        } else if s.is_empty() {
            "workspace".to_owned()
        } else {
            format!("w_{s}")
        };
        s[..s.len().min(MAX_LEN)].trim_end_matches('_').to_owned()
    }

    /// The `n`-th generated candidate (1 is the base itself).
    pub fn candidate(base: &str, n: u32) -> Self {
        Self(slug::numbered(base, n, MAX_LEN))
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
    fn alias_matches_the_pattern() {
        assert!(Alias::parse("acme").is_ok());
        assert!(Alias::parse("a").is_ok());
        assert!(Alias::parse("acme_2026").is_ok());
        assert!(Alias::parse(&format!("a{}", "b".repeat(62))).is_ok());
    }

    #[test]
    fn alias_is_refused_when_it_breaks_the_pattern() {
        for bad in [
            "",
            "Acme",
            "1acme",
            "_acme",
            "ac-me",
            "acmé",
            &"a".repeat(64),
        ] {
            assert!(Alias::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_accepts_exactly_the_pattern(s in "\\PC{0,80}") {
            let pattern_holds = s.len() <= 63
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            proptest::prop_assert_eq!(Alias::parse(&s).is_ok(), pattern_holds);
        }

        #[test]
        fn any_name_gives_a_valid_alias(name in "\\PC{0,200}", n in 1u32..100_000) {
            let alias = Alias::candidate(&Alias::base_from_name(&name), n);
            proptest::prop_assert!(Alias::parse(alias.as_str()).is_ok(), "{:?}", alias);
        }
    }

    #[test]
    fn generated_alias_always_matches_the_pattern() {
        for name in ["Acme Corp", "42 things", "日本", "___", &"x".repeat(200)] {
            for n in [1, 2, 99] {
                let a = Alias::candidate(&Alias::base_from_name(name), n);
                assert!(Alias::parse(a.as_str()).is_ok(), "{name:?} -> {a:?}");
            }
        }
    }
}
