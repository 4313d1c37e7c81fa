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
        /// Minute and hour are both without `*` (`30 2`, `0,30 9-17`): a job at set times of
        /// day, which runs once when DST skips or repeats its time (like Vixie cron), where an
        /// interval job (`*/15 2`, `0 *`) just follows the clock.
        fixed: bool,
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
                    fixed: is_fixed(&cron),
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
            Schedule::Cron {
                cron, tz, fixed, ..
            } => {
                let next = |after: DateTime<Utc>| {
                    cron.find_next_occurrence(&after.with_timezone(tz), false)
                        .ok()
                        .map(|n| n.with_timezone(&Utc))
                };
                let mut n = next(t)?;
                if !fixed {
                    return Some(n);
                }
                // A set time the clocks skipped runs once, at the first instant after the gap.
                if let Some(g) = dst::gap_between(*tz, t, n)
                    && dst::gap_names_a_time(cron, *tz, g)
                {
                    return Some(g);
                }
                // A set time the clocks repeat runs at the first of its two instants only.
                while dst::second_of_repeated(*tz, n).is_some_and(|first| first <= t) {
                    n = next(n)?;
                }
                Some(n)
            }
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
            Schedule::Cron {
                fixed: false,
                cron,
                tz,
                ..
            } => cron
                .find_previous_occurrence(&t.with_timezone(tz), true)
                .ok()
                .map(|n| n.with_timezone(&Utc)),
            // The times `next_after` gives (DST moves some of a fixed job's): walked from a
            // run a few hours before `t`.
            Schedule::Cron { cron, tz, .. } => {
                let start = cron
                    .find_previous_occurrence(&(t - TimeDelta::hours(3)).with_timezone(tz), true)
                    .ok()?
                    .with_timezone(&Utc);
                let mut cur = start - TimeDelta::seconds(1);
                let mut last = None;
                while let Some(n) = self.next_after(cur) {
                    if n > t {
                        break;
                    }
                    last = Some(n);
                    cur = n;
                }
                last
            }
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
            Schedule::Cron { cron, tz, expr, .. } => {
                let words = cron.describe();
                format!("{} — `{expr}` ({})", words.trim_end_matches('.'), tz.name())
            }
            Schedule::Every { period, .. } => format!("every {}", words(*period)),
            Schedule::At(at) => format!("once at {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
            Schedule::Event => String::new(),
        }
    }
}

/// Minute and hour fields both without a wildcard.
fn is_fixed(cron: &Cron) -> bool {
    let text = cron.pattern.to_string();
    let fields: Vec<&str> = text.split_whitespace().collect();
    // croner's pattern text may lead with seconds; the minute and hour are the two fields
    // before the last three.
    fields.len() >= 5 && {
        let n = fields.len();
        !fields[n - 5].contains('*') && !fields[n - 4].contains('*')
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

mod dst;
#[cfg(test)]
mod tests;
