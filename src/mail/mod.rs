//! Email: the invitation message, the transports, and the outbox worker
//! that moves rows from `email_outbox` to an SMTP server.

pub mod message;
pub mod transport;
pub mod worker;

pub use transport::{Mailer, Outgoing, SendError, SmtpConfig};
pub use worker::{Worker, WorkerConfig};
