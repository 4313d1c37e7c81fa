//! Where a zone's clocks jump: the spring-forward gap between two instants and whether a cron
//! names a time in it, and the second instant of a repeated wall-clock time.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;

fn offset(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The first instant after the first spring-forward gap in `(t, n]`, if there is one.
pub(super) fn gap_between(tz: Tz, t: DateTime<Utc>, n: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // Offsets change at most a few times a year: look a day at a time, then narrow down.
    let mut a = t;
    while a < n {
        let b = (a + TimeDelta::days(1)).min(n);
        if offset(tz, b) > offset(tz, a) {
            let (mut lo, mut hi) = (a, b);
            while hi - lo > TimeDelta::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset(tz, mid) > offset(tz, a) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return Some(hi);
        }
        a = b;
    }
    None
}

/// Whether the cron names a wall-clock minute the gap that ends at `g` skipped.
pub(super) fn gap_names_a_time(cron: &Cron, tz: Tz, g: DateTime<Utc>) -> bool {
    let before = offset(tz, g - TimeDelta::seconds(1));
    let after = offset(tz, g);
    let end = g.naive_utc() + TimeDelta::seconds(i64::from(after));
    let start = end - TimeDelta::seconds(i64::from(after - before));
    let mut m = start;
    while m < end {
        // The cron matches on wall-clock fields: a UTC value with those fields asks it.
        if cron
            .is_time_matching(&Utc.from_utc_datetime(&m))
            .unwrap_or(false)
        {
            return true;
        }
        m += TimeDelta::minutes(1);
    }
    false
}

/// When `n` is the second instant of a wall-clock time the clocks repeat, the first one.
pub(super) fn second_of_repeated(tz: Tz, n: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let wall: NaiveDateTime = n.with_timezone(&tz).naive_local();
    match tz.from_local_datetime(&wall) {
        LocalResult::Ambiguous(first, second) if second.with_timezone(&Utc) == n => {
            Some(first.with_timezone(&Utc))
        }
        _ => None,
    }
}
