//! Webhooks, the delivery engine's second channel (being built, issue 13):
//! so far the body of a delivery, the Standard Webhooks signature and
//! secret, and the resolver that keeps deliveries off private addresses. The channel that
//! sends `webhook_delivery` rows comes next.

pub mod payload;
pub mod resolver;
pub mod signature;

pub use resolver::CheckedResolver;
pub use signature::{sign, Secret};
