//! Ids as types, so a workspace id can never be passed where a profile id
//! is meant. The API's ids are UUIDs; anything else is refused before any
//! look-up.

use std::fmt;
use uuid::Uuid;

use crate::error::{Error, Reason, Result};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// An id argument as the client sent it.
            pub fn parse(raw: &str) -> Result<Self> {
                Uuid::parse_str(raw.trim()).map(Self).map_err(|_| {
                    Error::bad_input(Reason::InvalidId, "Not a valid id")
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id!(
    /// A profile (a person, keyed by their token's subject).
    ProfileId
);
id!(WorkspaceId);
id!(InvitationId);
id!(WebhookId);

/// The ids of `items`, each once, sorted (for batched look-ups).
pub fn distinct<T, I: Ord>(items: impl IntoIterator<Item = T>, id: impl Fn(T) -> I) -> Vec<I> {
    let mut ids: Vec<I> = items.into_iter().map(id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_must_be_a_uuid() {
        assert!(WorkspaceId::parse("0b6c3f6e-8a53-4b8e-9d2a-0d6f1f0d4c11").is_ok());
        assert!(WorkspaceId::parse("42").is_err());
        assert!(ProfileId::parse("'; DROP TABLE profile; --").is_err());
    }
}
