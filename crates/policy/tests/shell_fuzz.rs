//! The shell reader and analyser on generated, mutated and arbitrary command lines: never a
//! panic, and nesting or length past the limits becomes a problem (→ ask), not a deep stack.
//! `PRYX_FUZZ_CASES` raises the number of cases (`bench/parsers-fuzz.sh` does).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod shell_diff;

use proptest::prelude::*;
use pryx_policy::shell::{analyze, parse};
use shell_diff::corpus;

fn cases() -> u32 {
    std::env::var("PRYX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// A stored corpus line with up to six character edits using shell syntax characters.
fn mutated() -> impl Strategy<Value = String> {
    let mut seeds = corpus::file("gtfobins.txt");
    seeds.extend(corpus::file("snippets.txt"));
    seeds.extend(corpus::escape_suite());
    let syntax = prop::sample::select("'\"`$(){}[]<>|&;\\#\n =*~!".chars().collect::<Vec<_>>());
    (
        prop::sample::select(seeds),
        prop::collection::vec((any::<usize>(), 0u8..3, syntax), 0..6),
    )
        .prop_map(|(s, edits)| {
            let mut chars: Vec<char> = s.chars().collect();
            for (pos, op, c) in edits {
                let p = pos % (chars.len() + 1);
                match op {
                    0 if p < chars.len() => {
                        chars.remove(p);
                    }
                    1 if p < chars.len() => chars[p] = c,
                    _ => chars.insert(p, c),
                }
            }
            chars.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn generated_lines_never_panic(line in corpus::line(2)) {
        let _ = analyze(&line);
    }

    #[test]
    fn mutated_corpus_lines_never_panic(line in mutated()) {
        let _ = analyze(&line);
    }

    #[test]
    fn arbitrary_text_never_panics(line in "\\PC{0,300}") {
        let _ = analyze(&line);
    }
}

#[test]
fn deep_nesting_and_long_lines_become_problems() {
    for deep in [
        "$(".repeat(20_000),
        "(".repeat(20_000),
        "`".repeat(20_000),
        "<(".repeat(20_000),
        "eval ".repeat(10_000) + "ls",
        format!("{}ls{}", "$(echo ".repeat(5_000), ")".repeat(5_000)),
    ] {
        let s = parse(&deep);
        let facts = analyze(&deep);
        assert!(
            !s.problems.is_empty() || !facts.asks.is_empty() || !facts.denies.is_empty(),
            "{}…",
            &deep[..20]
        );
    }
    // Unclosed groups run nothing in bash (a syntax error) and nothing is found here either.
    assert!(parse(&"{ ".repeat(20_000)).commands.is_empty());
    let long = "a ".repeat(40_000);
    assert!(!parse(&long).problems.is_empty());
}
