use super::*;
use chrono::TimeZone;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn cron(expr: &str, tz: &str) -> Schedule {
    let t = TaskTrigger::Cron {
        expr: expr.into(),
        tz: Some(tz.into()),
    };
    Schedule::new(&t, utc("2026-01-01T00:00:00Z")).unwrap()
}

/// The next `n` times after `from`, as RFC 3339 UTC.
fn next_n(s: &Schedule, from: &str, n: usize) -> Vec<String> {
    let mut t = utc(from);
    (0..n)
        .map(|_| {
            t = s.next_after(t).unwrap();
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
        .collect()
}

#[test]
fn day_of_month_and_day_of_week_are_ored_like_cron() {
    // The 13th, and every Friday: 2026-03-06 is a Friday, the 13th is a Friday too.
    let s = cron("0 12 13 * 5", "UTC");
    assert_eq!(
        next_n(&s, "2026-03-01T00:00:00Z", 4),
        [
            "2026-03-06T12:00:00Z",
            "2026-03-13T12:00:00Z",
            "2026-03-20T12:00:00Z",
            "2026-03-27T12:00:00Z"
        ]
    );
    // Only one of them restricted: that one alone counts.
    let s = cron("0 0 * * 1", "UTC");
    assert_eq!(
        next_n(&s, "2026-03-01T00:00:00Z", 1),
        ["2026-03-02T00:00:00Z"]
    );
}

#[test]
fn nicknames_steps_ranges_lists() {
    assert_eq!(
        next_n(&cron("@hourly", "UTC"), "2026-03-01T10:30:00Z", 2),
        ["2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"]
    );
    assert_eq!(
        next_n(&cron("*/20 9-10 * * *", "UTC"), "2026-03-01T10:30:00Z", 3),
        [
            "2026-03-01T10:40:00Z",
            "2026-03-02T09:00:00Z",
            "2026-03-02T09:20:00Z"
        ]
    );
    assert_eq!(
        next_n(&cron("5,10 0 1 1,7 *", "UTC"), "2026-03-01T00:00:00Z", 2),
        ["2026-07-01T00:05:00Z", "2026-07-01T00:10:00Z"]
    );
}

#[test]
fn bad_cron_says_which_field_is_wrong() {
    let e = parse_cron("0 25 * * *").unwrap_err().to_string();
    assert!(e.contains("field 2 (hour) `25`"), "{e}");
    let e = parse_cron("0 * * *").unwrap_err().to_string();
    assert!(e.contains("it has 4 fields"), "{e}");
    let e = parse_cron("0 0 * * * *").unwrap_err().to_string();
    assert!(e.contains("it has 6 fields"), "{e}");
    let e = parse_cron("0 0 x * *").unwrap_err().to_string();
    assert!(e.contains("field 3 (day of month)"), "{e}");
    let never = TaskTrigger::Cron {
        expr: "0 0 30 2 *".into(),
        tz: None,
    };
    let e = Schedule::new(&never, Utc::now()).unwrap_err().to_string();
    assert!(e.contains("no date ever matches"), "{e}");
    let zone = TaskTrigger::Cron {
        expr: "0 0 * * *".into(),
        tz: Some("Europe/Nowhere".into()),
    };
    assert!(matches!(
        Schedule::new(&zone, Utc::now()),
        Err(ScheduleError::Zone(_))
    ));
}

#[test]
fn a_skipped_local_hour_runs_once_and_a_repeated_one_once() {
    // Berlin springs forward at 02:00 on 2026-03-29 (02:00–03:00 does not exist).
    let s = cron("30 2 * * *", "Europe/Berlin");
    assert_eq!(
        next_n(&s, "2026-03-27T12:00:00Z", 4),
        [
            "2026-03-28T01:30:00Z",
            // The gap: the first real instant after it (03:00 CEST), once.
            "2026-03-29T01:00:00Z",
            "2026-03-30T00:30:00Z",
            "2026-03-31T00:30:00Z"
        ]
    );
    // It falls back at 03:00 on 2026-10-25 (02:00–03:00 happens twice): once, the first.
    assert_eq!(
        next_n(&s, "2026-10-23T12:00:00Z", 3),
        [
            "2026-10-24T00:30:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-26T01:30:00Z"
        ]
    );
    // New York: 2026-03-08 02:00 → 03:00, 2026-11-01 02:00 → 01:00.
    let s = cron("15 2 * * *", "America/New_York");
    assert_eq!(
        next_n(&s, "2026-03-07T12:00:00Z", 2),
        ["2026-03-08T07:00:00Z", "2026-03-09T06:15:00Z"]
    );
    let s = cron("30 1 * * *", "America/New_York");
    assert_eq!(
        next_n(&s, "2026-10-31T12:00:00Z", 2),
        ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"]
    );
}

#[test]
fn a_set_time_the_clocks_skip_or_repeat_runs_once_whatever_its_fields() {
    // Lists are set times too (Vixie cron's rule): 02:30 is skipped in Berlin on 2026-03-29,
    // so it runs at 03:00 CEST, once, and 14:30 stays.
    let s = cron("30 2,14 * * *", "Europe/Berlin");
    assert_eq!(
        next_n(&s, "2026-03-28T14:00:00Z", 4),
        [
            "2026-03-29T01:00:00Z",
            "2026-03-29T12:30:00Z",
            "2026-03-30T00:30:00Z",
            "2026-03-30T12:30:00Z"
        ]
    );
    // 02:30 happens twice on 2026-10-25: the first only.
    assert_eq!(
        next_n(&s, "2026-10-24T14:00:00Z", 3),
        [
            "2026-10-25T00:30:00Z",
            "2026-10-25T13:30:00Z",
            "2026-10-26T01:30:00Z"
        ]
    );
    // The walk back agrees with the walk forward around both.
    for (t, last) in [
        ("2026-03-29T01:30:00Z", "2026-03-29T01:00:00Z"),
        ("2026-10-25T01:45:00Z", "2026-10-25T00:30:00Z"),
    ] {
        assert_eq!(s.last_at_or_before(utc(t)), Some(utc(last)), "{t}");
    }
    // An interval job follows the clock: every quarter hour of 02:xx, none that day.
    let s = cron("*/15 2 * * *", "Europe/Berlin");
    assert_eq!(
        next_n(&s, "2026-03-28T00:50:00Z", 5),
        [
            "2026-03-28T01:00:00Z",
            "2026-03-28T01:15:00Z",
            "2026-03-28T01:30:00Z",
            "2026-03-28T01:45:00Z",
            "2026-03-30T00:00:00Z"
        ]
    );
}

#[test]
fn intervals_count_from_their_anchor() {
    let anchor = utc("2026-03-01T10:00:00Z");
    let s = Schedule::new(&TaskTrigger::Every { seconds: 4 * 3600 }, anchor).unwrap();
    assert_eq!(s.next_after(anchor), Some(utc("2026-03-01T14:00:00Z")));
    assert_eq!(
        s.next_after(utc("2026-03-01T14:00:00Z")),
        Some(utc("2026-03-01T18:00:00Z"))
    );
    assert_eq!(
        s.next_after(utc("2026-02-01T00:00:00Z")),
        Some(utc("2026-03-01T14:00:00Z"))
    );
    assert_eq!(s.last_at_or_before(utc("2026-03-01T13:59:59Z")), None);
    assert_eq!(
        s.last_at_or_before(utc("2026-03-02T01:00:00Z")),
        Some(utc("2026-03-01T22:00:00Z"))
    );
    assert_eq!(
        s.count_between(anchor, utc("2026-03-04T10:00:00Z"), u64::MAX),
        18
    );
    assert_eq!(s.describe(), "every 4h");
    assert!(matches!(
        Schedule::new(&TaskTrigger::Every { seconds: 0 }, anchor),
        Err(ScheduleError::Every { .. })
    ));
}

#[test]
fn one_shot_and_event_triggers() {
    let at = TaskTrigger::At {
        at: "2026-12-01T09:00".into(),
        tz: Some("Europe/Berlin".into()),
    };
    let s = Schedule::new(&at, Utc::now()).unwrap();
    let when = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    assert_eq!(s.next_after(when - TimeDelta::seconds(1)), Some(when));
    assert_eq!(s.next_after(when), None);
    assert_eq!(s.last_at_or_before(when), Some(when));
    for t in [TaskTrigger::Manual, TaskTrigger::Webhook] {
        let s = Schedule::new(&t, Utc::now()).unwrap();
        assert!(!s.is_timed());
        assert_eq!(s.next_after(Utc::now()), None);
    }
}
