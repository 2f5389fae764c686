//! Ids in the API are UUIDs; anything else is refused before any look-up.

use uuid::Uuid;

use crate::error::{Error, Reason, Result};

/// Parses the id argument named `field`.
pub fn parse(raw: &str, field: &'static str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        Error::bad_input(
            Reason::InvalidId,
            field,
            format!("`{field}` is not a valid id"),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn id_must_be_a_uuid() {
        assert!(super::parse("0b6c3f6e-8a53-4b8e-9d2a-0d6f1f0d4c11", "id").is_ok());
        assert!(super::parse("42", "id").is_err());
        assert!(super::parse("'; DROP TABLE profile; --", "id").is_err());
    }
}
