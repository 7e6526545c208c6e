//! The human form of a [`RunDiff`], in the spirit of diff(1): `+` new only, `-` old only,
//! `~` in both but different.

use std::fmt;

use super::{PopulationDiff, RunDiff, Side};

impl fmt::Display for RunDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- {}", self.old.display())?;
        writeln!(f, "+++ {}", self.new.display())?;
        for p in &self.populations {
            write_population(f, p)?;
        }
        writeln!(
            f,
            "findings: {} status changed, {} only in the old run, {} only in the new run",
            self.status_changed.len(),
            self.only_old.len(),
            self.only_new.len()
        )?;
        for c in &self.status_changed {
            writeln!(
                f,
                "  ~ {} {}: {} -> {}: {}",
                c.check_id, c.subject_id, c.old_status, c.new_status, c.summary
            )?;
        }
        for o in &self.only_old {
            writeln!(
                f,
                "  - {} {}: {}: {}",
                o.check_id, o.subject_id, o.status, o.summary
            )?;
        }
        for o in &self.only_new {
            writeln!(
                f,
                "  + {} {}: {}: {}",
                o.check_id, o.subject_id, o.status, o.summary
            )?;
        }
        if self.is_empty() {
            write!(
                f,
                "no differences: {} population(s) and every finding's status are the same",
                self.populations_compared
            )
        } else {
            write!(
                f,
                "{} of {} population(s) differ",
                self.populations.len(),
                self.populations_compared
            )
        }
    }
}

fn write_population(f: &mut fmt::Formatter<'_>, p: &PopulationDiff) -> fmt::Result {
    match p.only_in {
        Some(Side::Old) => writeln!(
            f,
            "population {}: only in the old run ({} records)",
            p.population, p.old_count
        )?,
        Some(Side::New) => writeln!(
            f,
            "population {}: only in the new run ({} records)",
            p.population, p.new_count
        )?,
        None => writeln!(
            f,
            "population {}: {} -> {} records; {} added, {} removed, {} changed",
            p.population,
            p.old_count,
            p.new_count,
            p.added.len(),
            p.removed.len(),
            p.changed.len()
        )?,
    }
    for id in &p.added {
        writeln!(f, "  + {id}")?;
    }
    for id in &p.removed {
        writeln!(f, "  - {id}")?;
    }
    for id in &p.changed {
        writeln!(f, "  ~ {id}")?;
    }
    Ok(())
}
