//! End-to-end tests over HTTP with real signed tokens, one test per SPEC
//! rule. SQLite by default; set `TEST_DATABASE_URL=postgres://...` to run
//! every test in its own fresh PostgreSQL database instead.

// A test binary uses only some of the package's dependencies.
#![allow(unused_crate_dependencies)]
// Helpers are `pub` for the test modules of this one binary.
#![allow(unreachable_pub)]

mod helpers;

mod authorization;
mod bulk;
mod faults;
mod federation;
mod hostile;
mod http;
mod invitations;
mod lifecycle;
mod live;
mod mail;
mod migrations;
mod observability;
mod oidc;
#[cfg(feature = "otlp")]
mod otlp;
mod over_http;
mod paging;
mod profiles;
mod rate_limits;
mod receiver;
mod roles;
mod schema;
mod smtp_sink;
mod subscriptions;
mod webhooks;
mod workspaces;
mod ws_client;
