#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Differential test of the cron arithmetic against an independent implementation, Python's
//! `croniter`: seeded random 5-field expressions (`*`, values, ranges, `*/n`, `a-b/n`, lists
//! mixing them, month and weekday names, weekday 7 for Sunday, the `@` nicknames, and both day
//! fields restricted, which cron OR-s), each from several start times, compared on the next
//! [`OCCURRENCES`] runs. In UTC every answer must agree; in Europe/Berlin and America/New_York,
//! from start times shortly before (or inside) a DST change, every answer must agree except in
//! the two cases where the two implementations define different behaviour on purpose
//! ([`Exclusion`]), which are counted and reported.
//!
//! croniter runs in one Python process for the whole test, the queries batched as JSON over its
//! stdin. `PRYX_CRONITER_PYTHON` names the interpreter (scripts/croniter.sh makes a venv with
//! croniter and sets it); without it the test says SKIPPED and why, and checks nothing.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use pryx_protocol::api::TaskTrigger;
use pryx_scheduler::Schedule;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

const SEED: u64 = 0x5EED_C0DE_2026_0001;
/// Distinct expressions compared.
const EXPRESSIONS: usize = 1_000;
/// Start times per expression in UTC.
const UTC_STARTS: usize = 3;
/// Start times per expression in each zone, each near one of its DST changes.
const ZONE_STARTS: usize = 2;
/// Runs compared from each start time.
const OCCURRENCES: usize = 5;
const ZONES: [&str; 2] = ["Europe/Berlin", "America/New_York"];

/// croniter's side: one answer per query, in order. A time is Unix seconds; a query croniter
/// cannot answer gives its error instead, which fails the test like any disagreement.
const CRONITER_PY: &str = r#"
import json, sys
from datetime import datetime
from importlib.metadata import version
from zoneinfo import ZoneInfo
from croniter import croniter

zones = {}
answers = []
for expr, tz, start, n in json.load(sys.stdin):
    zone = zones.setdefault(tz, ZoneInfo(tz))
    try:
        it = croniter(expr, datetime.fromtimestamp(start, zone), day_or=True)
        times = []
        for _ in range(n):
            t = it.get_next(float)
            if t != int(t):
                raise ValueError(f"not a whole second: {t}")
            times.append(int(t))
        answers.append({"t": times})
    except Exception as e:
        answers.append({"e": f"{type(e).__name__}: {e}"})
json.dump({"version": version("croniter"), "answers": answers}, sys.stdout)
"#;

/// SplitMix64: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo + 1).unwrap())).unwrap()
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Minute,
    Hour,
    Dom,
    Month,
    Dow,
}

impl Kind {
    fn bounds(self) -> (u32, u32) {
        match self {
            Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::Dom => (1, 31),
            Kind::Month => (1, 12),
            // 7 is Sunday too: both implementations accept it.
            Kind::Dow => (0, 7),
        }
    }
    fn bit(self, v: u32) -> u64 {
        1 << if self == Kind::Dow && v == 7 { 0 } else { v }
    }
    fn full(self) -> u64 {
        let (lo, hi) = self.bounds();
        (lo..=hi).fold(0, |s, v| s | self.bit(v))
    }
}

/// One field: its text and the values it matches (a bit per value; weekday 7 is bit 0).
#[derive(Clone)]
struct Field {
    text: String,
    set: u64,
}

impl Field {
    fn star(kind: Kind) -> Field {
        Field {
            text: "*".into(),
            set: kind.full(),
        }
    }
    fn value(kind: Kind, v: u32) -> Field {
        Field {
            text: v.to_string(),
            set: kind.bit(v),
        }
    }
    fn has(&self, v: u32) -> bool {
        self.set >> v & 1 == 1
    }
    fn is_star(&self) -> bool {
        self.text == "*"
    }
}

struct Expr {
    text: String,
    minute: Field,
    hour: Field,
    dom: Field,
    month: Field,
    dow: Field,
}

impl Expr {
    fn from_fields(minute: Field, hour: Field, dom: Field, month: Field, dow: Field) -> Expr {
        let text = [&minute, &hour, &dom, &month, &dow]
            .map(|f| f.text.as_str())
            .join(" ");
        Expr {
            text,
            minute,
            hour,
            dom,
            month,
            dow,
        }
    }

    /// Cron's day rule: when both day fields are restricted, either may match.
    fn matches_day(&self, d: NaiveDate) -> bool {
        if !self.month.has(d.month()) {
            return false;
        }
        let dom = self.dom.has(d.day());
        let dow = self.dow.has(d.weekday().num_days_from_sunday());
        if self.dom.is_star() || self.dow.is_star() {
            dom && dow
        } else {
            dom || dow
        }
    }

    fn matches(&self, t: NaiveDateTime) -> bool {
        self.matches_day(t.date()) && self.hour.has(t.hour()) && self.minute.has(t.minute())
    }

    /// Minute and hour both without `*`: what Vixie cron (and pryx) calls a fixed-time job,
    /// as opposed to an interval or wildcard job.
    fn fixed_time(&self) -> bool {
        !self.minute.text.contains('*') && !self.hour.text.contains('*')
    }

    /// Some date ever matches (not e.g. the 30th of February alone).
    fn possible(&self) -> bool {
        const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let ored = !self.dom.is_star() && !self.dow.is_star();
        (1..=12u32).any(|m| {
            self.month.has(m) && (ored || (1..=DAYS[m as usize - 1]).any(|d| self.dom.has(d)))
        })
    }

    /// croniter rewrites a day field that lists every day to `*` when the other day field's
    /// text contains a `*` (`1-31` with `*/2`, `*/2` with `0-6`), and so takes the other
    /// field alone where cron (and croner) OR the two: the two define different schedules, so
    /// such expressions are set aside (counted), not compared.
    fn croniter_rewrites_a_day_field(&self) -> bool {
        let full_dom = self.dom.set == Kind::Dom.full() && !self.dom.is_star();
        let full_dow = self.dow.set == Kind::Dow.full() && !self.dow.is_star();
        (full_dom && self.dow.text.contains('*') && !self.dow.is_star())
            || (full_dow && self.dom.text.contains('*') && !self.dom.is_star())
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A value as written: a number, or sometimes a month or weekday name in some case.
fn render(rng: &mut Rng, kind: Kind, v: u32) -> String {
    let name = match kind {
        Kind::Month => Some(MONTHS[v as usize - 1]),
        Kind::Dow if v < 7 => Some(WEEKDAYS[v as usize]),
        _ => None,
    };
    match name {
        Some(n) if rng.chance(20) => match rng.below(3) {
            0 => n.to_string(),
            1 => n.to_ascii_uppercase(),
            _ => n[..1].to_ascii_uppercase() + &n[1..],
        },
        _ => v.to_string(),
    }
}

/// One list item: a value, a range `a-b` (a < b: croniter reads `a-a` as the whole cycle), a
/// step `*/n` or a stepped range `a-b/n`.
fn item(rng: &mut Rng, kind: Kind) -> (String, u64) {
    let (lo, hi) = kind.bounds();
    // Values, ranges and stepped ranges in the hours DST changes in Berlin and New York, more
    // often (`*/n` keeps its meaning: the whole range).
    let top = if kind == Kind::Hour && rng.chance(40) {
        4
    } else {
        hi
    };
    let (lo64, hi64) = (i64::from(lo), i64::from(top));
    let pick = |rng: &mut Rng, a: i64, b: i64| u32::try_from(rng.between(a, b)).unwrap();
    let stepped = |from: u32, to: u32, step: u32| {
        (from..=to)
            .step_by(step as usize)
            .fold(0, |s, v| s | kind.bit(v))
    };
    match rng.below(100) {
        0..40 => {
            let v = pick(rng, lo64, hi64);
            (render(rng, kind, v), kind.bit(v))
        }
        40..65 => {
            let a = pick(rng, lo64, hi64 - 1);
            let b = pick(rng, i64::from(a) + 1, hi64);
            let text = format!("{}-{}", render(rng, kind, a), render(rng, kind, b));
            (text, stepped(a, b, 1))
        }
        65..82 => {
            let n = pick(rng, 1, i64::from(hi - lo));
            (format!("*/{n}"), stepped(lo, hi, n))
        }
        _ => {
            let a = pick(rng, lo64, hi64 - 1);
            let b = pick(rng, i64::from(a) + 1, hi64);
            let n = pick(rng, 1, i64::from(b - a));
            let text = format!("{}-{}/{n}", render(rng, kind, a), render(rng, kind, b));
            (text, stepped(a, b, n))
        }
    }
}

fn field(rng: &mut Rng, kind: Kind, may_be_star: bool) -> Field {
    let star_percent = match kind {
        Kind::Minute => 10,
        Kind::Hour => 25,
        Kind::Dom => 55,
        Kind::Month => 65,
        Kind::Dow => 55,
    };
    if may_be_star && rng.chance(star_percent) {
        return Field::star(kind);
    }
    let items = if rng.chance(20) { 2 + rng.below(2) } else { 1 };
    let mut texts = Vec::new();
    let mut set = 0;
    for _ in 0..items {
        let (t, s) = item(rng, kind);
        texts.push(t);
        set |= s;
    }
    Field {
        text: texts.join(","),
        set,
    }
}

/// The nicknames both implementations know, with what they stand for.
fn nickname(rng: &mut Rng) -> Expr {
    use Kind::*;
    let (name, dom, month, dow, hour) = match rng.below(6) {
        0 => (
            "@hourly",
            Field::star(Dom),
            Field::star(Month),
            Field::star(Dow),
            false,
        ),
        1 => (
            "@daily",
            Field::star(Dom),
            Field::star(Month),
            Field::star(Dow),
            true,
        ),
        2 => (
            "@weekly",
            Field::star(Dom),
            Field::star(Month),
            Field::value(Dow, 0),
            true,
        ),
        3 => (
            "@monthly",
            Field::value(Dom, 1),
            Field::star(Month),
            Field::star(Dow),
            true,
        ),
        4 => (
            "@yearly",
            Field::value(Dom, 1),
            Field::value(Month, 1),
            Field::star(Dow),
            true,
        ),
        _ => (
            "@annually",
            Field::value(Dom, 1),
            Field::value(Month, 1),
            Field::star(Dow),
            true,
        ),
    };
    let hour = if hour {
        Field::value(Hour, 0)
    } else {
        Field::star(Hour)
    };
    let mut e = Expr::from_fields(Field::value(Minute, 0), hour, dom, month, dow);
    e.text = name.into();
    e
}

/// The expressions, and how many generated ones were set aside because croniter rewrites a
/// day field (see [`Expr::croniter_rewrites_a_day_field`]).
fn expressions(rng: &mut Rng) -> (Vec<Expr>, usize) {
    let mut out: Vec<Expr> = Vec::new();
    let mut set_aside = 0;
    while out.len() < EXPRESSIONS {
        let e = if rng.chance(4) {
            nickname(rng)
        } else {
            // A quarter with both day fields restricted, so OR-ing them is well covered.
            let both_days = rng.chance(25);
            Expr::from_fields(
                field(rng, Kind::Minute, true),
                field(rng, Kind::Hour, true),
                field(rng, Kind::Dom, !both_days),
                field(rng, Kind::Month, true),
                field(rng, Kind::Dow, !both_days),
            )
        };
        if !e.possible() || out.iter().any(|o| o.text == e.text) {
            continue;
        }
        if e.croniter_rewrites_a_day_field() {
            set_aside += 1;
            continue;
        }
        out.push(e);
    }
    (out, set_aside)
}

/// A change of a zone's UTC offset: at `at` (Unix seconds) from `before` to `after` seconds.
#[derive(Clone, Copy)]
struct Transition {
    at: i64,
    before: i64,
    after: i64,
}

fn offset(tz: Tz, t: i64) -> i64 {
    let utc = DateTime::from_timestamp(t, 0).unwrap().naive_utc();
    i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc())
}

/// Every offset change of `tz` in `[from_year, to_year)`.
fn transitions(tz: Tz, from_year: i32, to_year: i32) -> Vec<Transition> {
    let ts = |y| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap().timestamp();
    let (mut t, end) = (ts(from_year), ts(to_year));
    let mut out = Vec::new();
    let mut prev = offset(tz, t);
    while t < end {
        let next = t + 86_400;
        let o = offset(tz, next);
        if o != prev {
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset(tz, mid) == prev {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(Transition {
                at: hi,
                before: prev,
                after: o,
            });
        }
        (t, prev) = (next, o);
    }
    out
}

/// The two DST cases where pryx and croniter define different behaviour on purpose.
/// A zone query is excluded when one of them falls between its start and the later of the two
/// implementations' last compared run; every other zone query must agree exactly.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Exclusion {
    /// Spring forward: the expression names a wall-clock time in the skipped hour of that day
    /// but not the first one after it (03:00), it is an interval job (its minute or hour field
    /// has a `*`) and its hour field does not cover all 24 hours (e.g. `*/15 2 * * *`,
    /// `* 1-2 * * *`). pryx, like Vixie cron, skips an interval job's nonexistent times;
    /// croniter moves the first of them to the end of the gap whenever the hour field is
    /// restricted. Compared, because both define the same: a fixed-time job (minute and hour
    /// without `*`, e.g. `30 2,14 * * *`: it runs once, at the first instant after the gap),
    /// an hour field covering every hour (the times are skipped), and a job that names 03:00
    /// as well (croniter's moved run is that same instant).
    GapIntervalJob,
    /// Fall back: the expression is a fixed-time job whose time of day falls in the repeated
    /// hour of that day (e.g. `30 2 * * *` or `30 2,14 * * *` in Berlin, `30 1 * * *` in New
    /// York). pryx, like
    /// Vixie cron, runs it once, at the first of the two instants; croniter runs it at both.
    /// Compared, because both define the same: interval and wildcard jobs, which run at both.
    OverlapFixedTime,
}

impl Exclusion {
    fn words(self) -> &'static str {
        match self {
            Exclusion::GapIntervalJob => {
                "spring-forward gap, interval job with a restricted hour field \
                 (pryx skips the nonexistent times, croniter runs at the gap's end)"
            }
            Exclusion::OverlapFixedTime => {
                "fall-back overlap, fixed-time job (pryx runs once, croniter twice)"
            }
        }
    }
}

/// The wall-clock minutes `[from, to)` (local seconds since the epoch) that the expression names.
fn names_a_minute_in(e: &Expr, from: i64, to: i64) -> bool {
    (from..to)
        .step_by(60)
        .any(|s| e.matches(DateTime::from_timestamp(s, 0).unwrap().naive_utc()))
}

#[derive(Clone, Copy, PartialEq)]
enum Touch {
    /// A wall-clock time the expression names does not exist that day; whether it also names
    /// the first wall-clock time after the gap.
    Gap { end_named: bool },
    /// A wall-clock time the expression names happens twice that day.
    Overlap,
}

/// The DST changes met by a query's runs (from `start` to `last`, the later of the two
/// implementations' last runs) at which the expression names a skipped or repeated time.
fn touches(e: &Expr, transitions: &[Transition], start: i64, last: i64) -> Vec<Touch> {
    transitions
        .iter()
        .filter_map(|tr| {
            let shift = (tr.after - tr.before).abs();
            if tr.after > tr.before {
                // The skipped wall clock: [at + before, at + after) local.
                (start < tr.at
                    && tr.at <= last
                    && names_a_minute_in(e, tr.at + tr.before, tr.at + tr.after))
                .then(|| Touch::Gap {
                    end_named: names_a_minute_in(e, tr.at + tr.after, tr.at + tr.after + 60),
                })
            } else {
                // The repeated wall clock [at + after, at + before) local is the instants
                // [at - shift, at + shift).
                (start < tr.at + shift
                    && tr.at - shift <= last
                    && names_a_minute_in(e, tr.at + tr.after, tr.at + tr.before))
                .then_some(Touch::Overlap)
            }
        })
        .collect()
}

/// Why a zone query is not compared, if it is not.
fn exclusion(e: &Expr, touched: &[Touch]) -> Option<Exclusion> {
    touched.iter().find_map(|t| match t {
        Touch::Gap { end_named: false } if !e.fixed_time() && e.hour.set != Kind::Hour.full() => {
            Some(Exclusion::GapIntervalJob)
        }
        Touch::Overlap if e.fixed_time() => Some(Exclusion::OverlapFixedTime),
        _ => None,
    })
}

/// Whether a query's runs cross an offset change (to show the zone runs really cover DST).
fn crosses(transitions: &[Transition], start: i64, last: i64) -> bool {
    transitions.iter().any(|t| start < t.at && t.at <= last)
}

struct Query {
    expr: usize,
    zone: &'static str,
    start: i64,
}

fn utc_starts(rng: &mut Rng) -> Vec<i64> {
    let from = Utc
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    let to = Utc
        .with_ymd_and_hms(2036, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (0..UTC_STARTS)
        .map(|_| {
            let t = rng.between(from, to - 1);
            if rng.chance(50) { t - t % 60 } else { t }
        })
        .collect()
}

/// Starts near a DST change: minutes to hours before (or just after, inside a repeated
/// hour), days before, or weeks before (so monthly schedules cross it too).
fn zone_starts(rng: &mut Rng, near: &[Transition]) -> Vec<i64> {
    (0..ZONE_STARTS)
        .map(|_| {
            let tr = near[usize::try_from(rng.below(near.len() as u64)).unwrap()];
            let t = tr.at
                + match rng.below(100) {
                    0..40 => rng.between(-3 * 3600, 2 * 3600),
                    40..75 => rng.between(-3 * 86_400, 0),
                    _ => rng.between(-45 * 86_400, 0),
                };
            if rng.chance(50) { t - t % 60 } else { t }
        })
        .collect()
}

fn pryx_schedule(expr: &str, zone: &str) -> Result<Schedule, String> {
    let trigger = TaskTrigger::Cron {
        expr: expr.into(),
        tz: Some(zone.into()),
    };
    Schedule::new(&trigger, Utc::now()).map_err(|e| e.to_string())
}

/// pryx's next runs.
fn pryx(schedule: &Result<Schedule, String>, start: i64) -> Result<Vec<i64>, String> {
    let s = schedule.as_ref().map_err(|e| e.clone())?;
    let mut t = DateTime::from_timestamp(start, 0).unwrap();
    (0..OCCURRENCES)
        .map(|i| {
            t = s
                .next_after(t)
                .ok_or_else(|| format!("no run #{} after {t}", i + 1))?;
            Ok(t.timestamp())
        })
        .collect()
}

/// Starts croniter on the whole batch; it reads all of it before it answers.
fn start_croniter(python: &str, queries: &[(String, &str, i64)]) -> std::process::Child {
    let input: Vec<Value> = queries
        .iter()
        .map(|(e, z, s)| json!([e, z, s, OCCURRENCES]))
        .collect();
    let mut child = Command::new(python)
        .args(["-c", CRONITER_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("PRYX_CRONITER_PYTHON={python} does not start: {e}"));
    // The script reads all of its input before it writes, so writing first cannot block.
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    drop(stdin);
    child
}

/// croniter's version and its answers, in the order of the queries.
fn croniter_answers(
    python: &str,
    child: std::process::Child,
    n: usize,
) -> (String, Vec<Result<Vec<i64>, String>>) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "croniter under {python} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let answers: Vec<Result<Vec<i64>, String>> = v["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a.get("t") {
            Some(t) => Ok(t
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect()),
            None => Err(a["e"].as_str().unwrap().to_string()),
        })
        .collect();
    assert_eq!(answers.len(), n, "croniter answered every query");
    (v["version"].as_str().unwrap().to_string(), answers)
}

fn show(t: i64, zone: Tz) -> String {
    let t = DateTime::from_timestamp(t, 0).unwrap();
    format!(
        "{} ({})",
        t.format("%Y-%m-%dT%H:%M:%SZ"),
        t.with_timezone(&zone).format("%a %Y-%m-%d %H:%M:%S%:z")
    )
}

fn show_answer(a: &Result<Vec<i64>, String>, zone: Tz) -> String {
    match a {
        Ok(ts) => ts
            .iter()
            .map(|&t| show(t, zone))
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => format!("error: {e}"),
    }
}

/// What one zone's (or UTC's) queries came to.
#[derive(Default)]
struct Tally {
    queries: usize,
    compared: usize,
    occurrences: usize,
    crossing_dst: usize,
    /// Compared queries whose runs meet a skipped wall-clock time the expression names.
    in_gap: usize,
    /// … or a repeated one.
    in_overlap: usize,
    excluded: BTreeMap<Exclusion, (usize, usize)>,
}

#[test]
fn next_runs_agree_with_croniter() {
    let Some(python) = std::env::var_os("PRYX_CRONITER_PYTHON") else {
        eprintln!(
            "SKIPPED: cron_differential::next_runs_agree_with_croniter: PRYX_CRONITER_PYTHON is \
             not set, so there is no croniter to compare with; scripts/croniter.sh makes a venv \
             with croniter and runs this test with it"
        );
        return;
    };
    let python = python.to_string_lossy().into_owned();
    let began = std::time::Instant::now();

    let mut rng = Rng(SEED);
    let (exprs, set_aside) = expressions(&mut rng);
    let zones: Vec<(&'static str, Tz, Vec<Transition>)> = ZONES
        .iter()
        .map(|&z| {
            let tz: Tz = z.parse().unwrap();
            // Runs of rare schedules (the 29th of February) reach decades past their start.
            (z, tz, transitions(tz, 2019, 2090))
        })
        .collect();
    let mut queries = Vec::new();
    for (i, _) in exprs.iter().enumerate() {
        for start in utc_starts(&mut rng) {
            queries.push(Query {
                expr: i,
                zone: "UTC",
                start,
            });
        }
        for (zone, _, trs) in &zones {
            let y2020 = Utc
                .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
                .unwrap()
                .timestamp();
            let y2036 = Utc
                .with_ymd_and_hms(2036, 1, 1, 0, 0, 0)
                .unwrap()
                .timestamp();
            let near: Vec<Transition> = trs
                .iter()
                .filter(|t| (y2020..y2036).contains(&t.at))
                .copied()
                .collect();
            for start in zone_starts(&mut rng, &near) {
                queries.push(Query {
                    expr: i,
                    zone,
                    start,
                });
            }
        }
    }

    let batch: Vec<(String, &str, i64)> = queries
        .iter()
        .map(|q| (exprs[q.expr].text.clone(), q.zone, q.start))
        .collect();
    let child = start_croniter(&python, &batch);
    // Ours while croniter works out its answers.
    let mut schedules = std::collections::HashMap::new();
    let ours: Vec<Result<Vec<i64>, String>> = queries
        .iter()
        .map(|q| {
            let s = schedules
                .entry((q.expr, q.zone))
                .or_insert_with(|| pryx_schedule(&exprs[q.expr].text, q.zone));
            pryx(s, q.start)
        })
        .collect();
    let (version, theirs) = croniter_answers(&python, child, queries.len());

    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    for ((q, ours), theirs) in queries.iter().zip(ours).zip(&theirs) {
        let e = &exprs[q.expr];
        let tally = tallies.entry(q.zone).or_default();
        tally.queries += 1;
        let (tz, trs): (Tz, &[Transition]) = match zones.iter().find(|z| z.0 == q.zone) {
            Some((_, tz, trs)) => (*tz, trs),
            None => (Tz::UTC, &[]),
        };
        let last = [&ours, theirs]
            .iter()
            .filter_map(|a| a.as_ref().ok().and_then(|v| v.last().copied()))
            .max()
            .unwrap_or(q.start);
        let touched = touches(e, trs, q.start, last);
        if let Some(why) = exclusion(e, &touched) {
            let (n, differing) = tally.excluded.entry(why).or_default();
            *n += 1;
            *differing += usize::from(ours != *theirs);
            continue;
        }
        if q.zone == "UTC" && ours == *theirs {
            // The test's own reading of the expression (which decides the exclusions above)
            // must agree with the runs both give.
            for t in ours.iter().flatten() {
                let at = DateTime::from_timestamp(*t, 0).unwrap().naive_utc();
                assert!(e.matches(at), "the test misreads `{}`: {at} runs", e.text);
            }
        }
        tally.compared += 1;
        tally.occurrences += OCCURRENCES;
        tally.crossing_dst += usize::from(crosses(trs, q.start, last));
        tally.in_gap += usize::from(touched.iter().any(|t| matches!(t, Touch::Gap { .. })));
        tally.in_overlap += usize::from(touched.contains(&Touch::Overlap));
        if ours != *theirs {
            failures.push(format!(
                "`{}` in {} after {}:\n  pryx:     {}\n  croniter: {}",
                e.text,
                q.zone,
                show(q.start, tz),
                show_answer(&ours, tz),
                show_answer(theirs, tz)
            ));
        }
    }

    println!(
        "cron_differential: croniter {version}; {} expressions ({} more generated were set \
         aside: croniter rewrites a full day field to `*`), {OCCURRENCES} runs from each start",
        exprs.len(),
        set_aside
    );
    for (zone, t) in &tallies {
        println!(
            "  {zone}: {} queries, {} compared ({} runs; {} crossing a DST change, {} meeting a \
             skipped and {} a repeated time they name), {} excluded",
            t.queries,
            t.compared,
            t.occurrences,
            t.crossing_dst,
            t.in_gap,
            t.in_overlap,
            t.excluded.values().map(|v| v.0).sum::<usize>()
        );
        for (why, (n, differing)) in &t.excluded {
            println!(
                "    excluded {n} ({differing} of them differ): {}",
                why.words()
            );
        }
    }
    println!("  took {:.2?}", began.elapsed());
    let shown: Vec<&String> = failures.iter().take(25).collect();
    assert!(
        failures.is_empty(),
        "{} of {} queries disagree with croniter {version} (first {}):\n{}",
        failures.len(),
        queries.len(),
        shown.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
