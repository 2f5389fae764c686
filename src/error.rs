//! The one error type of the service and its one mapping to GraphQL.
//!
//! Policy: domain code returns [`Error`]; each variant is a client-visible
//! outcome with an `extensions.code` (and, where it helps, a `reason` and the
//! `field` at fault). Anything the client cannot act on is `Internal`: it is
//! logged in full here and reaches the client as a generic message, to which
//! the HTTP layer adds `extensions.requestId` so the log line can be found.

use async_graphql::ErrorExtensions;

/// Why a request was refused, in `extensions.reason`.
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
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidName => "INVALID_NAME",
            Reason::InvalidAlias => "INVALID_ALIAS",
            Reason::AliasTaken => "ALIAS_TAKEN",
            Reason::InvalidDomain => "INVALID_DOMAIN",
            Reason::InvalidEmail => "INVALID_EMAIL",
            Reason::InvalidPhone => "INVALID_PHONE",
            Reason::InvalidValue => "INVALID_VALUE",
            Reason::InvalidId => "INVALID_ID",
            Reason::InvalidCursor => "INVALID_CURSOR",
            Reason::InvalidPageSize => "INVALID_PAGE_SIZE",
            Reason::InvalidStatusFilter => "INVALID_STATUS_FILTER",
            Reason::DomainNotAllowed => "DOMAIN_NOT_ALLOWED",
            Reason::AlreadyMember => "ALREADY_MEMBER",
            Reason::AlreadyInvited => "ALREADY_INVITED",
            Reason::EmailNotVerified => "EMAIL_NOT_VERIFIED",
            Reason::InvitationRevoked => "INVITATION_REVOKED",
            Reason::InvitationAccepted => "INVITATION_ACCEPTED",
        }
    }
}

/// Deliberately not `Display`: async-graphql converts any `Display` type
/// into an error without extensions, and every error must go through the
/// mapping below.
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
        field: Option<&'static str>,
        message: String,
    },
    Conflict {
        reason: Reason,
        message: String,
    },
    /// Too many requests of one kind; `retryAfter` says when to try again.
    RateLimited {
        retry_after_secs: u64,
        message: String,
    },
    /// Details for the log only.
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden {
            reason: None,
            message: message.into(),
        }
    }

    pub fn bad_input(reason: Reason, field: &'static str, message: impl Into<String>) -> Self {
        Error::BadUserInput {
            reason,
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn conflict(reason: Reason, message: impl Into<String>) -> Self {
        Error::Conflict {
            reason,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Forbidden { .. } => "FORBIDDEN",
            Error::NotFound(_) => "NOT_FOUND",
            Error::BadUserInput { .. } => "BAD_USER_INPUT",
            Error::Conflict { .. } => "CONFLICT",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The client-facing message (not for `Internal`, whose details stay in
    /// the log).
    pub fn message(&self) -> String {
        match self {
            Error::Unauthenticated(m) => m.clone(),
            Error::Forbidden { message, .. }
            | Error::BadUserInput { message, .. }
            | Error::Conflict { message, .. }
            | Error::RateLimited { message, .. } => message.clone(),
            Error::NotFound(what) => format!("No such {what}"),
            Error::Internal(_) => INTERNAL_MESSAGE.to_owned(),
        }
    }

    fn reason(&self) -> Option<Reason> {
        match self {
            Error::Forbidden { reason, .. } => *reason,
            Error::BadUserInput { reason, .. } | Error::Conflict { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        Error::Internal(format!("database: {err}"))
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(err: sea_orm::TransactionError<Error>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

pub const INTERNAL_MESSAGE: &str = "Internal server error";

/// The single mapping from [`Error`] to a GraphQL error.
impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        let message = match &err {
            Error::Internal(details) => {
                // The request span carries the request id, so this line and
                // the client's `requestId` meet in the log.
                tracing::error!(error = %details, "internal error");
                INTERNAL_MESSAGE.to_owned()
            }
            other => other.message(),
        };
        let code = err.code();
        let reason = err.reason();
        let field = match &err {
            Error::BadUserInput { field, .. } => *field,
            _ => None,
        };
        let retry_after = match &err {
            Error::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(reason) = reason {
                ext.set("reason", reason.as_str());
            }
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
        })
    }
}
