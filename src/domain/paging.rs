//! Keyset paging: the one query shape every listing uses, with exact
//! `has_previous`/`has_next` in both directions.
//!
//! A listing has a natural order on `(timestamp, id)`: newest first for
//! workspaces and invitations, oldest first for members. (Arguments and
//! cursors are the API's business: `graphql::page`.)

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Order, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::error::{Error, Result};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// A position in a listing's natural order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the start of the range.
    Forward,
    /// From the end of the range.
    Backward,
}

/// Which part of a listing to fetch: `limit` rows from one end of the
/// range between the two keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub direction: Direction,
    /// At most [`MAX_PAGE_SIZE`].
    pub limit: u64,
    pub after: Option<Key>,
    pub before: Option<Key>,
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
