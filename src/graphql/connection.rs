//! Relay connections, built from a domain [`Page`].
//!
//! One `XConnection`/`XEdge` pair per node type, made by a macro since
//! async-graphql cannot nest generic objects.

use async_graphql::{Context, SimpleObject};

use super::{invitation::Invitation, member::Member, workspace::Workspace};
use crate::domain::paging::{encode_cursor, Page, PageArgs};

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

macro_rules! connection {
    ($node:ty, $connection:ident, $edge:ident) => {
        #[derive(SimpleObject)]
        pub struct $edge {
            pub node: $node,
            pub cursor: String,
        }

        #[derive(SimpleObject)]
        pub struct $connection {
            pub edges: Vec<$edge>,
            pub nodes: Vec<$node>,
            pub page_info: PageInfo,
            /// The size of the whole filtered set, not of this page.
            pub total_count: i32,
        }

        impl $connection {
            /// `total` is `None` when the client did not select `totalCount`.
            pub fn new(page: Page<$node>, listing: &str, total: Option<u64>) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|(key, node)| $edge {
                        node,
                        cursor: encode_cursor(listing, key),
                    })
                    .collect();
                Self {
                    nodes: edges.iter().map(|e| e.node.clone()).collect(),
                    page_info: PageInfo {
                        has_previous_page: page.has_previous,
                        has_next_page: page.has_next,
                        start_cursor: edges.first().map(|e| e.cursor.clone()),
                        end_cursor: edges.last().map(|e| e.cursor.clone()),
                    },
                    edges,
                    total_count: total.map_or(0, |t| i32::try_from(t).unwrap_or(i32::MAX)),
                }
            }
        }
    };
}

connection!(Invitation, InvitationConnection, InvitationEdge);
connection!(Member, MemberConnection, MemberEdge);
connection!(Workspace, WorkspaceConnection, WorkspaceEdge);

/// Whether the client asked for `totalCount` (it costs a query).
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

pub fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
    }
}
