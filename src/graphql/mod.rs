//! The GraphQL schema: one module per feature, merged here. It knows nothing
//! of HTTP; the HTTP edge hands it the caller's [`Auth`] per request.

mod connection;
mod context;
mod invitation;
mod loaders;
mod member;
mod profile;
mod scalars;
mod workspace;

use async_graphql::{
    dataloader::{DataLoader, HashMapCache},
    EmptySubscription, MergedObject, Schema,
};
use sea_orm::DatabaseConnection;

use crate::mail::worker::Wakeup;

pub use context::Auth;

#[derive(MergedObject, Default)]
pub struct Query(
    profile::ProfileQuery,
    workspace::WorkspaceQuery,
    invitation::InvitationQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    profile::ProfileMutation,
    workspace::WorkspaceMutation,
    invitation::InvitationMutation,
);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits on what one query may ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_complexity: 2000,
        }
    }
}

pub fn build_schema(db: DatabaseConnection, limits: Limits, wakeup: Wakeup) -> AppSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .data(db)
        .data(wakeup)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .finish()
}

/// The SDL as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .finish()
        .sdl()
}

/// Attaches what one request needs: who is asking, and fresh dataloaders
/// (their batches and caches must not outlive the request).
pub fn prepare(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    auth: Auth,
) -> async_graphql::Request {
    fn loader<L>(l: L) -> DataLoader<L, HashMapCache> {
        DataLoader::with_cache(l, tokio::spawn, HashMapCache::default())
    }
    request
        .data(auth)
        .data(context::ViewerCell::default())
        .data(loader(loaders::ProfileLoader(db.clone())))
        .data(loader(loaders::WorkspaceLoader(db.clone())))
        .data(loader(loaders::RoleLoader(db.clone())))
        .data(loader(loaders::DeliveryLoader(db.clone())))
}
