//! The DNS resolver webhook requests connect through. It refuses a name
//! any of whose addresses a webhook may not reach, so the address checked
//! is the address connected to: a name that pointed at a public address
//! when the webhook was made and at 127.0.0.1 now is refused now (DNS
//! rebinding). Address literals never reach a resolver: `WebhookUrl::parse`
//! checks those.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;

use crate::domain::values::webhook_url::Reach;

/// A name resolved to an address a webhook may not reach.
#[derive(Debug)]
pub struct NotPublic {
    pub host: String,
    pub address: std::net::IpAddr,
}

impl std::fmt::Display for NotPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resolves to {}, which is not a public address",
            self.host, self.address
        )
    }
}

impl std::error::Error for NotPublic {}

/// Resolves `host` and checks every address it has.
pub async fn resolve_checked(
    host: &str,
    port: u16,
    reach: Reach,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if let Some(bad) = addrs.iter().find(|a| !reach.allows(a.ip())) {
        return Err(Box::new(NotPublic {
            host: host.to_owned(),
            address: bad.ip(),
        }));
    }
    Ok(addrs)
}

/// reqwest's resolver for webhook deliveries.
#[derive(Debug, Clone, Copy)]
pub struct CheckedResolver(pub Reach);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0;
        Box::pin(async move {
            // reqwest puts the URL's port on the addresses itself.
            let addrs = resolve_checked(name.as_str(), 0, reach).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_private_addresses_are_allowed() {
        let refused = resolve_checked("localhost", 443, Reach::PublicOnly).await;
        assert!(refused
            .unwrap_err()
            .to_string()
            .contains("not a public address"));
        let allowed = resolve_checked("localhost", 443, Reach::Anywhere)
            .await
            .unwrap();
        assert!(allowed
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 443));
    }

    #[tokio::test]
    async fn a_request_through_the_resolver_never_connects_to_a_refused_address() {
        // A listener that would answer, were it reached.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver(Reach::PublicOnly)))
            // Were it to connect, it would time out: a different error.
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .unwrap();
        let err = client
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .unwrap_err();
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        let mut refused = false;
        while let Some(e) = source {
            refused |= e.to_string().contains("not a public address");
            source = e.source();
        }
        assert!(refused, "{err:?}");
    }
}
