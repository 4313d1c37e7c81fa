//! Third-party `SKILL.md` text never makes the reader panic: generated JSON5 metadata, the
//! stored corpus (the bundled skills and OpenClaw-style samples) under random byte edits, and
//! arbitrary text. `PRYX_FUZZ_CASES` raises the number of cases (`bench/parsers-fuzz.sh`).
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use crate::json5_text::corpus::text as json5_text;
use crate::{BUNDLED, json5_text, load};

fn cases() -> u32 {
    std::env::var("PRYX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Skills in the forms other agents write them: JSON5 blocks, inline JSON5, odd YAML.
const SAMPLES: &[&str] = &[
    "---\nname: gemini\ndescription: Use Gemini\nmetadata:\n  {\n    \"openclaw\":\n      {\n        \"requires\": { \"bins\": [\"gemini\"] },\n      },\n  }\n---\n# Body\n",
    "---\nname: a\ndescription: Use when: the user asks\nmetadata: { openclaw: { requires: { env: ['KEY'] }, install: [{ kind: 'brew', formula: 'x' }] } }\n---\n",
    "---\nname: b\ndescription: \"quoted: yes\"\nmetadata: '{\"clawdbot\": {\"emoji\": \"x\"}}'\n---\nbody\n",
    "\u{feff}---\nname: c\ndescription: d\nmetadata:\n  pryx:\n    requires:\n      bins: [git]\n...\n",
];

fn seed() -> impl Strategy<Value = String> {
    let mut seeds: Vec<String> = SAMPLES.iter().map(|s| s.to_string()).collect();
    seeds.extend(
        BUNDLED
            .iter()
            .filter_map(|b| b.file("SKILL.md"))
            .map(str::to_string),
    );
    prop::sample::select(seeds)
}

/// A seed with up to eight byte-level edits (kept valid UTF-8 by editing characters).
fn mutated() -> impl Strategy<Value = String> {
    let edit = (
        any::<usize>(),
        0u8..4,
        prop::sample::select(vec![
            '{', '}', '[', ']', ':', '\'', '"', '\n', ' ', '-', '#', ',', '\\', 'é',
        ]),
    );
    (seed(), prop::collection::vec(edit, 0..8)).prop_map(|(s, edits)| {
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

fn skill_with_metadata() -> impl Strategy<Value = String> {
    (json5_text(), prop::bool::ANY).prop_map(|(meta, inline)| {
        if inline {
            format!(
                "---\nname: x\ndescription: y\nmetadata: {}\n---\n",
                meta.replace('\n', " ")
            )
        } else {
            let block: String = meta.lines().map(|l| format!("  {l}\n")).collect();
            format!("---\nname: x\ndescription: y\nmetadata:\n{block}---\n")
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn json5_never_panics(text in json5_text()) {
        let _ = json5_text::parse(&text);
    }

    #[test]
    fn json5_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = json5_text::parse(&text);
    }

    #[test]
    fn skill_md_with_generated_metadata_never_panics(text in skill_with_metadata()) {
        let _ = load::parse(&text, Some("x"));
    }

    #[test]
    fn mutated_skill_md_never_panics(text in mutated()) {
        let _ = load::parse(&text, None);
    }

    #[test]
    fn arbitrary_skill_md_never_panics(body in "\\PC{0,300}") {
        let _ = load::parse(&format!("---\n{body}\n---\n"), None);
    }
}
