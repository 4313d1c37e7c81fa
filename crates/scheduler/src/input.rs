//! What a user types for a trigger: intervals (`4h`, `1h30m`), times (`2026-12-01T09:00`), zones.

use crate::ScheduleError;
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The longest interval a task may have.
const MAX_EVERY_SECS: u64 = 365 * 24 * 3600;

/// `90`, `90s`, `15m`, `4h`, `1d`, `1w` or sums of them (`1h30m`) → seconds.
pub fn parse_every(input: &str) -> Result<u64, ScheduleError> {
    let err = |reason: &str| ScheduleError::Every {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let s = input.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Err(err("it is empty; write e.g. `30m`, `4h` or `1d`"));
    }
    if let Ok(n) = s.parse::<u64>() {
        return check_every(n, input);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => {
                return Err(err(&format!(
                    "unknown unit `{c}`: use s, m, h, d or w (e.g. `4h`, `1h30m`)"
                )));
            }
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| err(&format!("a number must come before `{c}`")))?;
        digits.clear();
        total = total.saturating_add(n.saturating_mul(unit));
    }
    if !digits.is_empty() {
        return Err(err("the last number has no unit (s, m, h, d or w)"));
    }
    check_every(total, input)
}

pub(crate) fn check_every(secs: u64, input: &str) -> Result<u64, ScheduleError> {
    let reason = if secs == 0 {
        "an interval of zero would run without pause; give at least 1s"
    } else if secs > MAX_EVERY_SECS {
        "it is longer than a year; use a cron expression or a one-shot time"
    } else {
        return Ok(secs);
    };
    Err(ScheduleError::Every {
        input: input.to_string(),
        reason: reason.to_string(),
    })
}

/// An IANA zone name (`Europe/Berlin`, `UTC`).
pub fn parse_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| ScheduleError::Zone(name.to_string()))
}

/// The machine's zone: `TZ` when it names one, else the system's setting, else UTC.
pub fn local_zone() -> String {
    if let Ok(tz) = std::env::var("TZ")
        && let Ok(z) = parse_zone(tz.trim_start_matches(':'))
    {
        return z.name().to_string();
    }
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|n| parse_zone(&n).ok())
        .map(|z| z.name().to_string())
        .unwrap_or_else(|| "UTC".to_string())
}

/// A one-shot time: RFC 3339 (`2026-12-01T09:00:00Z`, with any offset), or a local
/// `YYYY-MM-DDTHH:MM[:SS]` (a space may replace the `T`) read in `zone`. A local time the
/// clocks skip (a DST gap) is refused; one they pass twice means the first.
pub fn parse_at(input: &str, zone: &str) -> Result<DateTime<Utc>, ScheduleError> {
    let s = input.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let tz = parse_zone(zone)?;
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .ok_or_else(|| ScheduleError::At {
        input: input.to_string(),
        reason: "write it as `2026-12-01T09:00` (local, in the task's zone) or RFC 3339 \
                     (`2026-12-01T09:00:00+01:00`)"
            .to_string(),
    })?;
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(ScheduleError::At {
            input: input.to_string(),
            reason: format!("that local time does not exist in {zone} (the clocks skip it)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_every("90").unwrap(), 90);
        assert_eq!(parse_every("4h").unwrap(), 14_400);
        assert_eq!(parse_every("1h30m").unwrap(), 5400);
        assert_eq!(parse_every(" 2D ").unwrap(), 172_800);
        for bad in ["", "0", "0s", "4x", "h", "4h3", "9999w"] {
            let e = parse_every(bad).unwrap_err();
            assert!(matches!(e, ScheduleError::Every { .. }), "{bad}: {e}");
        }
        assert!(parse_every("0m").unwrap_err().to_string().contains("zero"));
    }

    #[test]
    fn times() {
        let t = parse_at("2026-12-01T09:00:00+01:00", "UTC").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T08:00:00+00:00");
        let t = parse_at("2026-12-01T09:00", "Europe/Berlin").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T08:00:00+00:00");
        let t = parse_at("2026-07-01 09:00", "Europe/Berlin").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T07:00:00+00:00");
        // 02:30 on the last Sunday of March does not exist in Berlin.
        let e = parse_at("2026-03-29T02:30", "Europe/Berlin").unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        // 02:30 on the last Sunday of October happens twice: the first one.
        let t = parse_at("2026-10-25T02:30", "Europe/Berlin").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert!(matches!(
            parse_at("tomorrow", "UTC"),
            Err(ScheduleError::At { .. })
        ));
        assert!(matches!(
            parse_at("2026-12-01T09:00", "Mars/Olympus"),
            Err(ScheduleError::Zone(_))
        ));
    }
}
