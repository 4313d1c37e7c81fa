//! Generated JSON5 texts, valid and broken, for the differential test and the fuzz runs.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn ws() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(String::new()),
        2 => Just(" ".to_string()),
        1 => Just("\n  ".to_string()),
        1 => Just(" // note\n".to_string()),
        1 => Just("/* c */".to_string()),
        1 => Just("\t\r\n".to_string()),
        1 => Just("\u{a0}".to_string()),
        1 => Just("\u{feff}".to_string()),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<i32>()).prop_map(|n| n.to_string()),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("{a}.{b}")),
        (any::<u16>()).prop_map(|a| format!(".{a}")),
        (any::<u16>()).prop_map(|a| format!("{a}.")),
        (any::<u16>(), -30i32..30).prop_map(|(a, e)| format!("{a}e{e}")),
        (any::<u16>(), 0i32..30).prop_map(|(a, e)| format!("{a}E+{e}")),
        (any::<u32>()).prop_map(|a| format!("0x{a:X}")),
        (any::<u32>()).prop_map(|a| format!("-0x{a:x}")),
        (any::<u16>()).prop_map(|a| format!("+{a}")),
        Just("NaN".to_string()),
        Just("Infinity".to_string()),
        Just("-Infinity".to_string()),
        Just("+NaN".to_string()),
        Just("-0".to_string()),
        Just("007".to_string()),
        Just("1e400".to_string()),
        Just("9007199254740993".to_string()),
        Just("0x".to_string()),
        Just("1.2.3".to_string()),
    ]
}

fn string_part() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ]{0,6}",
        1 => Just("é✓".to_string()),
        1 => Just("\\n\\t\\r\\b\\f\\v\\0".to_string()),
        1 => Just("\\'\\\"\\\\\\/".to_string()),
        1 => Just("\\x41\\u00e9".to_string()),
        1 => Just("\\uD83D\\uDE00".to_string()),
        1 => Just("\\\n".to_string()),
        1 => Just("\\q".to_string()),
        1 => Just("\\x4".to_string()),
        1 => Just("\u{2028}".to_string()),
        1 => Just("\\01".to_string()),
        1 => Just("[{".to_string()),
    ]
}

fn string() -> impl Strategy<Value = String> {
    (prop::collection::vec(string_part(), 0..3), prop::bool::ANY).prop_map(|(parts, single)| {
        let q = if single { '\'' } else { '"' };
        let body: String = parts.concat();
        // A bare quote of the same kind would end the string; escape it.
        let body = body.replace(q, &format!("\\{q}"));
        format!("{q}{body}{q}")
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z_$][a-zA-Z0-9_$]{0,5}",
        2 => string(),
        1 => Just("ünï".to_string()),
        1 => Just("\\u0061b".to_string()),
        1 => Just("1a".to_string()),
        1 => Just("true".to_string()),
        1 => Just("a-b".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        number(),
        string(),
    ]
}

/// One JSON5 value, nesting at most a few levels.
pub fn value() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (
                prop::collection::vec((ws(), inner.clone(), ws()), 0..4),
                prop::bool::ANY
            )
                .prop_map(|(items, trailing)| {
                    let items: Vec<String> = items
                        .into_iter()
                        .map(|(a, v, b)| format!("{a}{v}{b}"))
                        .collect();
                    let comma = if trailing && !items.is_empty() {
                        ","
                    } else {
                        ""
                    };
                    format!("[{}{comma}]", items.join(","))
                }),
            (
                prop::collection::vec((ws(), key(), ws(), inner), 0..4),
                prop::bool::ANY
            )
                .prop_map(|(members, trailing)| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(a, k, b, v)| format!("{a}{k}{b}:{v}"))
                        .collect();
                    let comma = if trailing && !members.is_empty() {
                        ","
                    } else {
                        ""
                    };
                    format!("{{{}{comma}}}", members.join(","))
                }),
        ]
    })
}

/// A value, sometimes damaged by a few deletions or insertions of syntax characters.
pub fn text() -> impl Strategy<Value = String> {
    (
        ws(),
        value(),
        ws(),
        prop::collection::vec((any::<usize>(), 0usize..12), 0..3),
    )
        .prop_map(|(a, v, b, edits)| {
            let mut chars: Vec<char> = format!("{a}{v}{b}").chars().collect();
            const INSERT: [char; 11] = ['{', '}', '[', ']', ',', ':', '"', '\'', '/', '\\', '\n'];
            for (pos, op) in edits {
                let p = pos % (chars.len() + 1);
                match INSERT.get(op) {
                    Some(c) => chars.insert(p, *c),
                    None if p < chars.len() => {
                        chars.remove(p);
                    }
                    None => {}
                }
            }
            chars.into_iter().collect()
        })
}

/// `n` texts from a fixed seed: the same corpus on every run.
pub fn corpus(n: usize, seed: u8) -> Vec<String> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = text();
    (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect()
}
