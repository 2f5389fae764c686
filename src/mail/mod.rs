//! Email, the first channel of the delivery engine: the invitation message
//! (rendering), and the transports that carry it (SMTP, files, memory).

pub mod channel;
pub mod message;
pub mod transport;

pub use channel::EmailChannel;
pub use transport::{Captured, Mailer, Outgoing, SmtpConfig};
