#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Random bytes and random fragmentations never make the parsers panic.

use crate::common;

use common::{anthropic_parser, openai_parser, run_parser};
use proptest::prelude::*;

const OPENAI_SAMPLE: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hé\",\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"x__y\",\"arguments\":\"{\\\"k\\\"\"}}]},\"finish_reason\":null}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":3}}\n\ndata: [DONE]\n\n";
const ANTHROPIC_SAMPLE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":2}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\",\"input\":{}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// Mutates a valid sample: byte flips, deletions and insertions at random places.
fn mutated(sample: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..12).prop_map(move |edits| {
        let mut bytes = sample.as_bytes().to_vec();
        for (pos, byte, op) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let p = pos % bytes.len();
            match op {
                0 => bytes[p] = byte,
                1 => {
                    bytes.remove(p);
                }
                _ => bytes.insert(p, byte),
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn openai_parser_survives_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), piece in 1usize..64) {
        let _ = run_parser(&mut openai_parser(&["x.y"]), &bytes, piece);
    }

    #[test]
    fn anthropic_parser_survives_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), piece in 1usize..64) {
        let _ = run_parser(&mut anthropic_parser(&["x.y"]), &bytes, piece);
    }

    #[test]
    fn openai_parser_survives_mutated_streams(bytes in mutated(OPENAI_SAMPLE), piece in 1usize..32) {
        let _ = run_parser(&mut openai_parser(&["x.y"]), &bytes, piece);
    }

    #[test]
    fn anthropic_parser_survives_mutated_streams(bytes in mutated(ANTHROPIC_SAMPLE), piece in 1usize..32) {
        let _ = run_parser(&mut anthropic_parser(&[]), &bytes, piece);
    }

    #[test]
    fn fragmentation_never_changes_the_result(piece in 1usize..80) {
        let whole = run_parser(&mut openai_parser(&["x.y"]), OPENAI_SAMPLE.as_bytes(), usize::MAX);
        let split = run_parser(&mut openai_parser(&["x.y"]), OPENAI_SAMPLE.as_bytes(), piece);
        prop_assert_eq!(whole, split);
        let whole = run_parser(&mut anthropic_parser(&[]), ANTHROPIC_SAMPLE.as_bytes(), usize::MAX);
        let split = run_parser(&mut anthropic_parser(&[]), ANTHROPIC_SAMPLE.as_bytes(), piece);
        prop_assert_eq!(whole, split);
    }
}
