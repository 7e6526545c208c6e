//! Sample sizes by how often a control operates: the table of common audit practice.

use std::fmt;
use std::str::FromStr;

/// How often a control operates, the row of the sample-size table `--frequency` picks.
///
/// The sizes are the low end of the table most SOC 2 service auditors work from (it descends
/// from the AICPA's attestation guidance on tests of controls: annual 1, quarterly 2, monthly
/// 2–5, weekly 5–15, daily 20–40, several times a day 25–60). It is practice, not a standard:
/// the auditor decides, and a larger sample is always possible with `--size`.
///
/// ```
/// use soc2_evidence::sample::Frequency;
/// let f: Frequency = "weekly".parse().unwrap();
/// assert_eq!(f.sample_size(), 5);
/// assert!(f.row().contains("weekly"));
/// assert!("hourly".parse::<Frequency>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Once a year.
    Annual,
    /// Once a quarter.
    Quarterly,
    /// Once a month.
    Monthly,
    /// Once a week.
    Weekly,
    /// Once a day.
    Daily,
    /// Several times a day, or on every occurrence of an event (each change, each new hire).
    Recurring,
}

impl Frequency {
    /// Every row, in table order.
    pub const ALL: [Frequency; 6] = [
        Frequency::Annual,
        Frequency::Quarterly,
        Frequency::Monthly,
        Frequency::Weekly,
        Frequency::Daily,
        Frequency::Recurring,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Frequency::Annual => "annual",
            Frequency::Quarterly => "quarterly",
            Frequency::Monthly => "monthly",
            Frequency::Weekly => "weekly",
            Frequency::Daily => "daily",
            Frequency::Recurring => "recurring",
        }
    }

    /// The sample size this row gives.
    pub fn sample_size(self) -> usize {
        match self {
            Frequency::Annual => 1,
            Frequency::Quarterly => 2,
            Frequency::Monthly => 2,
            Frequency::Weekly => 5,
            Frequency::Daily => 20,
            Frequency::Recurring => 25,
        }
    }

    /// The table row in words, as the output names it.
    pub fn row(self) -> String {
        let range = match self {
            Frequency::Annual => "1",
            Frequency::Quarterly => "2",
            Frequency::Monthly => "2-5",
            Frequency::Weekly => "5-15",
            Frequency::Daily => "20-40",
            Frequency::Recurring => "25-60",
        };
        format!(
            "{} control: sample {} (common practice {range})",
            self.name(),
            self.sample_size()
        )
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Frequency {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Frequency::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Frequency::ALL.iter().map(|f| f.name()).collect();
                format!("unknown frequency {s:?}; one of {}", names.join(", "))
            })
    }
}
