//! Timestamps as backup tools write them: RFC 3339 with an offset (restic, the AWS CLI),
//! naive local times (borg), and epoch seconds (pgBackRest, the AWS API, borg `--log-json`).
//!
//! Every instant is kept as a [`DateTime<FixedOffset>`] carrying the offset of the local time
//! it was taken in, so a run's *local date* — the day it counts for — is simply its date part.
//! Naive times are placed in the configured zone; across a DST change the offset follows the
//! zone's rules.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset,
    TimeZone,
};
use chrono_tz::Tz;

/// Parses an IANA zone name (`UTC`, `Europe/Berlin`); the error names the zone.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!("unknown time zone {name:?}: use an IANA name such as \"UTC\" or \"Europe/Berlin\"")
    })
}

/// Places a naive local time in `tz`. In the hour repeated when clocks go back the earlier
/// instant is taken; a time inside the hour skipped when clocks go forward is read with the
/// offset in force just before the change (so `02:30` becomes `03:30` summer time).
pub fn localize(naive: NaiveDateTime, tz: Tz) -> DateTime<FixedOffset> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.fixed_offset(),
        LocalResult::Ambiguous(earlier, _) => earlier.fixed_offset(),
        LocalResult::None => {
            let before = tz
                .offset_from_utc_datetime(&(naive - Duration::days(1)))
                .fix();
            let utc = naive - Duration::seconds(i64::from(before.local_minus_utc()));
            tz.from_utc_datetime(&utc).fixed_offset()
        }
    }
}

/// An instant given as epoch seconds, shown in `tz`.
///
/// The fraction is rounded to whole microseconds: an `f64` near 1.6e9 only holds about seven
/// significant decimals after the point, so `1600721724.77` is stored as `…724.7699999809`,
/// and truncating it would lose a millisecond (`.769`). No tool writes finer than microseconds.
pub fn from_epoch(seconds: f64, tz: Tz) -> Option<DateTime<FixedOffset>> {
    if !seconds.is_finite() {
        return None;
    }
    let mut whole = seconds.floor();
    let mut micros = ((seconds - whole) * 1e6).round();
    if micros >= 1e6 {
        whole += 1.0;
        micros = 0.0;
    }
    let utc = DateTime::from_timestamp(whole as i64, (micros as u32) * 1000)?;
    Some(utc.with_timezone(&tz).fixed_offset())
}

/// Epoch seconds written as decimal text (`1600721724.77`), read digit by digit so the
/// fraction is exact; other spellings (`1.6e9`) go through [`from_epoch`].
pub fn from_epoch_text(text: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let s = text.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !(frac.is_empty() || digits(frac)) {
        return from_epoch(s.parse().ok()?, tz);
    }
    let secs: i64 = int.parse().ok()?;
    let mut nanos = String::from(frac);
    nanos.truncate(9);
    while nanos.len() < 9 {
        nanos.push('0');
    }
    let utc = DateTime::from_timestamp(secs, nanos.parse().ok()?)?;
    Some(utc.with_timezone(&tz).fixed_offset())
}

/// Parses a timestamp written as text: RFC 3339 / ISO 8601 with an offset (kept as written),
/// a naive ISO 8601 local time (placed in `tz`), or epoch seconds.
///
/// ```
/// use soc2_collectors::backups::time::{parse_text, parse_zone};
/// let tz = parse_zone("Europe/Berlin").unwrap();
/// let t = parse_text("2026-03-29T02:30:00", tz).unwrap();
/// assert_eq!(t.to_rfc3339(), "2026-03-29T03:30:00+02:00");
/// let t = parse_text("2026-03-04T02:00:01.123456789+01:00", tz).unwrap();
/// assert_eq!(t.offset().local_minus_utc(), 3600);
/// ```
pub fn parse_text(text: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let s = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(localize(n, tz));
        }
    }
    if s.parse::<f64>().is_ok() {
        return from_epoch_text(s, tz);
    }
    None
}

/// Parses a JSON timestamp value: a string (see [`parse_text`]) or a number of epoch seconds.
pub fn parse_value(v: &serde_json::Value, tz: Tz) -> Option<DateTime<FixedOffset>> {
    match v {
        serde_json::Value::String(s) => parse_text(s, tz),
        // serde_json prints a float in its shortest exact form, so the text keeps the digits
        // the tool wrote.
        serde_json::Value::Number(n) => from_epoch_text(&n.to_string(), tz),
        _ => None,
    }
}

/// The ISO week of a date as `YYYY-Www` (e.g. `2026-W09`).
pub fn iso_week_label(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The calendar quarter of a date as `YYYY-Qn` (e.g. `2026-Q1`).
pub fn quarter_label(d: NaiveDate) -> String {
    format!("{}-Q{}", d.year(), (d.month0() / 3) + 1)
}

/// A date and time found in a file name (`db-2026-03-04.log`, `run_20260304T020000.json`),
/// placed in `tz`; midnight when the name carries only a date.
pub fn from_file_name(name: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let b = name.as_bytes();
    let digits = |i: usize, n: usize| -> Option<u32> {
        let s = b.get(i..i + n)?;
        if s.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(s).ok()?.parse().ok()
        } else {
            None
        }
    };
    for i in 0..b.len() {
        if i > 0 && b[i - 1].is_ascii_digit() {
            continue;
        }
        let Some(y) = digits(i, 4) else { continue };
        let mut j = i + 4;
        let dash = b.get(j) == Some(&b'-');
        if dash {
            j += 1;
        }
        let Some(m) = digits(j, 2) else { continue };
        j += 2;
        if dash {
            if b.get(j) != Some(&b'-') {
                continue;
            }
            j += 1;
        }
        let Some(d) = digits(j, 2) else { continue };
        j += 2;
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            continue;
        }
        let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) else {
            continue;
        };
        let mut time = chrono::NaiveTime::MIN;
        if matches!(b.get(j), Some(b'T' | b'_' | b'-' | b' ')) {
            let k = j + 1;
            let colon = b.get(k + 2) == Some(&b':');
            let step = if colon { 3 } else { 2 };
            if let (Some(h), Some(mi)) = (digits(k, 2), digits(k + step, 2)) {
                let s = digits(k + 2 * step, 2).unwrap_or(0);
                if let Some(t) = chrono::NaiveTime::from_hms_opt(h, mi, s) {
                    time = t;
                }
            }
        }
        return Some(localize(date.and_time(time), tz));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Tz {
        parse_zone("Europe/Berlin").unwrap()
    }

    #[test]
    fn naive_times_follow_dst() {
        let winter = parse_text("2026-03-28T23:30:00", berlin()).unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-03-28T23:30:00+01:00");
        let summer = parse_text("2026-03-29T23:30:00.250000", berlin()).unwrap();
        assert_eq!(summer.offset().local_minus_utc(), 7200);
        // The repeated hour in October takes the earlier instant.
        let amb = parse_text("2026-10-25T02:30:00", berlin()).unwrap();
        assert_eq!(amb.to_rfc3339(), "2026-10-25T02:30:00+02:00");
    }

    #[test]
    fn offsets_epochs_and_unknown_zones() {
        let utc = parse_zone("UTC").unwrap();
        let t = parse_text("2026-03-04T02:00:00.123000+00:00", utc).unwrap();
        assert_eq!(t.date_naive().to_string(), "2026-03-04");
        let e = parse_value(&serde_json::json!(1_772_589_600.5), berlin()).unwrap();
        assert_eq!(e.offset().local_minus_utc(), 3600);
        assert_eq!(e.timestamp(), 1_772_589_600);
        assert!(parse_text("yesterday", utc).is_none());
        // AWS Backup's raw API writes epoch floats; the milliseconds must survive.
        let aws = parse_value(&serde_json::json!(1_600_721_724.77), utc).unwrap();
        assert_eq!(aws.timestamp_subsec_millis(), 770);
        assert_eq!(aws.to_rfc3339(), "2020-09-21T20:55:24.770+00:00");
        let f = from_epoch(1_600_721_724.77, utc).unwrap();
        assert_eq!(f.timestamp_subsec_micros(), 770_000);
        let err = parse_zone("Mars/Olympus").unwrap_err();
        assert!(err.contains("Mars/Olympus"), "{err}");
    }

    #[test]
    fn labels_and_file_names() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(iso_week_label(d), "2026-W01");
        assert_eq!(quarter_label(d), "2026-Q1");
        let d = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(iso_week_label(d), "2026-W53");
        assert_eq!(
            quarter_label(NaiveDate::from_ymd_opt(2026, 11, 3).unwrap()),
            "2026-Q4"
        );
        let utc = parse_zone("UTC").unwrap();
        let t = from_file_name("backup-2026-03-04T02:15:00.log", utc).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-04T02:15:00+00:00");
        let t = from_file_name("run_20260305.json", utc).unwrap();
        assert_eq!(t.date_naive().to_string(), "2026-03-05");
        assert!(from_file_name("restic.log", utc).is_none());
        assert!(from_file_name("v12345678901", utc).is_none());
    }
}
