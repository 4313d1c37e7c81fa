//! Our SSE decoder against `eventsource-stream` (the maintained decoder already in the
//! dependency tree), on the same bytes in 1 KiB network-sized chunks:
//!
//! - a 10k-token OpenAI-style stream (many small events), the everyday case;
//! - one `data:` line of 1 MiB and of 4 MiB, below our 8 MiB cap: how buffering a long line
//!   scales.
//!
//! Then a 300 MiB line fed to ours in 64 KiB chunks, never held whole: the error it ends with
//! and the process's peak RSS (`VmHWM`).
//!
//! Run with `cargo bench -p pryx-llm --bench sse_decoders`.

use std::hint::black_box;
use std::time::Instant;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use pryx_llm::sse::SseDecoder;

const CHUNK: usize = 1024;

fn token_stream() -> Vec<u8> {
    let mut s = String::new();
    for i in 0..10_000 {
        s += &format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" w{i}\"}},\"finish_reason\":null}}]}}\n\n"
        );
    }
    s += "data: [DONE]\n\n";
    s.into_bytes()
}

fn long_line(bytes: usize) -> Vec<u8> {
    let mut v = b"data: ".to_vec();
    v.extend(std::iter::repeat_n(b'x', bytes));
    v.extend_from_slice(b"\n\n");
    v
}

/// Events and total data bytes decoded by ours.
fn ours(input: &[u8]) -> (usize, usize) {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    for c in input.chunks(CHUNK) {
        if d.push(c, &mut out).is_err() {
            return (0, 0);
        }
    }
    let _ = d.finish(&mut out);
    (out.len(), out.iter().map(|e| e.data.len()).sum())
}

/// Events and total data bytes decoded by `eventsource-stream`.
fn theirs(rt: &tokio::runtime::Runtime, input: &[u8]) -> (usize, usize) {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = input
        .chunks(CHUNK)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    rt.block_on(async move {
        let mut events = futures_util::stream::iter(chunks).eventsource();
        let (mut n, mut size) = (0, 0);
        while let Some(e) = events.next().await {
            match e {
                Ok(e) => {
                    n += 1;
                    size += e.data.len();
                }
                Err(_) => return (0, 0),
            }
        }
        (n, size)
    })
}

fn time(iterations: u32, mut f: impl FnMut() -> (usize, usize)) -> (f64, (usize, usize)) {
    let result = f();
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    (
        start.elapsed().as_secs_f64() * 1e3 / f64::from(iterations),
        result,
    )
}

/// Peak resident set of this process in KiB, from the kernel's high-water mark.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn huge_line() {
    const TOTAL: usize = 300 << 20;
    let piece = vec![b'x'; 64 << 10];
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    let mut fed = 0;
    let mut result = d.push(b"data: ", &mut out);
    while result.is_ok() && fed < TOTAL {
        result = d.push(&piece, &mut out);
        fed += piece.len();
    }
    println!(
        "300 MiB line: {} after {:.1} MiB fed, peak RSS {:.1} MB",
        result.map_or_else(|e| e.to_string(), |()| "no error".into()),
        fed as f64 / f64::from(1 << 20),
        peak_rss_kib() as f64 * 1024.0 / 1e6
    );
}

fn main() {
    // First, while the heap is small: the long-line case is about peak memory.
    huge_line();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let cases = [
        ("10k-token stream", token_stream(), 20),
        ("one 1 MiB line", long_line(1 << 20), 3),
        ("one 4 MiB line", long_line(4 << 20), 1),
    ];
    println!(
        "{:<18} {:>9} {:>14} {:>14}",
        "case", "MB", "ours ms", "eventsource ms"
    );
    for (name, input, iterations) in cases {
        let (a, ra) = time(iterations, || ours(black_box(&input)));
        let (b, rb) = time(iterations, || theirs(&rt, black_box(&input)));
        assert_eq!(ra, rb, "{name}: both decoders must see the same events");
        println!(
            "{name:<18} {:>9.2} {a:>14.2} {b:>14.2}",
            input.len() as f64 / 1e6
        );
    }
}
