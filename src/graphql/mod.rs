//! The GraphQL schema: one module per node type, merged here. It knows
//! nothing of HTTP; the edge hands each request the caller's [`Auth`]
//! ([`prepare`]) and maps errors once ([`errors`]).

mod bulk;
mod context;
pub mod errors;
mod federation;
mod history;
mod invitation;
pub mod limits;
mod loaders;
mod member;
pub mod page;
pub mod partial;
mod profile;
mod scalars;
mod subscription;
mod webhook;
mod workspace;

use async_graphql::{
    dataloader::{DataLoader, HashMapCache},
    extensions::Tracing,
    MergedObject, MergedSubscription, Schema,
};
use sea_orm::DatabaseConnection;

use crate::delivery::Wakeup;
use crate::domain::values::webhook_url::Reach;
use crate::domain::{invitations::ResendLimits, rate_limit::RateLimits};
use crate::live::Feed;

pub use context::{Auth, Listening};

#[derive(MergedObject, Default)]
pub struct Query(
    profile::ProfileQuery,
    workspace::WorkspaceQuery,
    invitation::InvitationQuery,
);

// `Query` with the federation entities, whose mere presence makes
// async-graphql serve `_service` and `_entities`: only with
// `GRAPHQL_FEDERATION=true`. (A plain comment: a doc comment would become
// the type's description.)
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct FederatedQuery(
    profile::ProfileQuery,
    workspace::WorkspaceQuery,
    invitation::InvitationQuery,
    federation::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    profile::ProfileMutation,
    workspace::WorkspaceMutation,
    invitation::InvitationMutation,
    bulk::BulkMutation,
    webhook::WebhookMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(subscription::InvitationSubscription);

/// The executable schema: plain, or a federation subgraph.
#[derive(Clone)]
pub enum AppSchema {
    Plain(Schema<Query, Mutation, Subscription>),
    Subgraph(Schema<FederatedQuery, Mutation, Subscription>),
}

impl AppSchema {
    pub async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        match self {
            AppSchema::Plain(s) => s.execute(request).await,
            AppSchema::Subgraph(s) => s.execute(request).await,
        }
    }

    pub fn execute_stream(
        &self,
        request: async_graphql::Request,
    ) -> futures_util::stream::BoxStream<'static, async_graphql::Response> {
        match self {
            AppSchema::Plain(s) => s.execute_stream(request),
            AppSchema::Subgraph(s) => s.execute_stream(request),
        }
    }

    pub fn sdl(&self) -> String {
        match self {
            AppSchema::Plain(s) => s.sdl(),
            AppSchema::Subgraph(s) => s.sdl(),
        }
    }
}

/// Limits on what one query may ask for, and whether the schema can be
/// introspected. (Aliases and root fields are checked by the edge, with
/// [`limits::ShapeLimits`].)
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    /// The most a query may cost: each field 1 plus its selection, each
    /// connection its page size times its selection (`page::cost`).
    pub max_complexity: usize,
    /// Directives on one field, at most.
    pub max_directives: usize,
    pub introspection: bool,
    /// A tracing span per resolver (async-graphql's tracing extension).
    pub resolver_spans: bool,
    /// Answer Apollo Federation's `_service` and `_entities`.
    pub federation: bool,
}

/// The rules the settings choose.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub rate_limits: RateLimits,
    /// The shortest invitation expiry (`INVITATION_EXPIRY_MIN`).
    pub expiry_min: std::time::Duration,
    /// Between two resends of one invitation.
    pub resend_cooldown: std::time::Duration,
    /// Where webhooks may point (`WEBHOOK_ALLOW_PRIVATE`).
    pub webhook_reach: Reach,
}

impl Policy {
    pub(crate) fn resend_limits(&self) -> ResendLimits {
        ResendLimits {
            cooldown: self.resend_cooldown,
            rate: self.rate_limits,
        }
    }
}

/// What the schema needs besides the database.
pub struct Services {
    pub wakeup: Wakeup,
    /// Committed history events, for subscriptions.
    pub feed: Feed,
    pub policy: Policy,
}

pub fn build_schema(db: DatabaseConnection, limits: Limits, services: Services) -> AppSchema {
    if limits.federation {
        AppSchema::Subgraph(finish(
            Schema::build(
                FederatedQuery::default(),
                Mutation::default(),
                Subscription::default(),
            )
            .enable_federation(),
            db,
            limits,
            services,
        ))
    } else {
        AppSchema::Plain(finish(
            Schema::build(
                Query::default(),
                Mutation::default(),
                Subscription::default(),
            ),
            db,
            limits,
            services,
        ))
    }
}

fn finish<Q: async_graphql::ObjectType + 'static>(
    builder: async_graphql::SchemaBuilder<Q, Mutation, Subscription>,
    db: DatabaseConnection,
    limits: Limits,
    services: Services,
) -> Schema<Q, Mutation, Subscription> {
    let mut builder = builder
        .data(db)
        .data(services.wakeup)
        .data(services.feed)
        .data(services.policy)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.max_directives)
        .limit_recursive_depth(64);
    if limits.resolver_spans {
        builder = builder.extension(Tracing);
    }
    if limits.introspection {
        builder.finish()
    } else {
        // "Did you mean ...?" would tell what introspection does not.
        builder
            .disable_introspection()
            .disable_suggestions()
            .finish()
    }
}

/// The SDL as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .finish()
    .sdl()
}

/// The Apollo Federation v2 subgraph schema (`invitations schema
/// --federation`): the SDL with `@link`, `@key(fields: "id")` on the
/// entities, and `_service`/`_entities`.
pub fn federation_sdl() -> String {
    Schema::build(
        FederatedQuery::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .enable_federation()
    .finish()
    .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
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
        .data(context::CallerCell::default())
        .data(loader(loaders::ProfileLoader(db.clone())))
        .data(loader(loaders::WorkspaceLoader(db.clone())))
        .data(loader(loaders::RoleLoader(db.clone())))
        .data(loader(loaders::DeliveryLoader(db.clone())))
        .data(loader(loaders::EventsLoader(db.clone())))
        .data(loader(loaders::InvitationLoader(db.clone())))
        .data(loader(loaders::SeenLoader(db.clone())))
}

/// Runs a resolver's body in a box of its own. async-graphql moves each
/// field's future by value, and an object's field future is as large as
/// its largest resolver's: boxing the heavy ones (connections, loaders)
/// keeps the plain fields beside them cheap (see README, Performance).
pub(crate) fn boxed<'a, T>(
    body: impl std::future::Future<Output = T> + Send + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>> {
    Box::pin(body)
}
