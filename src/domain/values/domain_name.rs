//! Email domains of a workspace: host names in ASCII (IDN-encoded), lower
//! case, without a trailing dot, with at least one dot, never an IP address.

use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(raw: &str) -> Result<Self> {
        Self::normalise(raw).map(Self).ok_or_else(|| {
            Error::bad_input(
                Reason::InvalidDomain,
                format!("{:?} is not a host name such as example.com", truncate(raw)),
            )
        })
    }

    /// Parses and deduplicates a list, keeping the first occurrence's order.
    pub fn parse_list(raw: &[String]) -> Result<Vec<Self>> {
        let mut out: Vec<Self> = Vec::with_capacity(raw.len());
        for r in raw {
            let d = Self::parse(r)?;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// The ASCII form of a host name, or `None` when it is not one. Shared
    /// with email parsing so both agree on what a domain is.
    pub fn normalise(raw: &str) -> Option<String> {
        let trimmed = raw.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if trimmed.is_empty() || trimmed.len() > 1000 {
            return None;
        }
        let ascii = idna::domain_to_ascii_strict(trimmed).ok()?;
        let valid = ascii.len() <= 253
            && ascii.contains('.')
            && ascii.split('.').all(is_label)
            && !is_ip_like(&ascii);
        valid.then_some(ascii)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An all-numeric top label means an IPv4 address or something parsed as
/// one (as browsers do); no real top-level domain is numeric.
fn is_ip_like(ascii: &str) -> bool {
    let top = ascii.rsplit('.').next().unwrap_or("");
    top.bytes().all(|b| b.is_ascii_digit())
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        DomainName::parse(s).unwrap().into_string()
    }

    #[test]
    fn domain_is_trimmed_lower_cased_and_loses_its_trailing_dot() {
        assert_eq!(ok("  Example.COM. "), "example.com");
    }

    #[test]
    fn domain_is_idn_encoded_to_ascii() {
        assert_eq!(ok("Bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("xn--bcher-kva.example"), "xn--bcher-kva.example");
    }

    #[test]
    fn domain_needs_a_dot() {
        assert!(DomainName::parse("localhost").is_err());
    }

    #[test]
    fn domain_is_not_an_ip_address() {
        for ip in ["127.0.0.1", "10.0.0.1.", "[::1]", "::1", "1.2.3.4"] {
            assert!(DomainName::parse(ip).is_err(), "{ip}");
        }
    }

    #[test]
    fn domain_refuses_what_is_not_a_host_name() {
        for bad in [
            "",
            ".",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "a b.com",
            "a@b.com",
            "http://a.com",
        ] {
            assert!(DomainName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(DomainName::parse(&format!("{}.com", "a".repeat(64))).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(s in "\\PC{0,300}") {
            if let Ok(d) = DomainName::parse(&s) {
                proptest::prop_assert!(d.as_str().is_ascii() && d.as_str().len() <= 253);
                proptest::prop_assert_eq!(DomainName::parse(d.as_str()).unwrap(), d.clone());
            }
        }

        #[test]
        fn case_whitespace_and_a_trailing_dot_do_not_matter(a in "[a-z]{1,20}", b in "[a-z]{2,6}") {
            let plain = DomainName::parse(&format!("{a}.{b}")).unwrap();
            let noisy = DomainName::parse(&format!("  {}.{}. ", a.to_uppercase(), b)).unwrap();
            proptest::prop_assert_eq!(plain, noisy);
        }
    }

    #[test]
    fn domains_are_deduplicated() {
        let list =
            DomainName::parse_list(&["a.com".into(), "A.com.".into(), "b.com".into()]).unwrap();
        let list: Vec<_> = list.iter().map(DomainName::as_str).collect();
        assert_eq!(list, ["a.com", "b.com"]);
    }
}
