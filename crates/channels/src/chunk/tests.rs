#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

/// The text without fence lines and whitespace: what a reader sees, whatever the cuts.
fn content(s: &str) -> String {
    s.lines()
        .filter(|l| fence_of(l).is_none())
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn fences_balanced(chunk: &str) -> bool {
    chunk.lines().filter(|l| fence_of(l).is_some()).count() % 2 == 0
}

#[test]
fn a_short_text_is_one_message() {
    assert_eq!(split("hello\n\nworld\n", 4096), ["hello\n\nworld"]);
    assert!(split("", 4096).is_empty());
    assert!(split("  \n\n ", 4096).is_empty());
}

#[test]
fn paragraphs_are_not_cut_when_they_fit() {
    let a = "a".repeat(60);
    let b = "b".repeat(60);
    let text = format!("{a}\n\n{b}\n");
    assert_eq!(split(&text, 100), [a, b]);
}

#[test]
fn a_code_block_stays_whole_when_it_fits() {
    let code = format!("```rust\n{}\n```", "let x = 1;\n".repeat(5).trim_end());
    let text = format!("{}\n\n{code}\n\nafter", "intro ".repeat(10).trim_end());
    let chunks = split(&text, code.len() + 5);
    assert!(chunks.contains(&code), "{chunks:#?}");
    assert!(chunks.iter().all(|c| fences_balanced(c)));
}

#[test]
fn a_long_code_block_is_refenced_in_every_message() {
    let body: String = (0..200).map(|i| format!("line {i}\n")).collect();
    let text = format!("```python\n{body}```\n");
    let chunks = split(&text, 300);
    assert!(chunks.len() > 3);
    for c in &chunks {
        assert!(c.starts_with("```python\n") && c.ends_with("```"), "{c}");
        assert!(units(c) <= 300);
    }
    assert_eq!(content(&chunks.join("\n")), content(&text));
}

#[test]
fn a_long_line_is_cut_at_a_space() {
    let text = "word ".repeat(100);
    let chunks = split(&text, 64);
    assert!(chunks.iter().all(|c| units(c) <= 64));
    assert!(
        chunks
            .iter()
            .all(|c| !c.contains("wor ") && !c.starts_with("rd"))
    );
}

#[test]
fn wide_characters_count_as_telegram_counts_them() {
    let text = "😀".repeat(3000); // 2 UTF-16 units each
    let chunks = split(&text, 4096);
    assert_eq!(chunks.len(), 2);
    assert!(chunks.iter().all(|c| units(c) <= 4096));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_chunk_fits_and_nothing_is_lost(
        parts in proptest::collection::vec(
            prop_oneof![
                "[a-zé😀 ]{0,120}",
                "\n",
                "\n\n",
                Just("\n```\n".to_string()),
                Just("\n~~~~ sh\n".to_string()),
                "[a-z]{1,400}",
            ],
            0..60,
        ),
        max in 32usize..400,
    ) {
        let text = parts.concat();
        let chunks = split(&text, max);
        for c in &chunks {
            prop_assert!(units(c) <= max, "{} > {max}: {c:?}", units(c));
            prop_assert!(!c.trim().is_empty());
        }
        prop_assert_eq!(content(&chunks.join("\n")), content(&text));
    }
}
