#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The SSE decoder on random streams in random fragmentations: it never panics, the cut points
//! never change what it decodes (events, and where it fails), and no event outgrows the cap.
//! `PRYX_FUZZ_CASES` raises the number of cases (`bench/parsers-fuzz.sh` does).

use proptest::prelude::*;
use pryx_llm::sse::{SseDecoder, SseEvent, SseTooLarge};

const LIMIT: usize = 48;

fn cases() -> u32 {
    std::env::var("PRYX_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// Bytes mostly from the SSE alphabet, so fields, line ends and blank lines are common.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => prop::sample::select(b"data: event:x\n\r\n\n\r".to_vec()),
        2 => prop::sample::select(b"abc{}\"".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        3 => prop::collection::vec(byte, 0..400),
        // Long lines around the cap.
        1 => (0usize..3 * LIMIT, prop::bool::ANY).prop_map(|(n, end)| {
            let mut v = b"data: ".to_vec();
            v.extend(std::iter::repeat_n(b'y', n));
            if end {
                v.extend_from_slice(b"\n\n");
            }
            v
        }),
    ]
}

/// Decodes `input` cut at `cuts` (offsets, any order); the events and the first error.
fn decode(input: &[u8], cuts: &[usize]) -> (Vec<SseEvent>, Option<SseTooLarge>) {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    at.push(0);
    at.push(input.len());
    at.sort_unstable();
    at.dedup();
    let mut d = SseDecoder::with_limit(LIMIT);
    let mut out = Vec::new();
    for w in at.windows(2) {
        if let Err(e) = d.push(&input[w[0]..w[1]], &mut out) {
            return (out, Some(e));
        }
    }
    let err = d.finish(&mut out).err();
    (out, err)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn cut_points_never_change_the_result(
        input in stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let whole = decode(&input, &[]);
        let split = decode(&input, &cuts);
        prop_assert_eq!(&whole, &split);
        for e in &whole.0 {
            prop_assert!(e.data.len() <= LIMIT, "an event of {} bytes passed the cap", e.data.len());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        input in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..64),
    ) {
        let _ = decode(&input, &cuts);
    }
}
