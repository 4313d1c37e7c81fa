use super::*;
use pryx_protocol::api::TaskTrigger;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn hourly() -> Schedule {
    let t = TaskTrigger::Cron {
        expr: "0 * * * *".into(),
        tz: None,
    };
    Schedule::new(&t, utc("2026-01-01T00:00:00Z")).unwrap()
}

#[test]
fn on_time_runs_its_slot_under_every_policy() {
    let s = hourly();
    let due = utc("2026-03-01T10:00:00Z");
    let now = utc("2026-03-01T10:00:00.020Z");
    for policy in [CatchUp::Skip, CatchUp::RunOnce, CatchUp::RunAll] {
        let p = plan(&s, due, now, policy);
        assert_eq!(p.run, Some((due, RunReason::Schedule)), "{policy:?}");
        assert_eq!(p.skipped, 0);
        assert_eq!(p.next, Some(utc("2026-03-01T11:00:00Z")));
    }
}

#[test]
fn not_due_yet_changes_nothing() {
    let due = utc("2026-03-01T10:00:00Z");
    let p = plan(
        &hourly(),
        due,
        utc("2026-03-01T09:59:59Z"),
        CatchUp::RunOnce,
    );
    assert_eq!((p.run, p.next), (None, Some(due)));
}

/// Down from 10:00 on the 1st to 10:30 on the 4th: 73 hourly slots missed (10:00 … 10:00).
#[test]
fn after_three_days_down() {
    let s = hourly();
    let due = utc("2026-03-01T10:00:00Z");
    let now = utc("2026-03-04T10:30:00Z");
    let next = Some(utc("2026-03-04T11:00:00Z"));

    let p = plan(&s, due, now, CatchUp::Skip);
    assert_eq!((p.run, p.skipped, p.next), (None, 73, next));

    let p = plan(&s, due, now, CatchUp::RunOnce);
    assert_eq!(
        p.run,
        Some((utc("2026-03-04T10:00:00Z"), RunReason::CatchUp))
    );
    assert_eq!((p.skipped, p.next), (72, next));

    // run-all: the last 10 slots, oldest first; each run's end makes the next one due.
    let p = plan(&s, due, now, CatchUp::RunAll);
    assert_eq!(
        p.run,
        Some((utc("2026-03-04T01:00:00Z"), RunReason::CatchUp))
    );
    assert_eq!(p.skipped, 63);
    assert_eq!(p.next, Some(utc("2026-03-04T02:00:00Z")));
    let mut ran = vec![p.run.unwrap().0];
    let mut due = p.next.unwrap();
    loop {
        let p = plan(&s, due, now, CatchUp::RunAll);
        ran.push(p.run.unwrap().0);
        assert_eq!(p.skipped, 0);
        match p.next {
            Some(n) if n <= now => due = n,
            n => {
                assert_eq!(n, next);
                break;
            }
        }
    }
    assert_eq!(ran.len(), 10);
    assert_eq!(ran.last(), Some(&utc("2026-03-04T10:00:00Z")));
}

#[test]
fn a_machine_asleep_through_many_slots_runs_once_under_run_once() {
    let anchor = utc("2026-03-01T00:00:00Z");
    let s = Schedule::new(&TaskTrigger::Every { seconds: 60 }, anchor).unwrap();
    let due = utc("2026-03-01T00:01:00Z");
    let now = utc("2026-03-01T08:00:30Z");
    let p = plan(&s, due, now, CatchUp::RunOnce);
    assert_eq!(
        p.run,
        Some((utc("2026-03-01T08:00:00Z"), RunReason::Schedule))
    );
    assert_eq!(p.skipped, 479);
    assert_eq!(p.next, Some(utc("2026-03-01T08:01:00Z")));
}

#[test]
fn a_missed_one_shot() {
    let at = TaskTrigger::At {
        at: "2026-03-01T09:00:00Z".into(),
        tz: None,
    };
    let s = Schedule::new(&at, utc("2026-01-01T00:00:00Z")).unwrap();
    let due = utc("2026-03-01T09:00:00Z");
    let now = utc("2026-03-02T09:00:00Z");
    assert_eq!(plan(&s, due, now, CatchUp::Skip).run, None);
    let p = plan(&s, due, now, CatchUp::RunOnce);
    assert_eq!(p.run, Some((due, RunReason::CatchUp)));
    assert_eq!(p.next, None);
}
