//! Where emails go: an SMTP server (mail-send), `.eml` files under
//! `MAIL_DIR` (the embedded default), or memory (tests).

use mail_send::{smtp::message::Parameters, SmtpClient, SmtpClientBuilder};
use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use uuid::Uuid;

use crate::delivery::{SendError, Session};

/// A rendered message and its envelope.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The outbox row id, also the file name of an `.eml`.
    pub id: Uuid,
    pub from: String,
    pub to: String,
    pub bytes: Vec<u8>,
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

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Mailer {
    Smtp(SmtpConfig),
    File(PathBuf),
    Memory(Captured),
}

impl Mailer {
    /// A session: for SMTP, one connection opened at the first message and
    /// kept for the next ones.
    pub fn open(&self) -> MailSession {
        match self {
            Mailer::Smtp(config) => MailSession(Lane::Smtp {
                config: config.clone(),
                client: None,
            }),
            Mailer::File(dir) => MailSession(Lane::File(dir.clone())),
            Mailer::Memory(captured) => MailSession(Lane::Memory(captured.clone())),
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

/// An SMTP connection, plain or over TLS.
enum Client {
    Plain(Box<SmtpClient<TcpStream>>),
    Tls(Box<SmtpClient<TlsStream<TcpStream>>>),
}

/// One batch's way to the mailer; for SMTP, a connection kept open.
pub struct MailSession(Lane);

enum Lane {
    Smtp {
        config: SmtpConfig,
        client: Option<Client>,
    },
    File(PathBuf),
    Memory(Captured),
}

impl Session<Outgoing> for MailSession {
    async fn send(&mut self, m: &Outgoing) -> Result<(), SendError> {
        match &mut self.0 {
            Lane::Smtp { config, client } => {
                let mut conn = match client.take() {
                    Some(c) => c,
                    None => connect(config).await?,
                };
                let sent = match &mut conn {
                    Client::Plain(c) => send_staged(c, m).await,
                    Client::Tls(c) => send_staged(c, m).await,
                };
                match sent {
                    // Keep the connection for the next message.
                    Ok(_) => {
                        *client = Some(conn);
                        Ok(())
                    }
                    // After a failure its state is unknown: the next message
                    // gets a fresh connection.
                    Err(e) => Err(e),
                }
            }
            Lane::File(dir) => write_eml(dir, m).await,
            Lane::Memory(captured) => {
                captured
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(m.clone());
                Ok(())
            }
        }
    }

    async fn close(self) {
        if let Lane::Smtp {
            client: Some(conn), ..
        } = self.0
        {
            let _ = match conn {
                Client::Plain(c) => c.quit().await,
                Client::Tls(c) => c.quit().await,
            };
        }
    }
}

async fn connect(config: &SmtpConfig) -> Result<Client, SendError> {
    let mut builder = SmtpClientBuilder::new(config.host.clone(), config.port)
        .map_err(SendError::Transient)?
        .implicit_tls(config.security == Security::Implicit)
        .timeout(config.timeout);
    if let Some((user, password)) = &config.credentials {
        builder = builder.credentials((user.clone(), password.clone()));
    }
    let connected = match config.security {
        Security::None => builder
            .connect_plain()
            .await
            .map(|c| Client::Plain(Box::new(c))),
        _ => builder.connect().await.map(|c| Client::Tls(Box::new(c))),
    };
    let client = connected.map_err(|e| classify(Stage::Connect, e))?;
    // mail-send writes a message in several small writes; with Nagle's
    // algorithm each one after the first waited for the server's delayed
    // ACK, about 40 ms a message (bench/live.sh: 89 emails/s before).
    let socket = match &client {
        Client::Plain(c) => &c.stream,
        Client::Tls(c) => c.stream.get_ref().0,
    };
    if let Err(e) = socket.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY on the SMTP connection");
    }
    Ok(client)
}

async fn write_eml(dir: &Path, m: &Outgoing) -> Result<(), SendError> {
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

/// Where in the SMTP conversation a reply came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Connecting, TLS, EHLO, authentication.
    Connect,
    MailFrom,
    RcptTo,
    Data,
}

/// One message, a stage at a time, so that a refusal is judged by where it
/// came: a 5xx to the recipient or to the message fails that email for
/// good; a 5xx to the sender or at login is a fault of this server's setup,
/// retried like a 4xx.
async fn send_staged<T: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<T>,
    m: &Outgoing,
) -> Result<(), SendError> {
    let none = Parameters::default();
    client
        .mail_from(&m.from, &none)
        .await
        .map_err(|e| classify(Stage::MailFrom, e))?;
    client
        .rcpt_to(&m.to, &none)
        .await
        .map_err(|e| classify(Stage::RcptTo, e))?;
    client
        .data(&m.bytes)
        .await
        .map_err(|e| classify(Stage::Data, e))?;
    Ok(())
}

fn classify(stage: Stage, err: mail_send::Error) -> SendError {
    let for_this_message = matches!(stage, Stage::RcptTo | Stage::Data);
    match err {
        mail_send::Error::UnexpectedReply(reply) if reply.code() >= 500 && for_this_message => {
            SendError::Permanent(format!("SMTP {} {}", reply.code(), reply.message()))
        }
        mail_send::Error::UnexpectedReply(reply) if reply.code() >= 500 => {
            tracing::warn!(
                code = reply.code(),
                ?stage,
                "the SMTP relay refused this server (check MAIL_FROM and the SMTP_URL credentials)"
            );
            SendError::Transient(format!(
                "SMTP {} {} (refused at {stage:?}: check MAIL_FROM and SMTP_URL)",
                reply.code(),
                reply.message()
            ))
        }
        mail_send::Error::UnexpectedReply(reply) => {
            SendError::Transient(format!("SMTP {} {}", reply.code(), reply.message()))
        }
        mail_send::Error::AuthenticationFailed(reply) => {
            tracing::warn!(
                code = reply.code(),
                "SMTP authentication failed: check SMTP_URL"
            );
            SendError::Transient(format!("SMTP authentication failed: {}", reply.code()))
        }
        other => SendError::Transient(format!("SMTP: {other}")),
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
