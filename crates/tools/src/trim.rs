//! Head + tail trimming of large outputs (PRD §10.7.6 soft-trim), on UTF-8 boundaries.

use std::borrow::Cow;

/// Share of the budget kept from the start; the rest comes from the end, where errors and
/// summaries usually are.
pub const HEAD_RATIO: f64 = 0.3;

/// Cuts `text` to at most `max_bytes` (marker included) keeping 30% head and 70% tail.
pub fn trim_output(text: &str, max_bytes: usize) -> Cow<'_, str> {
    trim_head_tail(text, max_bytes, HEAD_RATIO)
}

/// Like [`trim_output`] with an explicit head share (`0.0..=1.0`).
pub fn trim_head_tail(text: &str, max_bytes: usize, head_ratio: f64) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    // The marker's length depends on the omitted count, which depends on the marker: size the
    // budget with the widest possible count (the whole text).
    let reserve = marker(text.len()).len();
    let budget = max_bytes.saturating_sub(reserve);
    let ratio = head_ratio.clamp(0.0, 1.0);
    // Budget is bounded by the text length, so the float round-trip stays exact enough.
    let head_want = ((budget as f64) * ratio) as usize;
    let tail_want = budget - head_want.min(budget);
    let head_end = floor_char_boundary(text, head_want);
    let tail_start = ceil_char_boundary(text, text.len() - tail_want.min(text.len()));
    let tail_start = tail_start.max(head_end);
    let omitted = tail_start - head_end;
    let mut out = String::with_capacity(max_bytes);
    out.push_str(&text[..head_end]);
    out.push_str(&marker(omitted));
    out.push_str(&text[tail_start..]);
    Cow::Owned(out)
}

/// Joins a kept head and tail of a longer byte stream (`total` bytes) into text with a marker;
/// partial UTF-8 sequences at the cut points are dropped, invalid bytes elsewhere replaced.
pub fn join_head_tail(head: &[u8], tail: &[u8], total: u64) -> String {
    let kept = (head.len() + tail.len()) as u64;
    if kept >= total {
        let mut all = head.to_vec();
        all.extend_from_slice(tail);
        return String::from_utf8_lossy(&all).into_owned();
    }
    let head = &head[..valid_prefix_len(head)];
    let tail = &tail[valid_suffix_start(tail)..];
    let omitted = total - head.len() as u64 - tail.len() as u64;
    let mut out = String::from_utf8_lossy(head).into_owned();
    out.push_str(&marker(usize::try_from(omitted).unwrap_or(usize::MAX)));
    out.push_str(&String::from_utf8_lossy(tail));
    out
}

/// The text put where bytes were cut, e.g. `[… 12,345 bytes omitted …]` on its own line.
pub fn marker(omitted: usize) -> String {
    format!("\n[… {} bytes omitted …]\n", group_thousands(omitted))
}

fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Length of `bytes` without an incomplete UTF-8 sequence at its end.
fn valid_prefix_len(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => bytes.len(),
    }
}

/// Index after any UTF-8 continuation bytes at the start of `bytes` (a char cut in half).
fn valid_suffix_start(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take(3)
        .take_while(|b| (**b & 0b1100_0000) == 0b1000_0000)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_untouched() {
        assert!(matches!(trim_output("hello", 10), Cow::Borrowed("hello")));
    }

    #[test]
    fn long_text_keeps_head_and_tail_within_cap() {
        let text: String = (0..10_000).map(|i| format!("line {i}\n")).collect();
        let out = trim_output(&text, 1_000);
        assert!(out.len() <= 1_000, "len {}", out.len());
        assert!(out.starts_with("line 0\n"));
        assert!(out.ends_with("line 9999\n"));
        assert!(out.contains("bytes omitted"));
        let omitted: usize = text.len() - (out.len() - marker_len_in(&out));
        assert!(out.contains(&group_thousands(omitted)));
    }

    fn marker_len_in(out: &str) -> usize {
        let start = out.find("\n[…").unwrap();
        let end = out[start..].find("…]\n").unwrap() + start + "…]\n".len();
        end - start
    }

    #[test]
    fn cuts_on_utf8_boundaries() {
        let text = "é😀ü".repeat(2_000);
        for cap in [50, 51, 52, 53, 97, 500, 1001] {
            for ratio in [0.0, 0.3, 0.5, 1.0] {
                let out = trim_head_tail(&text, cap, ratio);
                assert!(out.len() <= cap.max(marker(text.len()).len()));
                // A String is valid UTF-8 by construction; also check no replacement chars.
                assert!(!out.contains('\u{FFFD}'));
            }
        }
    }

    #[test]
    fn thousands_separator() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(12_345), "12,345");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(marker(12_345), "\n[… 12,345 bytes omitted …]\n");
    }

    #[test]
    fn join_drops_split_characters() {
        let text = "aé".repeat(100).into_bytes();
        // Cut the head inside 'é' (2 bytes) and the tail just after its first byte.
        let head = &text[..4]; // "aé" + "a"? -> "a", 0xC3, 0xA9, "a"
        let head = &head[..2]; // "a" + first byte of é
        let tail = &text[text.len() - 1..]; // last byte of é
        let out = join_head_tail(head, tail, text.len() as u64);
        assert!(out.starts_with("a\n[…"));
        assert!(out.ends_with("omitted …]\n"));
        assert!(!out.contains('\u{FFFD}'));
        assert!(out.contains(&group_thousands(text.len() - 1)));
    }

    #[test]
    fn join_without_omission_is_plain() {
        assert_eq!(join_head_tail(b"ab", b"cd", 4), "abcd");
    }
}
