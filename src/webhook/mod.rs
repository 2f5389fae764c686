//! Webhooks, the delivery engine's second channel: a `webhook_delivery`
//! row becomes a signed POST of its body to its webhook's URL
//! ([`channel`]), over a connection made only to addresses a webhook may
//! reach ([`resolver`]). What is sent and how it is signed are the
//! domain's (`domain::webhooks`).

pub mod channel;
pub mod resolver;

pub use channel::WebhookChannel;
pub use resolver::CheckedResolver;
