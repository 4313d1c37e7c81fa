//! Incremental Server-Sent Events decoder: bytes in any fragmentation -> complete events.
//!
//! A line or an event larger than [`MAX_EVENT_BYTES`] is refused: a server that never ends a
//! line would otherwise make the decoder buffer without limit.
//!
//! Kept rather than `eventsource-stream` (already in the dependency tree): that decoder has no
//! cap, a cap around it would have to find line ends itself, and it re-parses its whole buffer
//! for every chunk, so one 4 MiB line in 1 KiB chunks takes seconds where this takes
//! milliseconds (`benches/sse_decoders.rs`, figures in docs/benchmarks.md).

/// Largest SSE line, and largest event (all its `data:` lines together), the decoder holds.
///
/// Real stream events are a few hundred bytes; even a whole tool-call argument sent as one event
/// stays far below this. The cap bounds memory against a broken or hostile server.
pub const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// One dispatched SSE event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field; empty when absent.
    pub event: String,
    /// All `data:` lines joined by `\n`.
    pub data: String,
}

/// A line or event grew past the decoder's limit; the stream cannot be decoded further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a single stream line or event is larger than the {} MiB limit", .limit / (1024 * 1024))]
pub struct SseTooLarge {
    /// The limit in bytes.
    pub limit: usize,
}

/// Feeds on arbitrary byte chunks; never panics on malformed input.
#[derive(Debug)]
pub struct SseDecoder {
    buf: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    /// The previous chunk ended in `\r`; a leading `\n` of the next one belongs to it.
    skip_lf: bool,
    /// Complete lines decoded so far (comments and blank lines included).
    lines: u64,
    limit: usize,
    /// Set once the limit was exceeded; every later call fails the same way.
    failed: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::with_limit(MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder refusing lines and events longer than `limit` bytes (tests use small limits).
    pub fn with_limit(limit: usize) -> Self {
        SseDecoder {
            buf: Vec::new(),
            event: String::new(),
            data: String::new(),
            has_data: false,
            skip_lf: false,
            lines: 0,
            limit,
            failed: false,
        }
    }

    /// Complete lines decoded so far. A caller can tell progress (a line finished) from bytes
    /// merely trickling into an unfinished line.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    fn too_large(&mut self) -> SseTooLarge {
        self.failed = true;
        self.buf = Vec::new();
        self.data = String::new();
        SseTooLarge { limit: self.limit }
    }

    /// Decodes a chunk, appending finished events to `out`. Fails once a line or an event
    /// exceeds the limit; the bytes buffered so far are released then.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        if self.failed {
            return Err(SseTooLarge { limit: self.limit });
        }
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        let mut start = 0;
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            if b == b'\n' || b == b'\r' {
                let line_end = i;
                i += 1;
                if b == b'\r' {
                    if i < chunk.len() {
                        if chunk[i] == b'\n' {
                            i += 1;
                        }
                    } else {
                        self.skip_lf = true;
                    }
                }
                if self.buf.len() + (line_end - start) > self.limit {
                    return Err(self.too_large());
                }
                if self.buf.is_empty() {
                    self.line(&chunk[start..line_end], out)?;
                } else {
                    self.buf.extend_from_slice(&chunk[start..line_end]);
                    let line = std::mem::take(&mut self.buf);
                    self.line(&line, out)?;
                }
                start = i;
            } else {
                i += 1;
            }
        }
        let rest = &chunk[start..];
        if self.buf.len() + rest.len() > self.limit {
            return Err(self.too_large());
        }
        self.buf.extend_from_slice(rest);
        Ok(())
    }

    /// Ends the input: a final event without its blank line is still dispatched.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        if self.failed {
            return Err(SseTooLarge { limit: self.limit });
        }
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            self.line(&line, out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseTooLarge> {
        self.lines += 1;
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(p) => {
                let v = &line[p + 1..];
                (&line[..p], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                let value = String::from_utf8_lossy(value);
                // The joining newline counts too.
                if self.data.len() + value.len() + usize::from(self.has_data) > self.limit {
                    return Err(self.too_large());
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            });
        }
        self.event.clear();
        self.data.clear();
        self.has_data = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in input.chunks(piece.max(1)) {
            d.push(c, &mut out).unwrap();
        }
        d.finish(&mut out).unwrap();
        out
    }

    /// Feeds `input` in pieces to a decoder with `limit`; the events and the first error.
    fn decode_limited(
        input: &[u8],
        piece: usize,
        limit: usize,
    ) -> (Vec<SseEvent>, Option<SseTooLarge>) {
        let mut d = SseDecoder::with_limit(limit);
        let mut out = Vec::new();
        for c in input.chunks(piece.max(1)) {
            if let Err(e) = d.push(c, &mut out) {
                return (out, Some(e));
            }
        }
        let err = d.finish(&mut out).err();
        (out, err)
    }

    #[test]
    fn a_line_longer_than_the_limit_fails_in_any_fragmentation() {
        let mut input = b"data: ok\n\n".to_vec();
        input.extend_from_slice(b"data: ");
        input.extend(std::iter::repeat_n(b'x', 100));
        input.extend_from_slice(b"\n\n");
        for piece in [1, 7, 64, input.len()] {
            let (events, err) = decode_limited(&input, piece, 64);
            assert_eq!(err, Some(SseTooLarge { limit: 64 }), "piece size {piece}");
            assert_eq!(events.len(), 1, "the event before the long line survives");
        }
    }

    #[test]
    fn an_unterminated_line_fails_once_it_passes_the_limit_and_stays_failed() {
        let mut d = SseDecoder::with_limit(32);
        let mut out = Vec::new();
        d.push(b"data: 0123456789", &mut out).unwrap();
        d.push(b"0123456789", &mut out).unwrap();
        let err = d.push(b"0123456789", &mut out).unwrap_err();
        assert_eq!(err.limit, 32);
        assert_eq!(d.buf.capacity(), 0, "the buffered bytes are released");
        assert!(d.push(b"\n\n", &mut out).is_err());
        assert!(d.finish(&mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn an_event_of_many_short_lines_is_capped_as_a_whole() {
        let input = b"data: 0123456789\n".repeat(10);
        let (events, err) = decode_limited(&input, 5, 64);
        assert!(events.is_empty());
        assert_eq!(err, Some(SseTooLarge { limit: 64 }));
        // Exactly at the limit is fine: 5 lines of 10 bytes + 4 joining newlines = 54 bytes.
        let input = b"data: 0123456789\n".repeat(5);
        let (events, err) = decode_limited(&input, 3, 54);
        assert_eq!(err, None);
        assert_eq!(events[0].data.len(), 54);
    }

    #[test]
    fn the_default_limit_is_eight_mib_and_names_itself() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        let piece = vec![b'x'; 1024 * 1024];
        d.push(b"data: ", &mut out).unwrap();
        let mut failed = None;
        for _ in 0..9 {
            if let Err(e) = d.push(&piece, &mut out) {
                failed = Some(e);
                break;
            }
        }
        let err = failed.expect("nine MiB in one line must fail");
        assert_eq!(err.limit, MAX_EVENT_BYTES);
        assert!(err.to_string().contains("8 MiB"), "{err}");
    }

    #[test]
    fn lines_count_complete_lines_only() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        d.push(b"data: a", &mut out).unwrap();
        assert_eq!(d.lines(), 0);
        d.push(b"bc\n: keep-alive\r\n", &mut out).unwrap();
        assert_eq!(d.lines(), 2);
        d.push(b"\n", &mut out).unwrap();
        assert_eq!(d.lines(), 3);
        assert_eq!(out[0].data, "abc");
    }

    #[test]
    fn decodes_events_regardless_of_fragmentation() {
        let input = b"event: message_start\ndata: {\"a\":1}\n\n: comment\r\ndata: x\r\ndata: y\r\n\r\ndata:z\rdata: w\r\r";
        let expected = vec![
            SseEvent {
                event: "message_start".into(),
                data: "{\"a\":1}".into(),
            },
            SseEvent {
                event: String::new(),
                data: "x\ny".into(),
            },
            SseEvent {
                event: String::new(),
                data: "z\nw".into(),
            },
        ];
        for piece in 1..input.len() {
            assert_eq!(
                decode_in_pieces(input, piece),
                expected,
                "piece size {piece}"
            );
        }
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_trailing_event_is() {
        assert_eq!(
            decode_in_pieces(b"event: ping\n\ndata: [DONE]", 3),
            vec![SseEvent {
                event: String::new(),
                data: "[DONE]".into()
            }]
        );
    }

    #[test]
    fn multibyte_characters_split_across_chunks_survive() {
        let input = "data: héllo ✓\n\n".as_bytes();
        assert_eq!(decode_in_pieces(input, 1)[0].data, "héllo ✓");
    }
}
