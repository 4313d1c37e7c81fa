//! One stream of a background process: its last lines in memory and all of them (up to a cap)
//! in a log file, numbered from 0 so a reader can go on from where it stopped.

use std::collections::VecDeque;
use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

/// Lines kept in memory per stream.
pub const RING_LINES: usize = 500;
/// A line longer than this is cut (a stream without newlines cannot grow a line forever).
pub const MAX_LINE_BYTES: usize = 4096;
/// The log file of one stream stops growing here; later lines are only in memory.
pub const FILE_CAP_BYTES: u64 = 16 * 1024 * 1024;

/// Where to read from, and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines {
    /// The first line returned (its number), and the lines.
    pub from: u64,
    pub lines: Vec<String>,
    /// Lines printed so far: the offset to go on from once these are read.
    pub total: u64,
    /// Lines that were asked for but are neither in memory nor in the file (past its cap).
    pub lost: u64,
}

#[derive(Debug)]
pub(crate) struct Output {
    ring: VecDeque<String>,
    total: u64,
    partial: Vec<u8>,
    file: Option<(std::fs::File, PathBuf)>,
    file_bytes: u64,
    /// Lines written to the file (the first `file_lines` lines of the stream).
    file_lines: u64,
}

impl Output {
    pub(crate) fn new(file: Option<(std::fs::File, PathBuf)>) -> Output {
        Output {
            ring: VecDeque::with_capacity(64),
            total: 0,
            partial: Vec::new(),
            file,
            file_bytes: 0,
            file_lines: 0,
        }
    }

    /// Takes bytes as they arrive; complete lines (and over-long ones, cut) are kept.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut done = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                done.push(std::mem::take(&mut self.partial));
            } else if self.partial.len() < MAX_LINE_BYTES {
                self.partial.push(b);
            } else {
                done.push(std::mem::take(&mut self.partial));
                self.partial.push(b);
            }
        }
        done.into_iter().map(|l| self.line(l)).collect()
    }

    /// The stream ended: a last line without a newline is kept too.
    pub(crate) fn finish(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            return None;
        }
        let last = std::mem::take(&mut self.partial);
        Some(self.line(last))
    }

    fn line(&mut self, bytes: Vec<u8>) -> String {
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if text.ends_with('\r') {
            text.pop();
        }
        if let Some((file, _)) = &mut self.file
            && self.file_bytes + (text.len() as u64) < FILE_CAP_BYTES
            && self.file_lines == self.total
            && writeln!(file, "{text}").is_ok()
        {
            self.file_bytes += text.len() as u64 + 1;
            self.file_lines += 1;
        }
        self.total += 1;
        if self.ring.len() == RING_LINES {
            self.ring.pop_front();
        }
        self.ring.push_back(text.clone());
        text
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The last `n` lines.
    pub(crate) fn tail(&self, n: usize) -> Vec<String> {
        self.ring
            .iter()
            .skip(self.ring.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// Up to `max` lines from line `from`: from memory, or from the file for older ones.
    /// `None` when `from` is past the end.
    pub(crate) fn read(&self, from: u64, max: usize) -> Option<Lines> {
        if from > self.total {
            return None;
        }
        let first_in_ring = self.total - self.ring.len() as u64;
        let mut lines = Vec::new();
        let mut lost = 0;
        let mut at = from;
        if at < first_in_ring {
            if let Some((_, path)) = &self.file
                && at < self.file_lines
            {
                let file = std::fs::File::open(path).ok();
                if let Some(f) = file {
                    for l in std::io::BufReader::new(f)
                        .lines()
                        .skip(usize::try_from(at).unwrap_or(usize::MAX))
                        .take(max)
                    {
                        match l {
                            Ok(l) => lines.push(l),
                            Err(_) => break,
                        }
                        at += 1;
                        if at >= self.file_lines {
                            break;
                        }
                    }
                }
            }
            if at < first_in_ring && lines.len() < max {
                lost = first_in_ring - at;
                at = first_in_ring;
            }
        }
        if lines.len() >= max || at < first_in_ring {
            return Some(Lines {
                from,
                total: self.total,
                lost,
                lines,
            });
        }
        let skip = usize::try_from(at - first_in_ring).unwrap_or(usize::MAX);
        lines.extend(self.ring.iter().skip(skip).take(max - lines.len()).cloned());
        Some(Lines {
            from,
            total: self.total,
            lost,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_old_ones_come_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let file = std::fs::File::create(&path).unwrap();
        let mut o = Output::new(Some((file, path)));
        for i in 0..(RING_LINES + 100) {
            o.push(format!("line {i}\n").as_bytes());
        }
        assert_eq!(o.total(), 600);
        let r = o.read(0, 3).unwrap();
        assert_eq!(r.lines, ["line 0", "line 1", "line 2"]);
        assert_eq!(r.lost, 0);
        let r = o.read(98, 4).unwrap();
        assert_eq!(r.lines, ["line 98", "line 99", "line 100", "line 101"]);
        let r = o.read(598, 10).unwrap();
        assert_eq!(r.lines, ["line 598", "line 599"]);
        assert_eq!(o.read(600, 10).unwrap().lines, Vec::<String>::new());
        assert_eq!(o.read(601, 10), None, "past the end");
        assert_eq!(o.tail(2), ["line 598", "line 599"]);
    }

    #[test]
    fn without_a_file_old_lines_are_counted_as_lost() {
        let mut o = Output::new(None);
        for i in 0..(RING_LINES + 10) {
            o.push(format!("{i}\n").as_bytes());
        }
        let r = o.read(0, 5).unwrap();
        assert_eq!(r.lost, 10);
        assert_eq!(r.lines[0], "10");
    }

    #[test]
    fn a_flood_without_newlines_is_cut_into_bounded_lines() {
        let mut o = Output::new(None);
        o.push(&vec![b'x'; MAX_LINE_BYTES * 3 + 5]);
        assert_eq!(o.total(), 3);
        assert_eq!(o.finish().map(|l| l.len()), Some(5));
        assert!(o.tail(10).iter().all(|l| l.len() <= MAX_LINE_BYTES));
    }
}
