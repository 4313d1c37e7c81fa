//! Clock times of day in a zone: a heartbeat's active hours (`08:00-22:00`, or past midnight
//! `22:00-06:00`) and the latest occurrence of a daily time (`09:00`) — local times, so a day
//! with a clock change still has them where the wall clock says.

use crate::ScheduleError;
use chrono::{DateTime, Duration, LocalResult, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// `HH:MM` (24-hour).
pub fn parse_clock(input: &str) -> Result<NaiveTime, ScheduleError> {
    NaiveTime::parse_from_str(input.trim(), "%H:%M").map_err(|_| ScheduleError::At {
        input: input.to_string(),
        reason: "write a time of day as HH:MM (24-hour), e.g. 09:00".into(),
    })
}

/// A window of the day; `start == end` is the whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveHours {
    start: NaiveTime,
    end: NaiveTime,
}

impl ActiveHours {
    /// `HH:MM-HH:MM`.
    pub fn parse(input: &str) -> Result<ActiveHours, ScheduleError> {
        let (a, b) = input.split_once('-').ok_or_else(|| ScheduleError::At {
            input: input.to_string(),
            reason: "write active hours as HH:MM-HH:MM, e.g. 08:00-22:00".into(),
        })?;
        Ok(ActiveHours {
            start: parse_clock(a)?,
            end: parse_clock(b)?,
        })
    }

    /// Whether `t` falls inside, read on the wall clock of `tz` (start included, end not).
    pub fn contains(&self, t: DateTime<Utc>, tz: Tz) -> bool {
        let local = t.with_timezone(&tz).time();
        if self.start == self.end {
            true
        } else if self.start < self.end {
            local >= self.start && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

/// The latest moment at or before `now` when the wall clock of `tz` showed `at` (a time
/// skipped by a clock change counts at the change).
pub fn last_daily(at: NaiveTime, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    for days_back in 0..3 {
        let day = today - Duration::days(days_back);
        let when = match tz.from_local_datetime(&day.and_time(at)) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            // In a gap: the first valid minute after it.
            LocalResult::None => {
                match tz.from_local_datetime(&(day.and_time(at) + Duration::hours(1))) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                    LocalResult::None => continue,
                }
            }
        };
        if when <= now {
            return when;
        }
    }
    now - Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn hours_in_a_zone_and_past_midnight() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let day = ActiveHours::parse("08:00-22:00").unwrap();
        // 07:30 UTC is 08:30 in Berlin in winter.
        assert!(day.contains(utc("2026-12-02T07:30:00Z"), berlin));
        assert!(!day.contains(utc("2026-12-02T06:30:00Z"), berlin));
        assert!(
            !day.contains(utc("2026-12-02T21:00:00Z"), berlin),
            "22:00 is out"
        );
        let night = ActiveHours::parse("22:00-06:00").unwrap();
        assert!(night.contains(utc("2026-12-02T23:00:00Z"), chrono_tz::UTC));
        assert!(night.contains(utc("2026-12-02T05:59:00Z"), chrono_tz::UTC));
        assert!(!night.contains(utc("2026-12-02T12:00:00Z"), chrono_tz::UTC));
        assert!(
            ActiveHours::parse("00:00-00:00")
                .unwrap()
                .contains(utc("2026-12-02T12:00:00Z"), chrono_tz::UTC)
        );
        assert!(ActiveHours::parse("8-22").is_err());
        assert!(ActiveHours::parse("25:00-01:00").is_err());
    }

    #[test]
    fn the_latest_daily_time() {
        let at = parse_clock("09:00").unwrap();
        assert_eq!(
            last_daily(at, utc("2026-12-02T10:00:00Z"), chrono_tz::UTC),
            utc("2026-12-02T09:00:00Z")
        );
        assert_eq!(
            last_daily(at, utc("2026-12-02T08:59:00Z"), chrono_tz::UTC),
            utc("2026-12-01T09:00:00Z")
        );
        // 02:30 does not exist in Berlin on 2026-03-29: it counts at 03:30 local.
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            last_daily(
                parse_clock("02:30").unwrap(),
                utc("2026-03-29T12:00:00Z"),
                berlin
            ),
            utc("2026-03-29T01:30:00Z")
        );
    }
}
