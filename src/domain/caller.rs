//! Who is asking. A verified token says who the person is ([`Identity`]);
//! their profile, made on first access, makes them a [`Caller`], the one
//! type every domain operation takes.

use entity::profile;

use super::ids::ProfileId;

/// What a verified token says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// Normalised with [`super::values::email::normalise`].
    pub email: String,
    pub name: Option<String>,
    pub email_verified: bool,
}

/// The person making a request, with their profile as of the request's
/// start.
#[derive(Debug, Clone)]
pub struct Caller {
    pub profile: profile::Model,
    pub email_verified: bool,
}

impl Caller {
    pub fn id(&self) -> ProfileId {
        ProfileId(self.profile.id)
    }

    /// Normalised like invitation addresses, so the two compare equal.
    pub fn email(&self) -> &str {
        &self.profile.email
    }
}
