//! Live updates: the feed of committed history events that subscriptions
//! read, in every server process sharing the database.

pub mod feed;

pub use feed::{Feed, LiveEvent, Subscriber};
