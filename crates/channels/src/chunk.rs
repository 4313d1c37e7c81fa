//! Cutting a long answer into messages a channel accepts (Telegram: 4,096 characters), at
//! paragraph and line boundaries, never inside a code block: a block longer than one message is
//! split by lines and each piece fenced again, so every message renders on its own.

/// Length as channels count it: UTF-16 code units (at least the number of characters).
pub fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A run of the text: a paragraph (with the blank lines after it) or a whole fenced code block.
struct Segment {
    text: String,
    /// The fence that opens it (e.g. "```rust"), for a code block.
    fence: Option<String>,
    /// Ended by a blank line or a closing fence: nothing written later joins it.
    closed: bool,
}

/// The fence a line opens or closes, if it is one: up to three spaces, then three or more
/// backticks or tildes.
fn fence_of(line: &str) -> Option<&str> {
    let trimmed = line.trim_end_matches(['\n', '\r']);
    let body = trimmed.trim_start_matches(' ');
    if trimmed.len() - body.len() > 3 {
        return None;
    }
    let ch = body.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = body.chars().take_while(|c| *c == ch).count();
    (n >= 3).then(|| &body[..n])
}

fn segments(text: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut cur = String::new();
    let mut open: Option<(String, String)> = None; // (fence marker, whole opening line)
    let flush = |cur: &mut String, fence: Option<String>, closed: bool, out: &mut Vec<Segment>| {
        if !cur.is_empty() {
            out.push(Segment {
                text: std::mem::take(cur),
                fence,
                closed,
            });
        }
    };
    for line in text.split_inclusive('\n') {
        if let Some((marker, opening)) = &open {
            cur.push_str(line);
            let closes = fence_of(line).is_some_and(|f| {
                f.starts_with(&marker[..1]) && f.len() >= marker.len() && {
                    let rest = line.trim().trim_start_matches(&marker[..1]);
                    rest.is_empty()
                }
            });
            if closes {
                let opening = opening.clone();
                open = None;
                flush(&mut cur, Some(opening), true, &mut out);
            }
            continue;
        }
        if let Some(f) = fence_of(line) {
            flush(&mut cur, None, true, &mut out);
            open = Some((
                f.to_string(),
                line.trim_end_matches(['\n', '\r']).trim_start().to_string(),
            ));
            cur.push_str(line);
            continue;
        }
        cur.push_str(line);
        if line.trim().is_empty() {
            flush(&mut cur, None, true, &mut out);
        }
    }
    let fence = open.map(|(_, opening)| opening);
    flush(&mut cur, fence, false, &mut out);
    out
}

/// How much of `text` (in bytes) is finished blocks: whole paragraphs and closed code blocks,
/// which later text cannot change. A paragraph with no end in sight that is already longer
/// than `max` units counts up to its last line break, so one huge paragraph still streams.
pub fn finished_prefix(text: &str, max: usize) -> usize {
    let mut end = 0;
    for seg in segments(text) {
        if !seg.closed {
            if seg.fence.is_none() && units(&seg.text) > max {
                end += seg.text.rfind('\n').map_or(0, |i| i + 1);
            }
            break;
        }
        end += seg.text.len();
    }
    end
}

/// Cuts `s` into pieces of at most `max` units: at the last space before the limit, else hard
/// (at a character boundary).
fn split_line(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while units(rest) > max {
        let mut cut = 0;
        let mut last_space = None;
        let mut used = 0;
        for (i, c) in rest.char_indices() {
            let w = c.len_utf16();
            if used + w > max {
                break;
            }
            used += w;
            cut = i + c.len_utf8();
            if c == ' ' {
                last_space = Some(cut);
            }
        }
        let at = last_space.filter(|p| *p > cut / 2).unwrap_or(cut).max(1);
        let at = if rest.is_char_boundary(at) {
            at
        } else {
            cut.max(1)
        };
        out.push(rest[..at].to_string());
        rest = &rest[at..];
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// Packs lines into pieces of at most `max` units, splitting a line only when it alone is
/// too long.
fn pack_lines(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        let parts = if units(line) > max {
            split_line(line, max)
        } else {
            vec![line.to_string()]
        };
        for part in parts {
            if !cur.is_empty() && units(&cur) + units(&part) > max {
                out.push(std::mem::take(&mut cur));
            }
            cur.push_str(&part);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A code block too long for one message, as several fenced blocks.
fn split_code(seg: &str, opening: &str, max: usize) -> Vec<String> {
    let marker: String = opening
        .chars()
        .take_while(|c| *c == '`' || *c == '~')
        .collect();
    let mut lines = seg.split_inclusive('\n');
    lines.next(); // the opening fence
    let mut body: String = lines.collect();
    let trimmed = body.trim_end();
    if fence_of(trimmed.rsplit('\n').next().unwrap_or("")).is_some() {
        let cut = trimmed.rfind('\n').map_or(0, |i| i + 1);
        body.truncate(cut);
    }
    let open = format!("{opening}\n");
    let close = format!("{marker}\n");
    let budget = max.saturating_sub(units(&open) + units(&close) + 1).max(1);
    pack_lines(&body, budget)
        .into_iter()
        .map(|piece| {
            let nl = if piece.ends_with('\n') { "" } else { "\n" };
            format!("{open}{piece}{nl}{close}")
        })
        .collect()
}

/// Splits `text` into messages of at most `max` units (Telegram: 4,096), at paragraph
/// boundaries when it can, then lines, then spaces; a code block is kept whole or re-fenced.
/// Never returns an empty message; an empty text gives no message.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(32);
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for seg in segments(text) {
        if units(&cur) + units(&seg.text) <= max {
            cur.push_str(&seg.text);
            continue;
        }
        if !cur.trim().is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.clear();
        if units(&seg.text) <= max {
            cur = seg.text;
            continue;
        }
        let mut pieces = match &seg.fence {
            Some(opening) => split_code(&seg.text, opening, max),
            None => pack_lines(&seg.text, max),
        };
        cur = pieces.pop().unwrap_or_default();
        out.extend(pieces);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|c| c.trim_end().trim_start_matches(['\n', '\r']).to_string())
        .filter(|c| !c.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
