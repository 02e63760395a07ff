//! Calendar dates in UTC without a date crate: the one place that turns an instant into
//! year-month-day and back (Howard Hinnant's civil-date algorithms), and formats or parses
//! the forms selfheal meets: RFC 3339 for the state dir, `YYYY-MM-DD` for GitHub's
//! `created` filter, `YYYYMMDDTHHMMSS` for run ids, and HTTP-dates for `Retry-After`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant in UTC, to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    /// `t` in UTC; instants before 1970 count as 1970-01-01T00:00:00Z.
    pub fn from_system(t: SystemTime) -> Utc {
        Utc::from_epoch_secs(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }

    pub fn from_epoch_secs(secs: u64) -> Utc {
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        Utc {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }

    /// Seconds since 1970-01-01T00:00:00Z, `None` before it.
    pub fn epoch_secs(&self) -> Option<u64> {
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days.checked_mul(86_400)?
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second);
        u64::try_from(secs).ok()
    }

    /// `2026-11-24T10:58:00Z`
    pub fn rfc3339(&self) -> String {
        format!(
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `2026-11-24`
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `20261124T105800`, which sorts by time.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// RFC 3339 in UTC with second precision, e.g. `2026-11-24T10:58:00Z`.
pub fn rfc3339(t: SystemTime) -> String {
    Utc::from_system(t).rfc3339()
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form senders may use (RFC 9110 §5.6.7).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ").map(|(_, r)| r).unwrap_or(s);
    let parts: Vec<&str> = rest.split_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    if *zone != "GMT" && *zone != "UTC" {
        return None;
    }
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    let hms: Vec<u32> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [hour, minute, second] = hms.as_slice() else {
        return None;
    };
    let utc = Utc {
        year: year.parse().ok()?,
        month,
        day: day.parse().ok()?,
        hour: *hour,
        minute: *minute,
        second: *second,
    };
    Some(UNIX_EPOCH + Duration::from_secs(utc.epoch_secs()?))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 to (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn days_and_civil_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
        for days in [-800_000, -1, 0, 59, 11_016, 20_416, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(1_795_777_080)), "2026-11-27T10:58:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z", "leap day");
        let t = Utc::from_epoch_secs(1_795_777_080);
        assert_eq!(
            (t.date(), t.compact()),
            ("2026-11-27".into(), "20261127T105800".into())
        );
        assert_eq!(t.epoch_secs(), Some(1_795_777_080));
    }

    #[test]
    fn http_date_parses_to_the_right_instant() {
        // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example).
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(at(784_111_777))
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1969 08:49:37 GMT"),
            None,
            "before 1970"
        );
        assert_eq!(parse_http_date("tomorrow"), None);
    }
}
