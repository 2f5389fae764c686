//! Where messages go: an SMTP server (mail-send), `.eml` files under
//! `MAIL_DIR` (the embedded default), or memory (tests).

use mail_send::{SmtpClient, SmtpClientBuilder};
use std::{
    fmt,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::io::{AsyncRead, AsyncWrite};
use uuid::Uuid;

/// A rendered message and its envelope.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The outbox row id, also the file name of an `.eml`.
    pub id: Uuid,
    pub from: String,
    pub to: String,
    pub bytes: Vec<u8>,
}

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth another try (4xx, connection trouble, timeouts).
    Transient(String),
    /// Will never work (5xx): fail at once.
    Permanent(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Transient(m) | SendError::Permanent(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: STARTTLS, port 587 by default.
    StartTls,
    /// `smtps://`: TLS from the start, port 465 by default.
    Implicit,
    /// `?tls=none`: plain, port 25 by default, for a relay nearby.
    None,
}

/// `SMTP_URL`, parsed. The password never appears in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
    pub timeout: Duration,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// `smtp://[user:password@]host[:port]`, `smtps://...`, either with
    /// `?tls=none`. User and password are percent-decoded.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = url::Url::parse(raw).map_err(|_| "SMTP_URL is not a URL".to_owned())?;
        let mut security = match url.scheme() {
            "smtp" => Security::StartTls,
            "smtps" => Security::Implicit,
            other => {
                return Err(format!(
                    "SMTP_URL: unknown scheme {other:?} (smtp or smtps)"
                ))
            }
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "none") => security = Security::None,
                ("tls", _) => return Err("SMTP_URL: tls takes only `none`".into()),
                (other, _) => return Err(format!("SMTP_URL: unknown parameter {other:?}")),
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("SMTP_URL: no host")?
            .trim_matches(|c| c == '[' || c == ']')
            .to_owned();
        let port = url.port().unwrap_or(match security {
            Security::StartTls => 587,
            Security::Implicit => 465,
            Security::None => 25,
        });
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let credentials = (!url.username().is_empty())
            .then(|| (decode(url.username()), decode(url.password().unwrap_or(""))));
        Ok(Self {
            host,
            port,
            security,
            credentials,
            timeout: Duration::from_secs(30),
        })
    }
}

/// Messages captured by the memory transport.
pub type Captured = Arc<Mutex<Vec<Outgoing>>>;

#[derive(Debug, Clone)]
pub enum Mailer {
    Smtp(SmtpConfig),
    File(PathBuf),
    Memory(Captured),
}

impl Mailer {
    /// Delivers a batch (over one SMTP connection where it can), one result
    /// per message, in order.
    pub async fn send_batch(&self, messages: &[Outgoing]) -> Vec<Result<(), SendError>> {
        match self {
            Mailer::Smtp(config) => send_smtp(config, messages).await,
            Mailer::File(dir) => {
                let mut results = Vec::with_capacity(messages.len());
                for m in messages {
                    results.push(write_eml(dir, m).await);
                }
                results
            }
            Mailer::Memory(captured) => {
                let mut sink = captured.lock().unwrap_or_else(|e| e.into_inner());
                sink.extend(messages.iter().cloned());
                messages.iter().map(|_| Ok(())).collect()
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(c) => format!("smtp {}:{} ({:?})", c.host, c.port, c.security),
            Mailer::File(dir) => format!("files under {}", dir.display()),
            Mailer::Memory(_) => "memory".into(),
        }
    }
}

async fn write_eml(dir: &PathBuf, m: &Outgoing) -> Result<(), SendError> {
    let fail = |e: std::io::Error| SendError::Transient(format!("writing {}: {e}", dir.display()));
    tokio::fs::create_dir_all(dir).await.map_err(fail)?;
    let path = dir.join(format!("{}.eml", m.id));
    // Write then rename, so a reader never sees half a message.
    let partial = dir.join(format!(".{}.eml.part", m.id));
    tokio::fs::write(&partial, &m.bytes).await.map_err(fail)?;
    tokio::fs::rename(&partial, &path).await.map_err(fail)?;
    tracing::info!(path = %path.display(), to = %m.to, "email written");
    Ok(())
}

fn classify(err: mail_send::Error) -> SendError {
    match err {
        mail_send::Error::UnexpectedReply(reply) if reply.code() >= 500 => {
            SendError::Permanent(format!("SMTP {} {}", reply.code(), reply.message()))
        }
        mail_send::Error::UnexpectedReply(reply) => {
            SendError::Transient(format!("SMTP {} {}", reply.code(), reply.message()))
        }
        mail_send::Error::AuthenticationFailed(reply) => {
            SendError::Transient(format!("SMTP authentication failed: {}", reply.code()))
        }
        other => SendError::Transient(format!("SMTP: {other}")),
    }
}

async fn send_smtp(config: &SmtpConfig, messages: &[Outgoing]) -> Vec<Result<(), SendError>> {
    let mut builder = match SmtpClientBuilder::new(config.host.clone(), config.port) {
        Ok(b) => b,
        Err(e) => {
            return messages
                .iter()
                .map(|_| Err(SendError::Transient(e.clone())))
                .collect()
        }
    }
    .implicit_tls(config.security == Security::Implicit)
    .timeout(config.timeout);
    if let Some((user, password)) = &config.credentials {
        builder = builder.credentials((user.clone(), password.clone()));
    }
    match config.security {
        Security::None => match builder.connect_plain().await {
            Ok(client) => send_over(client, &builder, messages, true).await,
            Err(e) => all_failed(messages, classify(e)),
        },
        _ => match builder.connect().await {
            Ok(client) => send_over(client, &builder, messages, false).await,
            Err(e) => all_failed(messages, classify(e)),
        },
    }
}

fn all_failed(messages: &[Outgoing], err: SendError) -> Vec<Result<(), SendError>> {
    let err = match err {
        // A refused connection says nothing about the recipients.
        SendError::Permanent(m) => SendError::Transient(m),
        t => t,
    };
    messages.iter().map(|_| Err(err.clone())).collect()
}

/// Sends each message over `client`; after a failure the connection state
/// is unknown, so the rest of the batch goes over a fresh connection.
async fn send_over<T: AsyncRead + AsyncWrite + Unpin>(
    client: SmtpClient<T>,
    builder: &SmtpClientBuilder<String>,
    messages: &[Outgoing],
    plain: bool,
) -> Vec<Result<(), SendError>> {
    let mut results = Vec::with_capacity(messages.len());
    let mut client = Some(client);
    for (i, m) in messages.iter().enumerate() {
        let Some(c) = client.as_mut() else {
            // Reconnect (in the transport's own flavour) for the rest.
            let rest = Box::pin(send_rest(builder, &messages[i..], plain)).await;
            results.extend(rest);
            return results;
        };
        let message = mail_send::smtp::message::Message::new(
            m.from.as_str(),
            [m.to.as_str()],
            m.bytes.as_slice(),
        );
        match c.send(message).await {
            Ok(_) => results.push(Ok(())),
            Err(e) => {
                results.push(Err(classify(e)));
                client = None;
            }
        }
    }
    if let Some(c) = client {
        let _ = c.quit().await;
    }
    results
}

async fn send_rest(
    builder: &SmtpClientBuilder<String>,
    messages: &[Outgoing],
    plain: bool,
) -> Vec<Result<(), SendError>> {
    if plain {
        match builder.connect_plain().await {
            Ok(client) => send_over(client, builder, messages, plain).await,
            Err(e) => all_failed(messages, classify(e)),
        }
    } else {
        match builder.connect().await {
            Ok(client) => send_over(client, builder, messages, plain).await,
            Err(e) => all_failed(messages, classify(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_defaults_to_starttls_on_587() {
        let c = SmtpConfig::parse("smtp://mail.example.com").unwrap();
        assert_eq!((c.port, c.security), (587, Security::StartTls));
    }

    #[test]
    fn smtps_url_is_implicit_tls_on_465() {
        let c = SmtpConfig::parse("smtps://mail.example.com").unwrap();
        assert_eq!((c.port, c.security), (465, Security::Implicit));
    }

    #[test]
    fn tls_none_is_plain_on_25() {
        let c = SmtpConfig::parse("smtp://localhost?tls=none").unwrap();
        assert_eq!((c.port, c.security), (25, Security::None));
        assert_eq!(
            SmtpConfig::parse("smtp://localhost:1025?tls=none")
                .unwrap()
                .port,
            1025
        );
    }

    #[test]
    fn credentials_are_percent_decoded_and_never_printed() {
        let c = SmtpConfig::parse("smtp://ada%40acme.test:p%40ss%3Aword@mail.example.com").unwrap();
        assert_eq!(
            c.credentials,
            Some(("ada@acme.test".into(), "p@ss:word".into()))
        );
        assert!(!format!("{c:?}").contains("p@ss"));
    }

    #[test]
    fn other_schemes_and_parameters_are_refused() {
        assert!(SmtpConfig::parse("http://x").is_err());
        assert!(SmtpConfig::parse("smtp://x?tls=maybe").is_err());
        assert!(SmtpConfig::parse("not a url").is_err());
    }
}
