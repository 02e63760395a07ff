//! Parses human durations such as `1h30m`, `45s` or `2h5s` and prints them as `HH:MM:SS`.

mod parse;

pub use parse::{parse_duration, ParseError};

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    pub secs: u64,
}

impl Duration {
    pub fn hms(self) -> (u64, u64, u64) {
        (self.secs / 3600, self.secs / 60 % 60, self.secs % 60)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = self.hms();
        write!(f, "{:02}:{:02}:{:02}", h, m, s)
    }
}

/// Sum of several durations, e.g. the lines of a timesheet.
pub fn total<I: IntoIterator<Item = Duration>>(items: I) -> Duration {
    Duration { secs: items.into_iter().map(|d| d.secs).sum() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_zero_padded() {
        assert_eq!(Duration { secs: 5 * 3600 + 7 * 60 + 9 }.to_string(), "05:07:09");
        assert_eq!(Duration { secs: 0 }.to_string(), "00:00:00");
    }

    #[test]
    fn hours_can_exceed_a_day() {
        assert_eq!(Duration { secs: 100 * 3600 }.to_string(), "100:00:00");
    }

    #[test]
    fn timesheet_total() {
        let lines = ["1h30m", "45m", "2h5s"].map(|s| parse_duration(s).unwrap());
        assert_eq!(total(lines).to_string(), "04:15:05");
    }
}
