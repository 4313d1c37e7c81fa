//! `HEARTBEAT.md`: the checklist a heartbeat follows. Its list items are what to look at; an
//! item may start with a cadence — `(every 2h)` or `(daily 09:00)` — and is then due only
//! when that time has come since it was last looked at. Items without one are looked at
//! whenever a beat runs (something happened, or a timed item is due).

use chrono::{DateTime, NaiveTime, Utc};
use pryx_scheduler::{Tz, last_daily, parse_clock, parse_every};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) const FILE: &str = "HEARTBEAT.md";
/// The most of the checklist given to the model (bootstrap files' cap).
const MAX_CHARS: usize = 20_000;
/// A checklist larger than this on disk is read only up to it.
const MAX_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cadence {
    Every(u64),
    Daily(NaiveTime),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Item {
    pub text: String,
    pub cadence: Option<Cadence>,
}

impl Item {
    /// Stable across beats while the item's text stays the same.
    pub fn key(&self) -> String {
        hex::encode(&Sha256::digest(self.text.as_bytes())[..8])
    }
}

#[derive(Debug, Clone)]
pub(super) struct Checklist {
    /// The file's text (cut at [`MAX_CHARS`], said so).
    pub text: String,
    pub hash: String,
    pub items: Vec<Item>,
}

/// The workspace's checklist; `None` when there is none (or it is empty). Read beneath the
/// workspace without following a link.
pub(super) fn read(workspace: &Path) -> Result<Option<Checklist>, String> {
    let bytes = match pryx_tools::read_beneath(workspace, Path::new(FILE), MAX_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{FILE} cannot be read: {e}")),
    };
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let hash = hex::encode(Sha256::digest(raw.as_bytes()));
    let text = match raw.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => format!(
            "{}\n[… {FILE} is longer than {MAX_CHARS} characters; the rest is left out]",
            &raw[..i]
        ),
        None => raw.clone(),
    };
    Ok(Some(Checklist {
        items: parse(&text),
        text,
        hash,
    }))
}

fn parse(text: &str) -> Vec<Item> {
    text.lines().filter_map(item).collect()
}

fn item(line: &str) -> Option<Item> {
    let t = line.trim_start();
    let rest = ["- ", "* ", "+ "]
        .iter()
        .find_map(|m| t.strip_prefix(m))
        .or_else(|| {
            let digits = t.chars().take_while(char::is_ascii_digit).count();
            (digits > 0).then(|| t[digits..].strip_prefix(". "))?
        })?;
    let rest = rest
        .trim_start()
        .trim_start_matches("[ ] ")
        .trim_start_matches("[x] ")
        .trim();
    if rest.is_empty() {
        return None;
    }
    Some(Item {
        text: rest.to_string(),
        cadence: cadence(rest),
    })
}

/// `(every 2h)` or `(daily 09:00)` at the start of an item.
fn cadence(text: &str) -> Option<Cadence> {
    let inner = text.strip_prefix('(')?.split_once(')')?.0.trim();
    let (word, arg) = inner.split_once(char::is_whitespace)?;
    match word.to_ascii_lowercase().as_str() {
        "every" => parse_every(arg).ok().map(Cadence::Every),
        "daily" => parse_clock(arg).ok().map(Cadence::Daily),
        _ => None,
    }
}

/// The timed items due at `now`, given when each was last looked at (by key, Unix ms); one
/// never looked at is due.
pub(super) fn due<'a>(
    items: &'a [Item],
    looked: &BTreeMap<String, i64>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<&'a Item> {
    items
        .iter()
        .filter(|i| {
            let Some(c) = i.cadence else { return false };
            let Some(last) = looked.get(&i.key()).copied() else {
                return true;
            };
            match c {
                Cadence::Every(secs) => {
                    now.timestamp_millis() - last
                        >= i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
                }
                Cadence::Daily(at) => last_daily(at, now, tz).timestamp_millis() > last,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn items_and_their_cadences() {
        let items = parse(
            "# Heartbeat\n\nSome prose.\n- Check the build log\n- [ ] (every 2h) Look at the inbox\n* (daily 09:00) Send me a brief\n1. (weekly mon) unknown cadence\n-\n",
        );
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(items[0].cadence, None);
        assert_eq!(items[1].cadence, Some(Cadence::Every(7200)));
        assert_eq!(items[1].text, "(every 2h) Look at the inbox");
        assert!(matches!(items[2].cadence, Some(Cadence::Daily(_))));
        assert_eq!(items[3].cadence, None, "an unknown cadence is a plain item");
    }

    #[test]
    fn timed_items_fall_due() {
        let items = parse("- (every 2h) inbox\n- (daily 09:00) brief\n- plain\n");
        let tz = pryx_scheduler::parse_zone("UTC").unwrap();
        let now = utc("2026-12-02T10:00:00Z");
        let never = BTreeMap::new();
        assert_eq!(
            due(&items, &never, now, tz).len(),
            2,
            "never looked at: due"
        );
        let mut looked = BTreeMap::new();
        looked.insert(
            items[0].key(),
            utc("2026-12-02T09:00:00Z").timestamp_millis(),
        );
        looked.insert(
            items[1].key(),
            utc("2026-12-02T09:30:00Z").timestamp_millis(),
        );
        assert!(due(&items, &looked, now, tz).is_empty());
        let later = utc("2026-12-02T11:00:00Z");
        assert_eq!(due(&items, &looked, later, tz)[0].text, "(every 2h) inbox");
        let tomorrow = utc("2026-12-03T09:00:00Z");
        assert_eq!(due(&items, &looked, tomorrow, tz).len(), 2);
    }
}
