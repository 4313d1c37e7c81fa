//! A trigger made ready to answer "when next?": cron read in its zone, a fixed interval from an
//! anchor, or one time. Event triggers (file changes, webhooks, manual runs) have no times.

use crate::{ScheduleError, input};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use pryx_protocol::api::TaskTrigger;

/// When a task's trigger fires.
#[derive(Debug, Clone)]
pub enum Schedule {
    Cron {
        cron: Box<Cron>,
        tz: Tz,
        expr: String,
    },
    /// Every `period` after `anchor` (not at the anchor itself).
    Every {
        period: TimeDelta,
        anchor: DateTime<Utc>,
    },
    At(DateTime<Utc>),
    /// File changes, webhooks and manual runs: never by the clock.
    Event,
}

/// Parses a 5-field cron expression (or `@daily` …) the way cron reads it: no seconds or year
/// field; day of month and day of week OR-ed when both are restricted.
pub fn parse_cron(expr: &str) -> Result<Cron, ScheduleError> {
    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .dom_and_dow(false)
        .build();
    let err = |reason: String| ScheduleError::Cron {
        expr: expr.to_string(),
        reason,
    };
    let trimmed = expr.trim();
    if !trimmed.starts_with('@') {
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(err(format!(
                "it has {} fields; cron has 5: minute hour day-of-month month day-of-week \
                 (e.g. `0 */2 * * *`)",
                fields.len()
            )));
        }
        // Name the field that is wrong: each is tried alone, the others left open.
        const NAMES: [&str; 5] = ["minute", "hour", "day of month", "month", "day of week"];
        for (i, f) in fields.iter().enumerate() {
            let mut alone = ["*"; 5];
            alone[i] = f;
            if let Err(e) = parser.parse(&alone.join(" ")) {
                return Err(err(format!("field {} ({}) `{f}`: {e}", i + 1, NAMES[i])));
            }
        }
    }
    parser.parse(trimmed).map_err(|e| err(e.to_string()))
}

impl Schedule {
    /// `anchor` is where an interval counts from (when the task was created or resumed).
    pub fn new(trigger: &TaskTrigger, anchor: DateTime<Utc>) -> Result<Schedule, ScheduleError> {
        Ok(match trigger {
            TaskTrigger::Cron { expr, tz } => {
                let zone = input::parse_zone(tz.as_deref().unwrap_or("UTC"))?;
                let cron = parse_cron(expr)?;
                let s = Schedule::Cron {
                    cron: Box::new(cron),
                    tz: zone,
                    expr: expr.trim().to_string(),
                };
                if s.next_after(anchor).is_none() {
                    return Err(ScheduleError::Cron {
                        expr: expr.clone(),
                        reason: "no date ever matches it (e.g. the 30th of February)".into(),
                    });
                }
                s
            }
            TaskTrigger::Every { seconds } => {
                let secs = input::check_every(*seconds, &format!("{seconds}s"))?;
                Schedule::Every {
                    period: TimeDelta::seconds(i64::try_from(secs).unwrap_or(i64::MAX)),
                    anchor,
                }
            }
            TaskTrigger::At { at, tz } => {
                Schedule::At(input::parse_at(at, tz.as_deref().unwrap_or("UTC"))?)
            }
            TaskTrigger::FileChange { .. } | TaskTrigger::Webhook | TaskTrigger::Manual => {
                Schedule::Event
            }
        })
    }

    /// Whether the clock fires it.
    pub fn is_timed(&self) -> bool {
        !matches!(self, Schedule::Event)
    }

    /// The first time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron { cron, tz, .. } => cron
                .find_next_occurrence(&t.with_timezone(tz), false)
                .ok()
                .map(|n| n.with_timezone(&Utc)),
            Schedule::Every { period, anchor } => {
                let k = if t < *anchor {
                    1
                } else {
                    steps(*anchor, t, *period).checked_add(1)?
                };
                anchor.checked_add_signed(period.checked_mul(i32::try_from(k).ok()?)?)
            }
            Schedule::At(at) => (*at > t).then_some(*at),
            Schedule::Event => None,
        }
    }

    /// The last time at or before `t`.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron { cron, tz, .. } => cron
                .find_previous_occurrence(&t.with_timezone(tz), true)
                .ok()
                .map(|n| n.with_timezone(&Utc)),
            Schedule::Every { period, anchor } => {
                let k = steps(*anchor, t, *period);
                (t >= *anchor && k >= 1)
                    .then(|| anchor.checked_add_signed(period.checked_mul(i32::try_from(k).ok()?)?))
                    .flatten()
            }
            Schedule::At(at) => (*at <= t).then_some(*at),
            Schedule::Event => None,
        }
    }

    /// How many times fall in `(from, to]`, counting no further than `cap`.
    pub fn count_between(&self, from: DateTime<Utc>, to: DateTime<Utc>, cap: u64) -> u64 {
        if let Schedule::Every { period, anchor } = self {
            let upto = if to >= *anchor {
                steps(*anchor, to, *period)
            } else {
                0
            };
            let before = if from >= *anchor {
                steps(*anchor, from, *period)
            } else {
                0
            };
            return (upto - before).max(0).unsigned_abs().min(cap);
        }
        let mut n = 0;
        let mut t = from;
        while n < cap {
            match self.next_after(t) {
                Some(next) if next <= to => {
                    n += 1;
                    t = next;
                }
                _ => break,
            }
        }
        n
    }

    /// The trigger in words.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Cron { cron, tz, expr } => {
                format!("{} — `{expr}` ({})", cron.describe(), tz.name())
            }
            Schedule::Every { period, .. } => format!("every {}", words(*period)),
            Schedule::At(at) => format!("once at {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
            Schedule::Event => String::new(),
        }
    }
}

/// Whole periods from `anchor` to `t` (t ≥ anchor).
fn steps(anchor: DateTime<Utc>, t: DateTime<Utc>, period: TimeDelta) -> i64 {
    let p = period.num_milliseconds().max(1);
    (t - anchor).num_milliseconds().max(0) / p
}

fn words(d: TimeDelta) -> String {
    let mut s = d.num_seconds();
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= size {
            out.push_str(&format!("{}{unit}", s / size));
            s %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests;
