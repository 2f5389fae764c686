//! Relay-style keyset paging: argument rules, opaque cursors, and the one
//! query shape every listing uses.
//!
//! A listing has a natural order on `(timestamp, id)`: newest first for
//! workspaces and invitations, oldest first for members. A cursor names a
//! position in that order and the listing it came from.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Order, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{Error, Reason, Result};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// The raw `first`/`after`/`last`/`before` arguments of a connection field.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// A position in a listing's natural order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `first`: from the start of the range.
    Forward,
    /// `last`: from the end of the range.
    Backward,
}

/// Validated paging arguments for one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub direction: Direction,
    pub limit: u64,
    pub after: Option<Key>,
    pub before: Option<Key>,
}

impl PageRequest {
    /// `listing` names the listing (and its scope, such as a workspace id);
    /// a cursor from any other listing is refused.
    pub fn parse(args: &PageArgs, listing: &str) -> Result<Self> {
        let (direction, size, field) = match (args.first, args.last) {
            (Some(_), Some(_)) => {
                return Err(Error::bad_input(
                    Reason::InvalidPageSize,
                    "last",
                    "`first` and `last` cannot be used together",
                ))
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
                    field,
                    format!("`{field}` must be between 0 and {MAX_PAGE_SIZE}"),
                )
            })?;
        let decode = |c: &Option<String>, field| {
            c.as_deref()
                .map(|c| decode_cursor(c, listing).ok_or_else(|| bad_cursor(field)))
                .transpose()
        };
        Ok(Self {
            direction,
            limit,
            after: decode(&args.after, "after")?,
            before: decode(&args.before, "before")?,
        })
    }
}

fn bad_cursor(field: &'static str) -> Error {
    Error::bad_input(
        Reason::InvalidCursor,
        field,
        format!("`{field}` is not a cursor of this listing"),
    )
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

/// One page of a listing, in natural order.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<(Key, T)>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(k, t)| (k, f(t))).collect(),
            has_previous: self.has_previous,
            has_next: self.has_next,
        }
    }
}

/// How a listing is ordered and keyed.
pub struct Keyset<E: EntityTrait> {
    pub at: E::Column,
    pub id: E::Column,
    /// `Desc` for newest first.
    pub natural: Order,
    pub key_of: fn(&E::Model) -> Key,
}

impl<E: EntityTrait> Keyset<E> {
    /// Rows strictly after `k` when walking in `order`.
    fn beyond(&self, k: Key, order: &Order) -> Condition {
        let (at_cmp, id_cmp) = match order {
            Order::Desc => (self.at.lt(k.at), self.id.lt(k.id)),
            _ => (self.at.gt(k.at), self.id.gt(k.id)),
        };
        Condition::any()
            .add(at_cmp)
            .add(Condition::all().add(self.at.eq(k.at)).add(id_cmp))
    }

    /// Rows at `k` or before it when walking in `order`.
    fn not_beyond(&self, k: Key, order: &Order) -> Condition {
        self.beyond(k, order).not()
    }

    /// Fetches one page of `base` (already filtered to the listing's set).
    /// At most three statements: the page, and one existence check for each
    /// cursor given, so `hasPreviousPage`/`hasNextPage` are exact.
    pub async fn fetch(
        &self,
        db: &impl ConnectionTrait,
        base: Select<E>,
        req: &PageRequest,
    ) -> Result<Page<E::Model>> {
        let natural = self.natural.clone();
        let reverse = reverse(&natural);
        let mut range = base.clone();
        if let Some(k) = req.after {
            range = range.filter(self.beyond(k, &natural));
        }
        if let Some(k) = req.before {
            range = range.filter(self.beyond(k, &reverse));
        }
        let walk = match req.direction {
            Direction::Forward => natural.clone(),
            Direction::Backward => reverse.clone(),
        };
        // One row more than asked says whether the range goes on.
        let mut rows = range
            .order_by(self.at, walk.clone())
            .order_by(self.id, walk)
            .limit(req.limit + 1)
            .all(db)
            .await?;
        let more_in_range = rows.len() as u64 > req.limit;
        rows.truncate(req.limit as usize);
        if req.direction == Direction::Backward {
            rows.reverse();
        }
        // Rows outside the range, beyond a cursor, also make a page exist.
        let exists_outside = |k: Key, order: Order| {
            let q = base.clone().filter(self.not_beyond(k, &order));
            async move { Ok::<_, Error>(q.one(db).await?.is_some()) }
        };
        let (has_previous, has_next) = match req.direction {
            Direction::Forward => (
                match req.after {
                    Some(k) => exists_outside(k, natural.clone()).await?,
                    None => false,
                },
                more_in_range
                    || match req.before {
                        Some(k) => exists_outside(k, reverse.clone()).await?,
                        None => false,
                    },
            ),
            Direction::Backward => (
                more_in_range
                    || match req.after {
                        Some(k) => exists_outside(k, natural.clone()).await?,
                        None => false,
                    },
                match req.before {
                    Some(k) => exists_outside(k, reverse.clone()).await?,
                    None => false,
                },
            ),
        };
        Ok(Page {
            items: rows.into_iter().map(|m| ((self.key_of)(&m), m)).collect(),
            has_previous,
            has_next,
        })
    }
}

fn reverse(order: &Order) -> Order {
    match order {
        Order::Desc => Order::Asc,
        _ => Order::Desc,
    }
}

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
    fn page_size_is_20_by_default() {
        let req = PageRequest::parse(&args(None, None), "l").unwrap();
        assert_eq!((req.direction, req.limit), (Direction::Forward, 20));
    }

    #[test]
    fn page_size_is_at_most_100_and_not_negative() {
        assert!(PageRequest::parse(&args(Some(100), None), "l").is_ok());
        assert!(PageRequest::parse(&args(Some(101), None), "l").is_err());
        assert!(PageRequest::parse(&args(None, Some(-1)), "l").is_err());
    }

    #[test]
    fn first_and_last_together_are_refused() {
        assert!(PageRequest::parse(&args(Some(1), Some(1)), "l").is_err());
    }

    #[test]
    fn cursor_round_trips_within_its_listing() {
        let k = key();
        let c = encode_cursor("members:1", k);
        let a = PageArgs {
            after: Some(c),
            ..Default::default()
        };
        assert_eq!(PageRequest::parse(&a, "members:1").unwrap().after, Some(k));
    }

    #[test]
    fn cursor_from_another_listing_is_refused() {
        let c = encode_cursor("members:1", key());
        let a = PageArgs {
            before: Some(c),
            ..Default::default()
        };
        assert!(PageRequest::parse(&a, "members:2").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_cursor_text_is_parsed_or_refused_never_a_panic(c in "\\PC{0,200}") {
            let a = PageArgs { after: Some(c), ..Default::default() };
            let _ = PageRequest::parse(&a, "l");
        }

        #[test]
        fn cursors_round_trip(micros in 0i64..4_000_000_000_000_000, id: u128, listing in "[a-z:0-9-]{1,60}") {
            let key = Key { at: DateTime::from_timestamp_micros(micros).unwrap(), id: Uuid::from_u128(id) };
            let a = PageArgs { before: Some(encode_cursor(&listing, key)), ..Default::default() };
            proptest::prop_assert_eq!(PageRequest::parse(&a, &listing).unwrap().before, Some(key));
        }
    }

    #[test]
    fn garbage_cursor_is_refused() {
        for c in ["", "!!!", "bm90IGEgY3Vyc29y", "a|b|c"] {
            let a = PageArgs {
                after: Some(c.into()),
                ..Default::default()
            };
            assert!(PageRequest::parse(&a, "l").is_err(), "{c}");
        }
    }
}
