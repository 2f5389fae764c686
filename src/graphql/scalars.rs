//! The scalars: `DateTime` (RFC 3339 in UTC with microseconds) and
//! `Duration` (ISO 8601).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

/// An ISO 8601 instant in UTC, e.g. "2026-11-26T10:15:30.123Z".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateTime(pub chrono::DateTime<Utc>);

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| DateTime(t.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom("expected an RFC 3339 timestamp")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(t: chrono::DateTime<Utc>) -> Self {
        Self(t)
    }
}

/// An ISO 8601 duration, e.g. "P7D" or "PT12H". Read as text and checked by
/// the field that takes it, so a malformed one is `BAD_USER_INPUT` with
/// its reason; written in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duration(pub String);

#[Scalar(name = "Duration")]
impl ScalarType for Duration {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Duration(s)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl From<crate::domain::values::Expiry> for Duration {
    fn from(e: crate::domain::values::Expiry) -> Self {
        Self(e.to_iso())
    }
}
