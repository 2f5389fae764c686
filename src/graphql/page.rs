//! Relay connections: the paging arguments and their rules, opaque
//! cursors, and the one way every listing becomes a connection. Each node
//! type declares its own connection with [`connection_type!`].
//!
//! A cursor names a position in a listing's natural order and the listing
//! it came from, so a cursor from another listing is refused.

use async_graphql::{Context, SimpleObject};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::DateTime;
use std::future::Future;
use uuid::Uuid;

use crate::domain::paging::{Direction, Key, Page, PageRequest, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::{Error, Reason, Result};

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// The `first`/`after`/`last`/`before` arguments of a connection field.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }

    /// The request these arguments make of `listing` (which names the
    /// listing and its scope, such as a workspace id).
    pub fn parse(&self, listing: &str) -> Result<PageRequest> {
        let (direction, size, field) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(Error::bad_input(
                    Reason::InvalidPageSize,
                    "`first` and `last` cannot be used together",
                )
                .at("last"))
            }
            (Some(n), None) => (Direction::Forward, n, "first"),
            (None, Some(n)) => (Direction::Backward, n, "last"),
            (None, None) => (Direction::Forward, DEFAULT_PAGE_SIZE as i32, "first"),
        };
        let limit = u64::try_from(size)
            .ok()
            .filter(|n| *n <= MAX_PAGE_SIZE)
            .ok_or_else(|| {
                Error::bad_input(
                    Reason::InvalidPageSize,
                    format!("`{field}` must be between 0 and {MAX_PAGE_SIZE}"),
                )
                .at(field)
            })?;
        let decode = |c: &Option<String>, field: &'static str| {
            c.as_deref()
                .map(|c| {
                    decode_cursor(c, listing).ok_or_else(|| {
                        Error::bad_input(
                            Reason::InvalidCursor,
                            format!("`{field}` is not a cursor of this listing"),
                        )
                        .at(field)
                    })
                })
                .transpose()
        };
        Ok(PageRequest {
            direction,
            limit,
            after: decode(&self.after, "after")?,
            before: decode(&self.before, "before")?,
        })
    }
}

pub fn encode_cursor(listing: &str, key: Key) -> String {
    let raw = format!("{listing}|{}|{}", key.at.timestamp_micros(), key.id);
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(cursor: &str, listing: &str) -> Option<Key> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = raw.rsplitn(3, '|');
    let id = Uuid::parse_str(parts.next()?).ok()?;
    let micros: i64 = parts.next()?.parse().ok()?;
    (parts.next()? == listing).then_some(())?;
    Some(Key {
        at: DateTime::from_timestamp_micros(micros)?,
        id,
    })
}

/// A connection's share of a query's cost: its page size (`first` or
/// `last`, the default when absent) times the cost of its selection. Sizes
/// out of range count as the largest page; the field refuses them anyway.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).map_or(DEFAULT_PAGE_SIZE, |n| {
        u64::try_from(n).unwrap_or(0).min(MAX_PAGE_SIZE)
    });
    usize::try_from(size)
        .unwrap_or(usize::MAX)
        .saturating_mul(child_complexity)
}

/// A connection type made from a page of its nodes.
pub trait Connection: Sized {
    type Node;
    /// `total` is `None` when the client did not select `totalCount`.
    fn from_page(page: Page<Self::Node>, listing: &str, total: Option<u64>) -> Self;
}

/// The connection for `page`, counting the whole set (a statement) only when
/// the client selected `totalCount`.
pub async fn connection<C, F>(
    ctx: &Context<'_>,
    listing: &str,
    page: Page<C::Node>,
    count: F,
) -> Result<C>
where
    C: Connection,
    F: Future<Output = Result<u64>>,
{
    let total = if ctx.look_ahead().field("totalCount").exists() {
        Some(count.await?)
    } else {
        None
    };
    Ok(C::from_page(page, listing, total))
}

/// Declares `$connection` and `$edge` for `$node`. (async-graphql cannot
/// nest generic objects, hence a macro.)
macro_rules! connection_type {
    ($node:ty, $connection:ident, $edge:ident) => {
        #[derive(async_graphql::SimpleObject)]
        pub(crate) struct $edge {
            pub(crate) node: $node,
            pub(crate) cursor: String,
        }

        #[derive(async_graphql::SimpleObject)]
        pub(crate) struct $connection {
            pub(crate) edges: Vec<$edge>,
            pub(crate) nodes: Vec<$node>,
            pub(crate) page_info: $crate::graphql::page::PageInfo,
            /// The size of the whole filtered set, not of this page.
            pub(crate) total_count: i32,
        }

        impl $crate::graphql::page::Connection for $connection {
            type Node = $node;

            fn from_page(
                page: $crate::domain::paging::Page<$node>,
                listing: &str,
                total: Option<u64>,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|(key, node)| $edge {
                        node,
                        cursor: $crate::graphql::page::encode_cursor(listing, key),
                    })
                    .collect();
                Self {
                    nodes: edges.iter().map(|e| e.node.clone()).collect(),
                    page_info: $crate::graphql::page::PageInfo {
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
pub(crate) use connection_type;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs {
            first,
            last,
            ..Default::default()
        }
    }

    fn key() -> Key {
        Key {
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        }
    }

    #[test]
    fn a_connection_costs_its_page_size_times_its_selection() {
        assert_eq!(cost(None, None, 3), 60);
        assert_eq!(cost(Some(5), None, 3), 15);
        assert_eq!(cost(None, Some(100), 2), 200);
        assert_eq!(
            cost(Some(i32::MAX), None, 2),
            200,
            "refused by the field, not here"
        );
        assert_eq!(cost(Some(-1), None, 2), 0);
    }

    #[test]
    fn page_size_is_20_by_default() {
        let req = args(None, None).parse("l").unwrap();
        assert_eq!((req.direction, req.limit), (Direction::Forward, 20));
    }

    #[test]
    fn page_size_is_at_most_100_and_not_negative() {
        assert!(args(Some(100), None).parse("l").is_ok());
        assert!(args(Some(101), None).parse("l").is_err());
        assert!(args(None, Some(-1)).parse("l").is_err());
    }

    #[test]
    fn first_and_last_together_are_refused() {
        assert!(args(Some(1), Some(1)).parse("l").is_err());
    }

    #[test]
    fn cursor_round_trips_within_its_listing() {
        let k = key();
        let a = PageArgs {
            after: Some(encode_cursor("members:1", k)),
            ..Default::default()
        };
        assert_eq!(a.parse("members:1").unwrap().after, Some(k));
    }

    #[test]
    fn cursor_from_another_listing_is_refused() {
        let a = PageArgs {
            before: Some(encode_cursor("members:1", key())),
            ..Default::default()
        };
        assert!(a.parse("members:2").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_cursor_text_is_parsed_or_refused_never_a_panic(c in "\\PC{0,200}") {
            let a = PageArgs { after: Some(c), ..Default::default() };
            let _ = a.parse("l");
        }

        #[test]
        fn cursors_round_trip(micros in 0i64..4_000_000_000_000_000, id: u128, listing in "[a-z:0-9-]{1,60}") {
            let key = Key { at: DateTime::from_timestamp_micros(micros).unwrap(), id: Uuid::from_u128(id) };
            let a = PageArgs { before: Some(encode_cursor(&listing, key)), ..Default::default() };
            proptest::prop_assert_eq!(a.parse(&listing).unwrap().before, Some(key));
        }
    }

    #[test]
    fn garbage_cursor_is_refused() {
        for c in ["", "!!!", "bm90IGEgY3Vyc29y", "a|b|c"] {
            let a = PageArgs {
                after: Some(c.into()),
                ..Default::default()
            };
            assert!(a.parse("l").is_err(), "{c}");
        }
    }
}
