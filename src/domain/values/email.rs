//! Email addresses. One normaliser for every address the server compares
//! (from tokens and from invitations): trimmed, lower-cased, the domain in
//! ASCII (IDN) form. An invitation address must also be valid: a dot-atom
//! local part of at most 64 characters, `@`, a host name, at most 254
//! characters in all.

use super::domain_name::DomainName;
use crate::error::{Error, Reason, Result};

/// The normal form of any address, valid or not, so that a token's email
/// and an invitation's compare equal.
pub fn normalise(raw: &str) -> String {
    let lower = raw.trim().to_lowercase();
    match lower.rsplit_once('@') {
        Some((local, domain)) => match DomainName::normalise(domain) {
            Some(ascii) => format!("{local}@{ascii}"),
            None => lower,
        },
        None => lower,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    address: String,
    at: usize,
}

pub const MAX_LEN: usize = 254;
pub const MAX_LOCAL_LEN: usize = 64;

impl EmailAddress {
    /// An address for an invitation: normalised, then checked.
    pub fn parse(raw: &str) -> Result<Self> {
        Self::valid(raw).ok_or_else(|| {
            Error::bad_input(
                Reason::InvalidEmail,
                "Not a valid email address (name@example.com, at most 254 characters)",
            )
        })
    }

    fn valid(raw: &str) -> Option<Self> {
        let (raw_local, _) = raw.trim().rsplit_once('@')?;
        // ASCII before lower-casing: Unicode case folding would turn some
        // characters (the Kelvin sign, say) into ASCII letters.
        if raw.trim().len() > 4 * MAX_LEN || !raw_local.is_ascii() {
            return None;
        }
        let address = normalise(raw);
        let (local, domain) = address.rsplit_once('@')?;
        let valid = is_dot_atom(local)
            && local.len() <= MAX_LOCAL_LEN
            && DomainName::normalise(domain).as_deref() == Some(domain)
            && address.len() <= MAX_LEN;
        valid.then(|| Self {
            at: local.len(),
            address: address.clone(),
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
    fn tokens_and_invitations_share_one_normal_form() {
        for raw in ["  Ada.Lovelace@ACME.test ", "ada@Bücher.example"] {
            assert_eq!(normalise(raw), ok(raw));
        }
        // An address no invitation could have is still normalised alike.
        assert_eq!(
            normalise(" \"Odd One\"@Bücher.Example"),
            "\"odd one\"@xn--bcher-kva.example"
        );
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
            "\u{212A}@x.com",
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
