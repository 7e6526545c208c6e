//! The audit period: the inclusive date range an audit covers.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// An inclusive range of calendar dates (UTC) that an audit covers, such as
/// `2026-01-01..2026-06-30`.
///
/// ```
/// use soc2_evidence_core::AuditPeriod;
/// let p: AuditPeriod = "2026-01-01..2026-06-30".parse().unwrap();
/// assert_eq!(p.days(), 181);
/// assert_eq!(p.to_string(), "2026-01-01..2026-06-30");
/// assert!("2026-07-01..2026-06-30".parse::<AuditPeriod>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodRepr", into = "PeriodRepr")]
pub struct AuditPeriod {
    start: NaiveDate,
    end: NaiveDate,
}

/// Why an audit period could not be parsed or built. Every variant quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeriodError {
    /// The input was empty or only whitespace.
    #[error("audit period is empty: expected START..END, e.g. 2026-01-01..2026-06-30")]
    Empty,
    /// The input has no `..` separator.
    #[error(
        "audit period {input:?} has no `..`: expected START..END, e.g. 2026-01-01..2026-06-30"
    )]
    MissingSeparator {
        /// The input as given.
        input: String,
    },
    /// One side is not a `YYYY-MM-DD` calendar date.
    #[error("audit period {input:?}: {which} date {value:?} is not a valid YYYY-MM-DD date")]
    BadDate {
        /// The input as given.
        input: String,
        /// `start` or `end`.
        which: &'static str,
        /// The offending part.
        value: String,
    },
    /// The start date falls after the end date.
    #[error("audit period {input:?}: start {start} is after end {end}")]
    StartAfterEnd {
        /// The input as given.
        input: String,
        /// Parsed start.
        start: NaiveDate,
        /// Parsed end.
        end: NaiveDate,
    },
}

impl AuditPeriod {
    /// Builds a period from inclusive start and end dates.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, PeriodError> {
        if start > end {
            return Err(PeriodError::StartAfterEnd {
                input: format!("{start}..{end}"),
                start,
                end,
            });
        }
        Ok(Self { start, end })
    }

    /// First day of the period (inclusive).
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Last day of the period (inclusive).
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Number of calendar days in the period, both ends included.
    pub fn days(&self) -> u64 {
        // start <= end is an invariant, so the difference is never negative.
        (self.end - self.start).num_days().unsigned_abs() + 1
    }

    /// The first instant of the period: midnight UTC on the start date.
    pub fn start_utc(&self) -> DateTime<Utc> {
        self.start.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The first instant *after* the period: midnight UTC on the day after the end date.
    /// Use it as an exclusive upper bound (`until`) in API queries.
    pub fn end_exclusive_utc(&self) -> DateTime<Utc> {
        self.end
            .checked_add_days(Days::new(1))
            .unwrap_or(self.end)
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }

    /// Whether an instant falls inside the period.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.start_utc() && t < self.end_exclusive_utc()
    }

    /// Whether a calendar date falls inside the period.
    pub fn contains_date(&self, d: NaiveDate) -> bool {
        d >= self.start && d <= self.end
    }

    /// Every date of the period, in order.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d <= end)
    }
}

impl FromStr for AuditPeriod {
    type Err = PeriodError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PeriodError::Empty);
        }
        let (a, b) = trimmed
            .split_once("..")
            .ok_or_else(|| PeriodError::MissingSeparator {
                input: input.to_string(),
            })?;
        let parse = |which: &'static str, value: &str| {
            NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| PeriodError::BadDate {
                input: input.to_string(),
                which,
                value: value.to_string(),
            })
        };
        let start = parse("start", a)?;
        let end = parse("end", b)?;
        if start > end {
            return Err(PeriodError::StartAfterEnd {
                input: input.to_string(),
                start,
                end,
            });
        }
        Ok(Self { start, end })
    }
}

impl fmt::Display for AuditPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

#[derive(Serialize, Deserialize)]
struct PeriodRepr {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<PeriodRepr> for AuditPeriod {
    type Error = PeriodError;
    fn try_from(r: PeriodRepr) -> Result<Self, Self::Error> {
        AuditPeriod::new(r.start, r.end)
    }
}

impl From<AuditPeriod> for PeriodRepr {
    fn from(p: AuditPeriod) -> Self {
        PeriodRepr {
            start: p.start,
            end: p.end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let p: AuditPeriod = "2026-01-01..2026-06-30".parse().unwrap();
        assert_eq!(p.start(), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(p.end(), NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
        assert_eq!(p.to_string(), "2026-01-01..2026-06-30");
        assert_eq!(p.days(), 181);
        assert_eq!(p.dates().count(), 181);
    }

    #[test]
    fn single_day_is_valid() {
        let p: AuditPeriod = "2026-03-01..2026-03-01".parse().unwrap();
        assert_eq!(p.days(), 1);
        assert!(p.contains("2026-03-01T23:59:59Z".parse().unwrap()));
        assert!(!p.contains("2026-03-02T00:00:00Z".parse().unwrap()));
        assert!(!p.contains("2026-02-28T23:59:59Z".parse().unwrap()));
    }

    #[test]
    fn errors_quote_the_input() {
        let e = "2026-07-01..2026-06-30".parse::<AuditPeriod>().unwrap_err();
        assert!(matches!(e, PeriodError::StartAfterEnd { .. }));
        assert!(e.to_string().contains("2026-07-01..2026-06-30"), "{e}");

        let e = "2026-02-30..2026-06-30".parse::<AuditPeriod>().unwrap_err();
        assert!(matches!(e, PeriodError::BadDate { which: "start", .. }));
        assert!(e.to_string().contains("2026-02-30"), "{e}");

        let e = "2026-01-01..june".parse::<AuditPeriod>().unwrap_err();
        assert!(matches!(e, PeriodError::BadDate { which: "end", .. }));
        assert!(e.to_string().contains("june"), "{e}");

        let e = "2026-01-01".parse::<AuditPeriod>().unwrap_err();
        assert!(e.to_string().contains("\"2026-01-01\""), "{e}");

        assert_eq!("  ".parse::<AuditPeriod>().unwrap_err(), PeriodError::Empty);
    }

    #[test]
    fn serde_round_trip_validates() {
        let p: AuditPeriod = "2026-01-01..2026-06-30".parse().unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"start":"2026-01-01","end":"2026-06-30"}"#);
        assert_eq!(serde_json::from_str::<AuditPeriod>(&json).unwrap(), p);
        assert!(serde_json::from_str::<AuditPeriod>(
            r#"{"start":"2026-07-01","end":"2026-06-30"}"#
        )
        .is_err());
    }
}
