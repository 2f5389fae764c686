//! A webhook's address, and which IP addresses a webhook may reach.
//!
//! The SPEC's rule: `https://`, no user info, a host resolving to a public
//! address; with `WEBHOOK_ALLOW_PRIVATE=true` (development, tests) `http`
//! and private addresses too. Parsing checks what the text says (scheme,
//! user info, an IP literal); the resolved addresses are checked with
//! [`is_public`] where the name is looked up, at creation and again at
//! each delivery, since DNS can change between the two.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Reason, Result};

/// Where webhooks may point (`WEBHOOK_ALLOW_PRIVATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// `https` to public addresses only: the default.
    PublicOnly,
    /// Any address, `http` too.
    Anywhere,
}

impl Reach {
    pub fn from_allow_private(allow: bool) -> Self {
        if allow {
            Reach::Anywhere
        } else {
            Reach::PublicOnly
        }
    }

    /// Whether a webhook may be delivered to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        self == Reach::Anywhere || is_public(ip)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

/// Long enough for any real endpoint, short enough to store and log.
const MAX_LEN: usize = 2000;

impl WebhookUrl {
    pub fn parse(raw: &str, reach: Reach) -> Result<Self> {
        let refuse = |why: &str| {
            Error::bad_input(
                Reason::InvalidUrl,
                format!("A webhook URL must be https:// to a public address: {why}"),
            )
        };
        if raw.len() > MAX_LEN {
            return Err(refuse("it is too long"));
        }
        let url = url::Url::parse(raw.trim()).map_err(|_| refuse("it is not a URL"))?;
        match (url.scheme(), reach) {
            ("https", _) | ("http", Reach::Anywhere) => {}
            _ => return Err(refuse("the scheme is not https")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it carries user info"));
        }
        match url.host() {
            None => return Err(refuse("it has no host")),
            Some(url::Host::Ipv4(ip)) if !reach.allows(IpAddr::V4(ip)) => {
                return Err(refuse("the address is not public"))
            }
            Some(url::Host::Ipv6(ip)) if !reach.allows(IpAddr::V6(ip)) => {
                return Err(refuse("the address is not public"))
            }
            Some(url::Host::Domain(name)) if reach == Reach::PublicOnly && is_local_name(name) => {
                return Err(refuse("the host is local"))
            }
            Some(_) => {}
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host name or address literal, as DNS would be asked.
    pub fn host(&self) -> Option<String> {
        self.0
            .host_str()
            .map(|h| h.trim_matches(['[', ']']).to_owned())
    }

    pub fn port(&self) -> Option<u16> {
        self.0.port_or_known_default()
    }
}

/// Names that never resolve to a public address (RFC 6761).
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name == "localhost" || name.ends_with(".localhost")
}

/// A globally routable unicast address: not loopback, private, link-local
/// (cloud metadata lives at 169.254.169.254), shared, documentation,
/// multicast or reserved, nor an IPv6 form that embeds such an IPv4
/// address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || ip.is_multicast()
        || a >= 240; // reserved, and broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address
    // they embed.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(v4_of(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(v4_of(s[1], s[2]));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000; // 2000::/3
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8;
    let teredo = s[0] == 0x2001 && s[1] == 0;
    global_unicast && !documentation && !teredo
}

/// The IPv4 address two IPv6 segments carry.
fn v4_of(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public_only(raw: &str) -> Result<WebhookUrl> {
        WebhookUrl::parse(raw, Reach::PublicOnly)
    }

    fn refused_as_invalid_url(r: Result<WebhookUrl>) -> bool {
        matches!(
            r,
            Err(Error::BadUserInput {
                reason: Reason::InvalidUrl,
                ..
            })
        )
    }

    #[test]
    fn an_https_url_to_a_public_host_is_a_webhook_url() {
        let url = public_only("https://hooks.example.com/in?x=1").unwrap();
        assert_eq!(url.as_str(), "https://hooks.example.com/in?x=1");
        assert_eq!(url.host().as_deref(), Some("hooks.example.com"));
        assert_eq!(url.port(), Some(443));
    }

    #[test]
    fn http_is_refused_unless_private_addresses_are_allowed() {
        assert!(refused_as_invalid_url(public_only(
            "http://hooks.example.com/"
        )));
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/", Reach::Anywhere).is_ok());
    }

    #[test]
    fn user_info_is_refused() {
        assert!(refused_as_invalid_url(public_only(
            "https://u:p@example.com/"
        )));
        assert!(refused_as_invalid_url(public_only(
            "https://u@example.com/"
        )));
    }

    #[test]
    fn not_a_url_or_another_scheme_is_refused() {
        for raw in ["", "example.com/hook", "ftp://example.com/", "https://"] {
            assert!(refused_as_invalid_url(public_only(raw)), "{raw}");
        }
    }

    #[test]
    fn loopback_private_and_link_local_literals_are_refused() {
        for raw in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://0.0.0.0/",
            "https://localhost/",
            "https://api.localhost/",
        ] {
            assert!(refused_as_invalid_url(public_only(raw)), "{raw}");
        }
    }

    #[test]
    fn public_addresses_are_public_and_embedded_private_ones_are_not() {
        for ip in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "2002:5db8:d822::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "100.64.0.1",
            "169.254.169.254",
            "192.0.2.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2001:db8::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn anywhere_allows_every_address() {
        assert!(Reach::Anywhere.allows("127.0.0.1".parse().unwrap()));
        assert!(!Reach::PublicOnly.allows("127.0.0.1".parse().unwrap()));
    }
}
