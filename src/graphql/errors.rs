//! The one mapping from errors to GraphQL: every error leaves with an
//! `extensions.code` from [`Code`], and, where it helps, a `reason`, the
//! `field` at fault and `retryAfter`. The codes and reasons are spelled here
//! and nowhere else.
//!
//! An internal error keeps its cause (the domain [`Error`]) as the GraphQL
//! error's source; [`finish`] logs each distinct one once per response, with
//! the field it failed in, and leaves the client a generic message and the
//! request id.

use async_graphql::{ErrorExtensions, Response, ServerError};

use crate::error::{Error, Reason};

/// `extensions.code`: what kind of error it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    InternalServerError,
    GraphqlParseFailed,
    GraphqlValidationFailed,
    /// Apollo's name: a persisted-query hash the server does not know.
    PersistedQueryNotFound,
}

impl Code {
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::Conflict => "CONFLICT",
            Code::RateLimited => "RATE_LIMITED",
            Code::InternalServerError => "INTERNAL_SERVER_ERROR",
            Code::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Code::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Code::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
        }
    }

    /// The code of an error that has one.
    pub fn of(err: &ServerError) -> Option<Code> {
        match err.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(s) => Code::parse(s),
            _ => None,
        }
    }

    fn parse(s: &str) -> Option<Code> {
        [
            Code::Unauthenticated,
            Code::Forbidden,
            Code::NotFound,
            Code::BadUserInput,
            Code::Conflict,
            Code::RateLimited,
            Code::InternalServerError,
            Code::GraphqlParseFailed,
            Code::GraphqlValidationFailed,
            Code::PersistedQueryNotFound,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Refused before execution: the request as a whole is at fault.
    pub fn is_request_error(self) -> bool {
        matches!(
            self,
            Code::GraphqlParseFailed | Code::GraphqlValidationFailed
        )
    }
}

fn reason_name(reason: Reason) -> &'static str {
    match reason {
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
        Reason::InvitationExpired => "INVITATION_EXPIRED",
        Reason::InvitationDeclined => "INVITATION_DECLINED",
        Reason::InvalidExpiry => "INVALID_EXPIRY",
        Reason::InvalidRole => "INVALID_ROLE",
        Reason::RoleNotGrantable => "ROLE_NOT_GRANTABLE",
        Reason::OwnerRoleFixed => "OWNER_ROLE_FIXED",
        Reason::OwnerCannotLeave => "OWNER_CANNOT_LEAVE",
        Reason::ResendLimit => "RESEND_LIMIT",
        Reason::TooMany => "TOO_MANY",
        Reason::InvalidIdempotencyKey => "INVALID_IDEMPOTENCY_KEY",
        Reason::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
        Reason::InvalidUrl => "INVALID_URL",
        Reason::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
    }
}

pub const INTERNAL_MESSAGE: &str = "Internal server error";

/// The code a domain error maps to.
pub fn code_of(err: &Error) -> Code {
    match err {
        Error::Unauthenticated(_) => Code::Unauthenticated,
        Error::Forbidden { .. } => Code::Forbidden,
        Error::NotFound(_) => Code::NotFound,
        Error::BadUserInput { .. } => Code::BadUserInput,
        Error::Conflict { .. } => Code::Conflict,
        Error::RateLimited { .. } => Code::RateLimited,
        Error::Internal(_) => Code::InternalServerError,
    }
}

/// The single mapping from a domain [`Error`] to a GraphQL error.
impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        let code = code_of(&err);
        let (message, reason, field, retry_after) = match &err {
            Error::Unauthenticated(m) => (m.clone(), None, None, None),
            Error::Forbidden { reason, message } => (message.clone(), *reason, None, None),
            Error::NotFound(what) => (format!("No such {what}"), None, None, None),
            Error::BadUserInput {
                reason,
                field,
                message,
            } => (message.clone(), Some(*reason), *field, None),
            Error::Conflict { reason, message } => (message.clone(), Some(*reason), None, None),
            Error::RateLimited {
                retry_after_secs,
                message,
            } => (message.clone(), None, None, Some(*retry_after_secs)),
            Error::Internal(_) => (INTERNAL_MESSAGE.to_owned(), None, None, None),
        };
        let mut out = async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(reason) = reason {
                ext.set("reason", reason_name(reason));
            }
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
        });
        if let Error::Internal(internal) = err {
            // Kept for the log (see `finish`), never serialised.
            out.source = Some(std::sync::Arc::new(internal));
        }
        out
    }
}

/// An error with this code (for refusals made outside the schema).
pub fn coded(message: impl Into<String>, code: Code) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// `err`, with this code.
pub fn with_code(mut err: ServerError, code: Code) -> ServerError {
    set_code(&mut err, code);
    err
}

fn set_code(err: &mut ServerError, code: Code) {
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
}

/// Makes a response's errors ready for the client: async-graphql's own
/// errors (validation and its limits) get their code; internal ones are
/// logged, each distinct cause once, and masked with `request_id`. Returns
/// every error's code, for the metrics.
pub fn finish(response: &mut Response, request_id: &str) -> Vec<Code> {
    let mut logged: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(response.errors.len());
    for e in &mut response.errors {
        let code = Code::of(e).unwrap_or_else(|| {
            set_code(e, Code::GraphqlValidationFailed);
            Code::GraphqlValidationFailed
        });
        if code == Code::InternalServerError {
            let cause = e
                .source::<crate::error::Internal>()
                .map_or_else(|| e.message.clone(), ToString::to_string);
            if !logged.contains(&cause) {
                let path = serde_json::to_string(&e.path).unwrap_or_default();
                tracing::error!(error = %cause, path, "internal error");
                logged.push(cause);
            }
            e.message = INTERNAL_MESSAGE.to_owned();
            e.extensions
                .get_or_insert_with(Default::default)
                .set("requestId", request_id);
        }
        codes.push(code);
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for code in [
            Code::Unauthenticated,
            Code::RateLimited,
            Code::GraphqlParseFailed,
        ] {
            assert_eq!(Code::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn bad_input_carries_its_reason_and_field() {
        let e: async_graphql::Error = Error::bad_input(Reason::InvalidEmail, "no")
            .at("email")
            .into();
        let ext = e.extensions.unwrap();
        assert_eq!(ext.get("code"), Some(&"BAD_USER_INPUT".into()));
        assert_eq!(ext.get("reason"), Some(&"INVALID_EMAIL".into()));
        assert_eq!(ext.get("field"), Some(&"email".into()));
    }

    #[test]
    fn an_internal_error_is_logged_once_and_masked() {
        let internal: async_graphql::Error = Error::internal("the disk is on fire").into();
        let mut response = Response::from_errors(vec![
            internal.clone().into_server_error(Default::default()),
            internal.into_server_error(Default::default()),
        ]);
        let codes = finish(&mut response, "req-1");
        assert_eq!(codes, [Code::InternalServerError; 2]);
        for e in &response.errors {
            assert_eq!(e.message, INTERNAL_MESSAGE);
            assert_eq!(
                e.extensions.as_ref().unwrap().get("requestId"),
                Some(&"req-1".into())
            );
            assert!(!serde_json::to_string(e).unwrap().contains("fire"));
        }
    }
}
