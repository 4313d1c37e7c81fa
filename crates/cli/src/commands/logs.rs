//! `pryx logs [-f] [--level L] [--session ID] [-n N] [--json]`: the core's log file and its
//! rotated predecessors, oldest first, one line per event: time, level, message and fields
//! (escaped for the terminal: fields quote model text and server messages). `--json` passes
//! the lines as stored; `-f` follows the file across rotations until interrupted.

use crate::term::{out, out_raw};
use anyhow::Context;
use pryx_config::DataDir;
use serde_json::Value;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The core's log file in the data dir's `logs/`.
pub const CORE_LOG: &str = "core.log";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep printing new lines as they are written.
    #[arg(short, long)]
    follow: bool,
    /// The least severe level shown: error, warn, info, debug or trace.
    #[arg(long, default_value = "trace")]
    level: String,
    /// Only lines about this session (any field naming it).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// At most this many lines from the end (before following).
    #[arg(short = 'n', long, value_name = "N")]
    lines: Option<usize>,
    /// The lines as stored (JSON).
    #[arg(long)]
    json: bool,
}

fn rank(level: &str) -> Option<u8> {
    match level.to_ascii_lowercase().as_str() {
        "error" => Some(5),
        "warn" | "warning" => Some(4),
        "info" => Some(3),
        "debug" => Some(2),
        "trace" => Some(1),
        _ => None,
    }
}

struct Filter {
    least: u8,
    session: Option<String>,
}

impl Filter {
    /// The line as it is shown, when it passes.
    fn show(&self, line: &str, json: bool) -> Option<String> {
        let line = line.trim_end();
        if line.is_empty() {
            return None;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            // A line from before the log was JSON (or a hand edit): shown as it is.
            return (self.session.is_none()).then(|| line.to_string());
        };
        let level = v["level"].as_str().unwrap_or("INFO");
        if rank(level).unwrap_or(3) < self.least {
            return None;
        }
        if let Some(s) = &self.session
            && !line.contains(s.as_str())
        {
            return None;
        }
        if json {
            return Some(line.to_string());
        }
        let time = v["timestamp"].as_str().unwrap_or("");
        let fields = v["fields"].as_object();
        let message = fields
            .and_then(|f| f.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut text = format!("{time} {level:>5} {message}");
        for (k, val) in fields.into_iter().flatten() {
            if k == "message" {
                continue;
            }
            match val {
                Value::String(s) => text.push_str(&format!(" {k}={s:?}")),
                other => text.push_str(&format!(" {k}={other}")),
            }
        }
        if let Some(t) = v["target"].as_str() {
            text.push_str(&format!(" ({t})"));
        }
        Some(text)
    }
}

/// `core.log.5` … `core.log.1`, `core.log`: those that exist, oldest first.
fn files(log: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = (1..=crate::rotating_log::KEEP)
        .rev()
        .map(|n| crate::rotating_log::rotated(log, n))
        .filter(|p| p.exists())
        .collect();
    if log.exists() {
        out.push(log.to_path_buf());
    }
    out
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let least = rank(&args.level).with_context(|| {
        format!(
            "--level {:?}: use error, warn, info, debug or trace",
            args.level
        )
    })?;
    let filter = Filter {
        least,
        session: args.session.clone(),
    };
    let dir = DataDir::locate()?;
    let log = dir.logs_dir().join(CORE_LOG);
    let found = files(&log);
    if found.is_empty() && !args.follow {
        anyhow::bail!(
            "no log at {}: the core writes one when started with `pryx serve --log-to file` (or both)",
            log.display()
        );
    }
    let mut shown: Vec<String> = Vec::new();
    for f in &found {
        let file =
            std::fs::File::open(f).with_context(|| format!("cannot read {}", f.display()))?;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.unwrap_or_default();
            if let Some(s) = filter.show(&line, args.json) {
                shown.push(s);
            }
        }
    }
    let skip = args.lines.map_or(0, |n| shown.len().saturating_sub(n));
    for s in &shown[skip..] {
        print(s, args.json);
    }
    if args.follow {
        follow(&log, &filter, args.json)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print(s: &str, json: bool) {
    if json { out_raw(s) } else { out(s) }
}

/// Prints what is appended to `log` until interrupted; a rotation (the file shrank or was
/// replaced) starts from the new file's beginning.
fn follow(log: &Path, filter: &Filter, json: bool) -> anyhow::Result<()> {
    let mut at = std::fs::metadata(log).map_or(0, |m| m.len());
    let mut partial = String::new();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let Ok(meta) = std::fs::metadata(log) else {
            continue;
        };
        if meta.len() < at {
            at = 0;
            partial.clear();
        }
        if meta.len() == at {
            continue;
        }
        let mut f = std::fs::File::open(log)?;
        f.seek(SeekFrom::Start(at))?;
        let mut chunk = String::new();
        let n = f.read_to_string(&mut chunk)?;
        at += n as u64;
        partial.push_str(&chunk);
        while let Some(i) = partial.find('\n') {
            let line: String = partial.drain(..=i).collect();
            if let Some(s) = filter.show(&line, json) {
                print(&s, json);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"timestamp":"2026-12-03T00:12:59.730Z","level":"WARN","fields":{"message":"a reply was not delivered","session":"s-123","attempts":3},"target":"pryx_core::channels"}"#;

    #[test]
    fn lines_are_filtered_by_level_and_session_and_shown_plainly() {
        let all = Filter {
            least: 1,
            session: None,
        };
        let shown = all.show(LINE, false).unwrap();
        assert!(shown.starts_with("2026-12-03T00:12:59.730Z  WARN a reply was not delivered"));
        assert!(shown.contains("session=\"s-123\"") && shown.contains("attempts=3"));
        assert!(shown.ends_with("(pryx_core::channels)"));
        assert_eq!(all.show(LINE, true).unwrap(), LINE);
        let errors = Filter {
            least: 5,
            session: None,
        };
        assert!(errors.show(LINE, false).is_none());
        let other = Filter {
            least: 1,
            session: Some("s-999".into()),
        };
        assert!(other.show(LINE, false).is_none());
        let same = Filter {
            least: 1,
            session: Some("s-123".into()),
        };
        assert!(same.show(LINE, false).is_some());
        assert_eq!(all.show("not json", false).as_deref(), Some("not json"));
        assert!(all.show("", false).is_none());
    }
}
