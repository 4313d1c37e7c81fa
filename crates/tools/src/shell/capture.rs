//! Bounded capture of a command's output: keeps the first and last bytes, counts the rest.

use std::collections::VecDeque;

use crate::trim::{HEAD_RATIO, join_head_tail};

/// Head + tail buffer of at most `cap` bytes in total.
#[derive(Debug)]
pub(crate) struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    head_cap: usize,
    tail_cap: usize,
    total: u64,
}

impl Capture {
    pub(crate) fn new(cap: usize) -> Self {
        let head_cap = ((cap as f64) * HEAD_RATIO) as usize;
        Self {
            head: Vec::new(),
            tail: VecDeque::new(),
            head_cap,
            tail_cap: cap - head_cap.min(cap),
            total: 0,
        }
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.head_cap - self.head.len();
        if room > 0 {
            let n = room.min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        if bytes.len() >= self.tail_cap {
            self.tail.clear();
            self.tail
                .extend(bytes[bytes.len() - self.tail_cap..].iter().copied());
            return;
        }
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(self.tail_cap);
        self.tail.drain(..overflow);
        self.tail.extend(bytes.iter().copied());
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    pub(crate) fn truncated(&self) -> bool {
        self.total > (self.head.len() + self.tail.len()) as u64
    }

    /// The captured text, with a marker where bytes were dropped.
    pub(crate) fn text(&self) -> String {
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        join_head_tail(&self.head, &tail, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_output_is_kept_whole() {
        let mut c = Capture::new(100);
        c.push(b"hello ");
        c.push(b"world");
        assert_eq!(c.text(), "hello world");
        assert!(!c.truncated());
    }

    #[test]
    fn large_output_keeps_head_and_tail() {
        let mut c = Capture::new(100);
        for i in 0..1000 {
            c.push(format!("{i:04}\n").as_bytes());
        }
        let t = c.text();
        assert!(t.starts_with("0000\n0001\n"));
        assert!(t.ends_with("0998\n0999\n"));
        assert!(t.contains("bytes omitted"));
        assert_eq!(c.total(), 5000);
        assert!(c.truncated());
        let one_big = {
            let mut c = Capture::new(100);
            c.push(&vec![b'x'; 10_000]);
            c
        };
        assert_eq!(one_big.text().matches('x').count(), 100);
    }
}
