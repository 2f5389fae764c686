//! Input values as types: each `parse` is the only way to make one, so a
//! raw string never gets past the boundary.

pub mod alias;
pub mod domain_name;
pub mod email;
pub mod expiry;
pub mod handle;
pub mod idempotency_key;
pub mod name;
pub mod phone;
pub mod setting;
pub mod slug;
pub mod webhook_url;

pub use alias::Alias;
pub use domain_name::DomainName;
pub use email::EmailAddress;
pub use expiry::Expiry;
pub use idempotency_key::IdempotencyKey;
pub use name::Name;
pub use phone::Phone;
pub use setting::Setting;
pub use webhook_url::WebhookUrl;
