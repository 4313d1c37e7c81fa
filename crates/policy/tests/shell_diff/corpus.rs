//! The command lines compared: the escape suite, GTFOBins-style one-liners, real-world snippets,
//! the project's own scripts, and generated lines.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shell lines of the escape suite (the `shell.exec` commands of its shared table).
pub fn escape_suite() -> Vec<String> {
    let table: serde_json::Value =
        serde_json::from_str(include_str!("../judging/escape_cases.json")).unwrap_or_default();
    table["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["tool"] == "shell.exec")
        .filter_map(|c| c["arguments"]["command"].as_str().map(str::to_string))
        .collect()
}

/// Non-empty, non-comment lines of a corpus file under `tests/shell_corpus`.
pub fn file(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("tests/shell_corpus").join(name))
        .unwrap_or_else(|e| panic!("corpus file {name}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("##"))
        .map(str::to_string)
        .collect()
}

/// The project's shell scripts: each whole, and each line that is a command on its own.
pub fn project_scripts() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["../../scripts", "../../bench"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sh"))
            .collect();
        files.sort();
        for f in files {
            script_lines(&f, &mut out);
        }
    }
    out
}

fn script_lines(path: &Path, out: &mut Vec<String>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    out.push(text.clone());
    // Lines continued with a trailing `\` are joined into the command they belong to.
    let mut pending = String::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(head) = t.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(t);
        let command = std::mem::take(&mut pending);
        if !command.trim().is_empty() && !command.starts_with('#') {
            out.push(command);
        }
    }
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ls".to_string()),
        Just("cat".to_string()),
        Just("rm".to_string()),
        Just("echo".to_string()),
        Just("git".to_string()),
        Just("/bin/sh".to_string()),
        Just("env".to_string()),
        Just("bash".to_string()),
        "[a-z]{1,6}",
    ]
}

fn word(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        6 => "[a-zA-Z0-9/._-]{1,8}",
        1 => Just("'a b'".to_string()),
        1 => Just("\"x y\"".to_string()),
        1 => Just("\"$HOME/x\"".to_string()),
        1 => Just("$X".to_string()),
        1 => Just("${Y:-d}".to_string()),
        1 => Just("a\\ b".to_string()),
        1 => Just("~/x".to_string()),
        1 => Just("*.rs".to_string()),
        1 => Just("{a,b}".to_string()),
        1 => Just("--opt=/etc/x".to_string()),
        1 => Just("'it'\\''s'".to_string()),
        1 => Just("\"a\\\"b\"".to_string()),
        1 => Just("x=1".to_string()),
        1 => Just("#c".to_string()),
        1 => Just("a#b".to_string()),
        1 => Just("\\;".to_string()),
        1 => Just("$'\\x41'".to_string()),
        1 => Just("\"$(printf x)\"".to_string()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        8 => leaf,
        1 => line(depth - 1).prop_map(|l| format!("$({l})")),
        1 => simple(depth - 1).prop_map(|l| format!("`{l}`")),
        1 => line(depth - 1).prop_map(|l| format!("<({l})")),
    ]
    .boxed()
}

fn redirect(depth: u32) -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just(">"),
            Just(">>"),
            Just("<"),
            Just("2>"),
            Just("&>"),
            Just(">|"),
            Just("<>"),
            Just("<<<"),
        ],
        word(depth),
    )
        .prop_map(|(op, w)| format!("{op}{w}"))
}

fn simple(depth: u32) -> BoxedStrategy<String> {
    (
        prop::collection::vec(
            prop_oneof![Just("A=1 "), Just("B=\"x y\" "), Just("C=$(id) ")],
            0..2,
        ),
        name(),
        prop::collection::vec(word(depth), 0..4),
        prop::collection::vec(
            prop_oneof![
                redirect(depth).boxed(),
                Just("2>&1".to_string()).boxed(),
                Just(">&2".to_string()).boxed()
            ],
            0..2,
        ),
    )
        .prop_map(|(assigns, name, words, redirects)| {
            let mut s = assigns.concat();
            s.push_str(&name);
            for w in words.into_iter().chain(redirects) {
                s.push(' ');
                s.push_str(&w);
            }
            s
        })
        .boxed()
}

/// A command line: lists, pipelines, groups, subshells and compound commands.
pub fn line(depth: u32) -> BoxedStrategy<String> {
    let item = if depth == 0 {
        simple(0)
    } else {
        prop_oneof![
            6 => simple(depth),
            1 => line(depth - 1).prop_map(|l| format!("({l})")),
            1 => line(depth - 1).prop_map(|l| format!("{{ {l}; }}")),
            1 => (line(depth - 1), line(depth - 1)).prop_map(|(a, b)| format!("if {a}; then {b}; fi")),
            1 => (line(depth - 1), line(depth - 1)).prop_map(|(a, b)| format!("while {a}; do {b}; done")),
            1 => line(depth - 1).prop_map(|l| format!("f() {{ {l}; }}; f")),
            1 => simple(depth).prop_map(|l| format!("! {l}")),
        ]
        .boxed()
    };
    (
        item.clone(),
        prop::collection::vec(
            (
                prop_oneof![
                    Just(" | "),
                    Just(" && "),
                    Just(" || "),
                    Just("; "),
                    Just(" & "),
                    Just("\n"),
                    Just(" |& "),
                ],
                item,
            ),
            0..3,
        ),
    )
        .prop_map(|(first, rest)| {
            let mut s = first;
            for (op, i) in rest {
                s.push_str(op);
                s.push_str(&i);
            }
            s
        })
        .boxed()
}

/// `n` generated lines from a fixed seed: the same lines on every run.
pub fn generated(n: usize, seed: u8) -> Vec<String> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = line(2);
    (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect()
}
