//! The domain's one error type.
//!
//! Policy: domain code returns [`Error`]; each variant but `Internal` is an
//! outcome the client can act on, with a [`Reason`] where the SPEC names one.
//! `Internal` is anything else: it keeps its cause and where it happened for
//! the log, and the client sees only a generic message and a request id.
//! This module knows nothing of GraphQL: `graphql::errors` maps an [`Error`]
//! to `extensions.code`, `reason` and `field`, once.

use std::panic::Location;

/// Why a request was refused (`extensions.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    InvalidName,
    InvalidAlias,
    AliasTaken,
    InvalidDomain,
    InvalidEmail,
    InvalidPhone,
    InvalidValue,
    InvalidId,
    InvalidCursor,
    InvalidPageSize,
    InvalidStatusFilter,
    DomainNotAllowed,
    AlreadyMember,
    AlreadyInvited,
    EmailNotVerified,
    InvitationRevoked,
    InvitationAccepted,
    InvitationExpired,
    InvitationDeclined,
    InvalidExpiry,
    InvalidRole,
    RoleNotGrantable,
    OwnerRoleFixed,
    OwnerCannotLeave,
    ResendLimit,
    TooMany,
    InvalidIdempotencyKey,
    IdempotencyKeyReused,
    InvalidUrl,
    TooManySubscriptions,
}

/// Deliberately not `Display`: async-graphql turns any `Display` type into
/// an error without a code, and every error must go through the one mapping.
#[derive(Debug, Clone)]
pub enum Error {
    Unauthenticated(String),
    Forbidden {
        reason: Option<Reason>,
        message: String,
    },
    /// Says nothing about whether the thing exists.
    NotFound(&'static str),
    BadUserInput {
        reason: Reason,
        /// The API's name of the argument at fault, set where the argument
        /// was parsed (the domain does not know API names).
        field: Option<&'static str>,
        message: String,
    },
    Conflict {
        reason: Reason,
        message: String,
    },
    /// Too many requests of one kind; `retry_after_secs` says when to try again.
    RateLimited {
        retry_after_secs: u64,
        message: String,
    },
    Internal(Internal),
}

/// What went wrong inside, for the log only.
#[derive(Debug, Clone)]
pub struct Internal {
    pub cause: String,
    /// Where it was raised (the `?` that converted it, for database errors).
    pub at: &'static Location<'static>,
}

impl std::fmt::Display for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {})", self.cause, self.at)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An argument parsed at the boundary whose refusal, if any, is raised only
/// where the SPEC's order of refusals puts it (`NOT_FOUND` and `FORBIDDEN`
/// come before `BAD_USER_INPUT`).
pub type Input<T> = Result<T>;

impl Error {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden {
            reason: None,
            message: message.into(),
        }
    }

    pub fn bad_input(reason: Reason, message: impl Into<String>) -> Self {
        Error::BadUserInput {
            reason,
            field: None,
            message: message.into(),
        }
    }

    pub fn conflict(reason: Reason, message: impl Into<String>) -> Self {
        Error::Conflict {
            reason,
            message: message.into(),
        }
    }

    /// An internal error raised here.
    #[track_caller]
    pub fn internal(cause: impl Into<String>) -> Self {
        Error::Internal(Internal {
            cause: cause.into(),
            at: Location::caller(),
        })
    }

    /// Names the argument at fault, if this is bad input without one.
    pub fn at(self, name: &'static str) -> Self {
        match self {
            Error::BadUserInput {
                reason,
                field: None,
                message,
            } => Error::BadUserInput {
                reason,
                field: Some(name),
                message,
            },
            other => other,
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    #[track_caller]
    fn from(err: sea_orm::DbErr) -> Self {
        Error::Internal(Internal {
            cause: format!("database: {err}"),
            at: Location::caller(),
        })
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    #[track_caller]
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_error_remembers_where_it_was_raised() {
        fn fails() -> Result<()> {
            Err(sea_orm::DbErr::Custom("boom".into()))?;
            Ok(())
        }
        let Err(Error::Internal(e)) = fails() else {
            panic!("an internal error")
        };
        assert!(e.cause.contains("boom"));
        assert!(e.at.file().ends_with("error.rs"), "{}", e.at);
    }

    #[test]
    fn a_field_is_named_once_at_the_boundary() {
        let e = Error::bad_input(Reason::InvalidEmail, "no")
            .at("email")
            .at("other");
        assert!(matches!(
            e,
            Error::BadUserInput {
                field: Some("email"),
                ..
            }
        ));
    }
}
