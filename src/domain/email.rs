//! Invitation addresses: a dot-atom local part, `@`, a host name; trimmed,
//! lower-cased, the domain in ASCII (IDN) form, at most 254 characters.

use super::domain_name::DomainName;
use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    address: String,
    at: usize,
}

pub const MAX_LEN: usize = 254;
pub const MAX_LOCAL_LEN: usize = 64;

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self> {
        Self::normalise(raw).ok_or_else(|| {
            Error::bad_input(
                Reason::InvalidEmail,
                "email",
                "Not a valid email address (name@example.com, at most 254 characters)",
            )
        })
    }

    fn normalise(raw: &str) -> Option<Self> {
        let trimmed = raw.trim();
        if trimmed.len() > 4 * MAX_LEN {
            return None;
        }
        let (local, domain) = trimmed.rsplit_once('@')?;
        let local = local.to_ascii_lowercase();
        if !is_dot_atom(&local) || local.len() > MAX_LOCAL_LEN {
            return None;
        }
        let domain = DomainName::normalise(domain)?;
        let address = format!("{local}@{domain}");
        (address.len() <= MAX_LEN).then_some(Self {
            at: local.len(),
            address,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The ASCII domain, as workspaces store theirs.
    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }

    pub fn into_string(self) -> String {
        self.address
    }
}

/// RFC 5322 dot-atom: atext runs joined by single dots. No quoted strings,
/// no comments, ASCII only.
fn is_dot_atom(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> String {
        EmailAddress::parse(s).unwrap().into_string()
    }

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(ok("  Ada.Lovelace@ACME.test "), "ada.lovelace@acme.test");
    }

    #[test]
    fn idn_domain_is_stored_in_ascii_so_both_spellings_are_one_address() {
        assert_eq!(ok("ada@bücher.example"), ok("ada@xn--bcher-kva.example"));
        assert_eq!(
            EmailAddress::parse("ada@Bücher.example").unwrap().domain(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn plus_tags_are_part_of_the_address() {
        assert_ne!(ok("a+tag@x.com"), ok("a@x.com"));
    }

    #[test]
    fn quoted_local_parts_and_comments_are_refused() {
        for bad in [r#""a b"@x.com"#, "a(comment)@x.com", r#""a"@x.com"#] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "@",
            "a@",
            "@x.com",
            "a@@x.com",
            "a..b@x.com",
            ".a@x.com",
            "a.@x.com",
            "a@x",
            "a@1.2.3.4",
            "a b@x.com",
            "ä@x.com",
            "a@x..com",
            "a@-x.com",
            "a\n@x.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn local_part_is_at_most_64_characters() {
        assert!(EmailAddress::parse(&format!("{}@x.com", "a".repeat(64))).is_ok());
        assert!(EmailAddress::parse(&format!("{}@x.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn address_is_at_most_254_characters() {
        let domain = format!(
            "{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(57)
        );
        let fits = format!("{}@{domain}", "a".repeat(254 - 1 - domain.len()));
        assert_eq!(fits.len(), 254);
        assert!(EmailAddress::parse(&fits).is_ok());
        assert!(EmailAddress::parse(&format!("a{fits}")).is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_output_is_normal(s in "\\PC{0,300}") {
            if let Ok(e) = EmailAddress::parse(&s) {
                prop_assert!(e.as_str().len() <= MAX_LEN);
                prop_assert_eq!(e.as_str(), e.as_str().to_ascii_lowercase());
                prop_assert!(e.as_str().is_ascii());
                prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e.clone());
            }
        }

        #[test]
        fn case_and_surrounding_whitespace_do_not_matter(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,20}\\.[a-z]{2,6}") {
            let plain = EmailAddress::parse(&format!("{local}@{domain}")).unwrap();
            let shouted = EmailAddress::parse(&format!("  {}@{} ", local.to_uppercase(), domain.to_uppercase())).unwrap();
            prop_assert_eq!(plain, shouted);
        }

        #[test]
        fn a_subdomain_is_a_different_domain(local in "[a-z]{1,10}", sub in "[a-z]{1,10}", domain in "[a-z]{1,10}\\.com") {
            let e = EmailAddress::parse(&format!("{local}@{sub}.{domain}")).unwrap();
            prop_assert_ne!(e.domain(), domain.as_str());
        }
    }
}
