//! Block streaming for channels: an answer goes out while the model writes it, as finished
//! paragraphs and whole code blocks (never token by token, never cut inside a fence), at least
//! `min_units` at a time and no more often than `interval`, so a chat sees progress without a
//! message per line. The pieces are cut by the same [`chunk`](crate::chunk) rules as a whole
//! answer, and the text that went out is kept so the end of the turn sends only the rest.

use crate::chunk::{finished_prefix, split, units};
use std::time::{Duration, Instant};

/// How blocks are cut and paced.
#[derive(Debug, Clone, Copy)]
pub struct BlockConfig {
    /// A block smaller than this waits for more text (the end of the answer sends any size).
    pub min_units: usize,
    /// The channel's message size.
    pub max_units: usize,
    /// Least time between two sends.
    pub interval: Duration,
}

impl Default for BlockConfig {
    fn default() -> Self {
        BlockConfig {
            min_units: 200,
            max_units: crate::telegram::MAX_MESSAGE_UNITS,
            interval: Duration::from_secs(1),
        }
    }
}

/// The answer of one turn as it streams: its text so far, how much is finished, how much went
/// out.
#[derive(Debug)]
pub struct BlockStream {
    cfg: BlockConfig,
    text: String,
    /// Where the message being written starts in `text`.
    message_start: usize,
    /// Bytes of `text` that are finished blocks.
    finished: usize,
    /// Bytes of `text` already handed out.
    sent: usize,
    last_sent: Option<Instant>,
    created: Instant,
}

impl BlockStream {
    pub fn new(cfg: BlockConfig) -> Self {
        BlockStream {
            cfg,
            text: String::new(),
            message_start: 0,
            finished: 0,
            sent: 0,
            last_sent: None,
            created: Instant::now(),
        }
    }

    /// More of the answer as the model streams it.
    pub fn push(&mut self, delta: &str) {
        self.text.push_str(delta);
        self.advance();
    }

    /// The message being written was stored with `text` (the text that counts, should the
    /// streamed one differ); the next message's text follows as a new paragraph. An empty text
    /// (a message of tool calls only) adds nothing.
    pub fn end_message(&mut self, text: &str) {
        self.text.truncate(self.message_start.max(self.sent));
        // What was finished past `sent` is looked at again in the stored text.
        self.finished = self.sent;
        if self.message_start >= self.sent {
            self.text.push_str(text);
        } else if let Some(rest) = text.get(self.sent - self.message_start..) {
            // Part of this message went out already: keep it, take the rest from the stored text.
            self.text.push_str(rest);
        }
        if !text.trim().is_empty() {
            self.text.push_str("\n\n");
        }
        self.message_start = self.text.len();
        self.advance();
    }

    fn advance(&mut self) {
        let from = self.finished;
        self.finished = from + finished_prefix(&self.text[from..], self.cfg.max_units);
    }

    /// The blocks to send at `now`: finished text of at least `min_units` once `interval` has
    /// passed since the last send.
    pub fn take(&mut self, now: Instant) -> Vec<String> {
        match self.next_due() {
            Some(due) if due <= now => {}
            _ => return Vec::new(),
        }
        let blocks = split(&self.text[self.sent..self.finished], self.cfg.max_units);
        self.sent = self.finished;
        self.last_sent = Some(now);
        blocks
    }

    /// When finished text may go next (`None`: too little is finished).
    pub fn next_due(&self) -> Option<Instant> {
        let ready = &self.text[self.sent..self.finished];
        if ready.trim().is_empty() || units(ready) < self.cfg.min_units {
            return None;
        }
        Some(match self.last_sent {
            Some(t) => t + self.cfg.interval,
            None => self.created,
        })
    }

    /// The text that went out.
    pub fn sent_text(&self) -> &str {
        &self.text[..self.sent]
    }
}

/// What of the whole `answer` is still to send after `sent` went out while streaming: the
/// rest when `sent` is where the answer starts; else (the stored answer differs from what was
/// streamed) all of it — said twice rather than lost.
pub fn unsent<'a>(answer: &'a str, sent: &str) -> &'a str {
    let sent = sent.trim_end();
    if sent.is_empty() {
        return answer;
    }
    match answer.strip_prefix(sent) {
        Some(rest) => rest,
        None => answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(min: usize) -> BlockConfig {
        BlockConfig {
            min_units: min,
            max_units: 4096,
            interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_paragraph_goes_once_it_is_finished() {
        let mut s = BlockStream::new(cfg(10));
        let t0 = Instant::now();
        s.push("The first paragraph is here.");
        assert!(s.take(t0).is_empty(), "not finished: more may follow");
        s.push("\n\nThe second");
        assert_eq!(s.take(t0), vec!["The first paragraph is here.".to_string()]);
        s.push(" paragraph.\n\nThird.");
        assert!(s.take(t0).is_empty(), "the interval has not passed");
        let later = t0 + Duration::from_secs(1);
        assert_eq!(s.take(later), vec!["The second paragraph.".to_string()]);
        assert_eq!(
            unsent(
                "The first paragraph is here.\n\nThe second paragraph.\n\nThird.",
                s.sent_text()
            ),
            "\n\nThird."
        );
    }

    #[test]
    fn never_inside_a_code_fence() {
        let mut s = BlockStream::new(cfg(1));
        let t0 = Instant::now();
        s.push("Here:\n\n```rust\nfn a() {}\n\nfn b() {}\n");
        let first = s.take(t0);
        assert_eq!(first, vec!["Here:".to_string()]);
        let t1 = t0 + Duration::from_secs(5);
        assert!(
            s.take(t1).is_empty(),
            "the fence is open: a blank line inside does not end it"
        );
        s.push("```\n\nAfter.");
        assert_eq!(
            s.take(t1),
            vec!["```rust\nfn a() {}\n\nfn b() {}\n```".to_string()]
        );
    }

    #[test]
    fn small_blocks_wait_to_be_coalesced() {
        let mut s = BlockStream::new(cfg(40));
        let t0 = Instant::now();
        s.push("One.\n\nTwo.\n\n");
        assert!(s.next_due().is_none(), "too little is finished");
        s.push("Three is a longer paragraph than the others.\n\n");
        assert_eq!(
            s.take(t0),
            vec!["One.\n\nTwo.\n\nThree is a longer paragraph than the others.".to_string()]
        );
    }

    #[test]
    fn messages_of_a_turn_join_as_paragraphs_and_the_stored_text_wins() {
        let mut s = BlockStream::new(cfg(1));
        let t0 = Instant::now();
        s.push("Let me look");
        s.end_message("Let me look.");
        s.end_message(""); // tool calls only
        s.push("It says hi.");
        assert_eq!(s.take(t0), vec!["Let me look.".to_string()]);
        s.end_message("It says hi.");
        let answer = "Let me look.\n\nIt says hi.";
        assert_eq!(unsent(answer, s.sent_text()), "\n\nIt says hi.");
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(s.take(t1), vec!["It says hi.".to_string()]);
        assert_eq!(unsent(answer, s.sent_text()), "");
    }

    #[test]
    fn a_long_unfinished_paragraph_streams_by_lines() {
        let mut s = BlockStream::new(BlockConfig {
            min_units: 1,
            max_units: 64,
            interval: Duration::ZERO,
        });
        let line = "a line of a very long list item without blank lines\n";
        for _ in 0..4 {
            s.push(line);
        }
        s.push("half a line");
        let out = s.take(Instant::now());
        assert!(!out.is_empty());
        assert!(out.iter().all(|b| units(b) <= 64), "{out:?}");
        assert!(!out.concat().contains("half"), "an unfinished line stays");
    }

    #[test]
    fn a_differing_answer_is_sent_whole() {
        assert_eq!(unsent("Other text.", "Streamed."), "Other text.");
        assert_eq!(unsent("All of it.", ""), "All of it.");
    }
}
