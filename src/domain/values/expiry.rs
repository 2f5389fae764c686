//! How long an invitation stays acceptable once its email is sent: an ISO
//! 8601 duration (`P7D`, `PT12H`, `P1DT6H`), in whole seconds, from the
//! configured minimum (`INVITATION_EXPIRY_MIN`) to 90 days. Years and
//! months are refused: they have no fixed length.

use std::time::Duration;

use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry(u64);

impl Expiry {
    pub const DEFAULT: Expiry = Expiry(7 * 86_400);
    pub const MAX: Expiry = Expiry(90 * 86_400);

    /// A duration from the client, within `[min, 90 days]`.
    pub fn parse(raw: &str, min: Duration) -> Result<Self> {
        let secs = iso8601_secs(raw.trim()).ok_or_else(|| {
            Error::bad_input(
                Reason::InvalidExpiry,
                "Not an ISO 8601 duration in days, hours, minutes or seconds (such as P7D or PT12H)",
            )
        })?;
        let min = Expiry(min.as_secs().max(1));
        let expiry = Expiry(secs);
        if expiry < min || expiry > Self::MAX {
            return Err(Error::bad_input(
                Reason::InvalidExpiry,
                format!(
                    "The expiry must be from {} to {}",
                    min.to_iso(),
                    Self::MAX.to_iso()
                ),
            ));
        }
        Ok(expiry)
    }

    /// As stored.
    pub fn from_secs(secs: i64) -> Self {
        Expiry(u64::try_from(secs).unwrap_or(0))
    }

    pub fn secs(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }

    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::seconds(self.secs())
    }

    /// The canonical ISO 8601 form: `P7D`, `PT12H`, `P1DT2H30M`, `PT1S`.
    pub fn to_iso(self) -> String {
        let (days, rest) = (self.0 / 86_400, self.0 % 86_400);
        let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
        let mut out = String::from("P");
        if days > 0 {
            out.push_str(&format!("{days}D"));
        }
        if rest > 0 || days == 0 {
            out.push('T');
            for (n, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
                if n > 0 {
                    out.push_str(&format!("{n}{unit}"));
                }
            }
            if rest == 0 {
                out.push_str("0S");
            }
        }
        out
    }
}

/// Whole seconds of an ISO 8601 duration without years or months.
fn iso8601_secs(raw: &str) -> Option<u64> {
    let d = iso8601_duration::Duration::parse(raw).ok()?;
    let secs = d.num_seconds()?;
    (0.0..1e12).contains(&secs).then(|| secs.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(3600);

    #[test]
    fn days_hours_minutes_and_seconds_parse() {
        assert_eq!(Expiry::parse("P7D", MIN).unwrap(), Expiry::DEFAULT);
        assert_eq!(Expiry::parse("PT12H", MIN).unwrap().secs(), 12 * 3600);
        assert_eq!(Expiry::parse("P1DT6H", MIN).unwrap().secs(), 30 * 3600);
        assert_eq!(Expiry::parse("P2W", MIN).unwrap().secs(), 14 * 86_400);
    }

    #[test]
    fn the_range_is_from_the_minimum_to_90_days() {
        assert!(Expiry::parse("PT59M", MIN).is_err());
        assert!(Expiry::parse("PT1H", MIN).is_ok());
        assert!(Expiry::parse("P90D", MIN).is_ok());
        assert!(Expiry::parse("P91D", MIN).is_err());
        assert!(Expiry::parse("PT1S", Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn calendar_units_negatives_and_garbage_are_refused() {
        for bad in ["P1M", "P1Y", "P-1D", "7 days", "", "P", "PT", "P1e30D"] {
            assert!(
                matches!(
                    Expiry::parse(bad, MIN),
                    Err(Error::BadUserInput {
                        reason: Reason::InvalidExpiry,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_canonical_form_reads_back_as_itself() {
        for (secs, iso) in [
            (604_800, "P7D"),
            (43_200, "PT12H"),
            (95_400, "P1DT2H30M"),
            (1, "PT1S"),
            (0, "PT0S"),
        ] {
            assert_eq!(Expiry(secs).to_iso(), iso);
            if secs > 0 {
                assert_eq!(iso8601_secs(iso), Some(secs), "{iso}");
            }
        }
    }
}
