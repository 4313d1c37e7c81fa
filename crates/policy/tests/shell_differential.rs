//! Differential test of the shell parser against `brush-parser`: every line of the corpus must
//! yield the same simple commands, or ours must report a problem (the policy then asks a
//! person), or the disagreement must be one recorded below with why ours is the safer answer.
//!
//! `PRYX_SHELL_DIFF_GENERATED` raises the number of generated lines (the bench script runs
//! tens of thousands); the summary line is printed either way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod shell_diff;

use shell_diff::corpus;
use shell_diff::{Verdict, bash_accepts, judge};

/// Generated lines in the CI run; with the fixed corpus this passes 2,000 lines.
const GENERATED: usize = 1_500;

fn multiline() -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/shell_corpus/multiline.txt"),
    )
    .unwrap();
    text.split("\n%%\n")
        .map(|e| {
            e.lines()
                .filter(|l| !l.starts_with("##"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|e| !e.trim().is_empty())
        .collect()
}

/// Lines bash accepts and brush refuses, while ours reads them without a problem: brush's
/// limitation, with what it is. Ours follows the process substitution into its commands.
const BRUSH_LIMITS: &[(&str, &str)] = &[
    (
        "&><(",
        "brush refuses a process substitution as the target of `&>`",
    ),
    (
        "<<<<(",
        "brush refuses a process substitution as a here-string",
    ),
    (
        "<((",
        "brush reads a process substitution that opens with a subshell as arithmetic",
    ),
    (
        "` <(",
        "brush refuses a backquoted command whose name is a process substitution",
    ),
];

const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "case", "esac", "for",
    "in", "{", "}", "!", "function", "select", "coproc", "[[", "]]",
];

/// Why brush's refusal of a line bash accepts is brush's limitation, if it is a known one.
fn explained(line: &str, verdict: &Verdict) -> Option<&'static str> {
    let Verdict::BrushFails(_) = verdict else {
        return None;
    };
    let reserved_as_program = shell_diff::ours(line).0.iter().any(|c| {
        (!c.assigns.is_empty() || !c.redirects.is_empty())
            && c.words
                .first()
                .is_some_and(|w| RESERVED.contains(&w.as_str()))
    });
    if reserved_as_program {
        return Some(
            "brush refuses a reserved word after an assignment or redirection; bash runs a \
             program of that name, and ours judges it",
        );
    }
    BRUSH_LIMITS
        .iter()
        .find(|(pattern, _)| line.contains(pattern))
        .map(|(_, why)| *why)
}

#[derive(Default, Debug)]
struct Tally {
    lines: usize,
    bash_valid: usize,
    agree: usize,
    ours_asks: usize,
    ours_finds_more: usize,
    /// Why ours asked, by its first problem: what it cannot follow.
    ask_reasons: std::collections::BTreeMap<String, (usize, String)>,
    invalid: usize,
    brush_fails: usize,
    explained: usize,
    unexplained: Vec<String>,
}

fn run(lines: &[String]) -> Tally {
    let ok = bash_accepts(lines);
    let mut t = Tally {
        lines: lines.len(),
        bash_valid: ok.iter().filter(|b| **b).count(),
        ..Tally::default()
    };
    for (line, bash_ok) in lines.iter().zip(ok) {
        let v = judge(line, bash_ok);
        match &v {
            Verdict::Agree => t.agree += 1,
            Verdict::OursAsks => {
                t.ours_asks += 1;
                let (_, problems) = shell_diff::ours(line);
                let first = problems.first().cloned().unwrap_or_default();
                if bash_ok {
                    let e = t.ask_reasons.entry(first).or_insert((0, line.clone()));
                    e.0 += 1;
                }
            }
            Verdict::OursFindsMore => t.ours_finds_more += 1,
            Verdict::Invalid => t.invalid += 1,
            _ if explained(line, &v).is_some() => t.explained += 1,
            Verdict::BrushFails(e) => {
                t.brush_fails += 1;
                t.unexplained.push(format!("{line:?}: brush fails: {e}"));
            }
            Verdict::Differ { ours, brush } => t
                .unexplained
                .push(format!("{line:?}\n  ours:  {ours:?}\n  brush: {brush:?}")),
        }
    }
    t
}

#[test]
fn our_shell_parser_finds_the_commands_brush_finds() {
    let generated = std::env::var("PRYX_SHELL_DIFF_GENERATED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(GENERATED);
    let mut lines = corpus::escape_suite();
    let escape = lines.len();
    lines.extend(corpus::file("gtfobins.txt"));
    lines.extend(corpus::file("snippets.txt"));
    lines.extend(multiline());
    lines.extend(corpus::project_scripts());
    let fixed = lines.len();
    lines.extend(corpus::generated(generated, 11));
    let t = run(&lines);
    eprintln!(
        "shell differential: {} lines ({escape} escape suite, {} other fixed, {} generated), \
         {} valid for bash -n; agree {}, ours asks {}, ours finds more {}, invalid {}, brush limits {}, \
         unexplained {} (brush fails on {})",
        t.lines,
        fixed - escape,
        t.lines - fixed,
        t.bash_valid,
        t.agree,
        t.ours_asks,
        t.ours_finds_more,
        t.invalid,
        t.explained,
        t.unexplained.len(),
        t.brush_fails,
    );
    for (reason, (n, example)) in &t.ask_reasons {
        eprintln!("  ours asks on {n} valid lines: {reason}, e.g. {example:?}");
    }
    assert!(
        escape >= 50,
        "the escape suite's shell lines were not found"
    );
    assert!(t.lines >= 2_000);
    assert!(
        t.unexplained.is_empty(),
        "{} unexplained disagreements:\n{}",
        t.unexplained.len(),
        t.unexplained
            .iter()
            .take(1000)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Prints both parsers' answers for `PRYX_SHELL_LINE` (run with `--ignored --nocapture`).
#[test]
#[ignore = "a tool for looking at one line"]
fn show_one_line() {
    let line = std::env::var("PRYX_SHELL_LINE").unwrap_or_default();
    eprintln!("ours:  {:?}", shell_diff::ours(&line));
    eprintln!("brush: {:?}", shell_diff::brush::commands(&line));
    eprintln!("bash -n: {:?}", bash_accepts(&[line]));
}
