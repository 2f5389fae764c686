//! Live updates (issue 13, under way): the feed of committed history
//! events that subscriptions will read. Not yet served over WebSocket.

pub mod feed;

pub use feed::{Feed, Subscriber};
