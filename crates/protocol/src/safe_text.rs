//! Text from untrusted sources (model answers, tool output, tool-call arguments and approval
//! previews, MCP and skill metadata, file names, errors quoting them) made safe to show to a
//! person: nothing in it can act as a terminal control or hide or reorder what is shown. Every
//! surface (the CLI, the TUI, and the web and channel texts) shows such text through
//! [`escape`]; it lives in the wire crate so all of them share one definition.
//!
//! What is escaped, visibly rather than dropped so the user sees that something was there:
//! - C0 controls but newline and tab (ESC, BEL, CR, BS, …) and DEL become Unicode control
//!   pictures (`␛`, `␇`, `␍`, …). Without a real ESC no CSI/OSC/DCS sequence can start, so
//!   `ESC ] 52 ; c ; … BEL` shows as `␛]52;c;…␇`. A `\r\n` line end stays a line end.
//! - C1 controls (U+0080–U+009F, e.g. the one-byte CSI U+009B) become `‹U+009B›`.
//! - Bidi embeddings, overrides, isolates and marks, and zero-width characters become
//!   `‹U+202E›` and the like, so text cannot be reordered or hidden.
//!
//! [`has_controls`] says whether anything was escaped, so a surface can say so next to the text
//! (an approval preview that needed escaping is marked as such).

use std::borrow::Cow;

/// `text` with every terminal control shown escaped; borrowed when there was nothing to escape.
/// A `\r\n` line end is shown as a line end.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, CrLf::LineEnd)
}

/// As [`escape`], for what a person approves (approval previews, the arguments of a call):
/// every `\r` is shown, a `\r\n` line end included, since the call gets it as it is.
pub fn escape_exact(text: &str) -> Cow<'_, str> {
    escape_with(text, CrLf::Shown)
}

/// Whether [`escape`] would change `text` (a UI marks such text).
pub fn has_controls(text: &str) -> bool {
    first_control(text, CrLf::LineEnd)
}

/// Whether [`escape_exact`] would change `text` (an approval says its preview needed escaping).
pub fn has_controls_exact(text: &str) -> bool {
    first_control(text, CrLf::Shown)
}

/// What a `\r` right before a `\n` is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CrLf {
    /// Part of a line end: dropped.
    LineEnd,
    /// A character like any other control: shown.
    Shown,
}

fn escape_with(text: &str, crlf: CrLf) -> Cow<'_, str> {
    // A `\r\n` line end alone still changes the text (to `\n`).
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if crlf == CrLf::LineEnd && c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn first_control(text: &str, crlf: CrLf) -> bool {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if crlf == CrLf::LineEnd && c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if needs_escape(c) {
            return true;
        }
    }
    false
}

/// A character that must not reach a terminal as itself.
fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        _ => is_invisible_format(c),
    }
}

/// Bidi controls, zero-width and other invisible characters (soft hyphen, fillers, line and
/// paragraph separators, Unicode tag characters that can smuggle hidden ASCII).
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{3164}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        // U+2400.. are the control pictures of U+0000..U+001F; U+2421 is DEL's.
        '\u{0}'..='\u{1f}' if c != '\n' && c != '\t' => {
            out.push(char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'));
        }
        '\u{7f}' => out.push('\u{2421}'),
        c if needs_escape(c) => out.push_str(&format!("‹U+{:04X}›", u32::from(c))),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile inputs and how they must look.
    const ATTACKS: &[(&str, &str)] = &[
        ("\x1b]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇"),
        ("\x1b]0;EVIL TITLE\x07", "␛]0;EVIL TITLE␇"),
        ("\x1b]2;t\x1b\\", "␛]2;t␛\\"),
        (
            "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
            "␛]8;;https://evil.example␛\\click␛]8;;␛\\",
        ),
        ("\x1b[2J\x1b[H", "␛[2J␛[H"),
        ("\x1b[5A\x1b[2K", "␛[5A␛[2K"),
        ("\x1bP+q544e\x1b\\", "␛P+q544e␛\\"),
        ("\u{9b}31m\u{9d}0;x\u{7}", "‹U+009B›31m‹U+009D›0;x␇"),
        ("safe\rEVIL", "safe␍EVIL"),
        ("back\x08\x08", "back␈␈"),
        ("abc\u{202e}fdp.exe", "abc‹U+202E›fdp.exe"),
        ("a\u{2066}b\u{2069}c\u{200f}", "a‹U+2066›b‹U+2069›c‹U+200F›"),
        ("zero\u{200b}width\u{feff}", "zero‹U+200B›width‹U+FEFF›"),
        ("del\u{7f}", "del␡"),
        ("nul\u{0}", "nul␀"),
        ("soft\u{ad}hyphen", "soft‹U+00AD›hyphen"),
        ("line\u{2028}sep", "line‹U+2028›sep"),
        ("tag\u{e0041}\u{e0042}", "tag‹U+E0041›‹U+E0042›"),
        ("filler\u{3164}", "filler‹U+3164›"),
    ];

    #[test]
    fn every_attack_is_shown_escaped() {
        for (input, shown) in ATTACKS {
            assert_eq!(escape(input), *shown, "{input:?}");
            assert!(has_controls(input), "{input:?}");
            assert!(
                !escape(input).chars().any(needs_escape),
                "escaped output still has a control: {input:?}"
            );
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in [
            "plain",
            "two\nlines\twith tab",
            "windows\r\nline ends",
            "ünïcödé — 日本語 🎉",
            "",
        ] {
            assert!(!has_controls(text), "{text:?}");
        }
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("windows\r\nline ends"), "windows\nline ends");
        assert_eq!(escape("a\r\n\x1b"), "a\n␛");
    }

    #[test]
    fn the_exact_form_shows_every_carriage_return() {
        assert!(!has_controls("windows\r\nline ends"));
        assert!(has_controls_exact("windows\r\nline ends"));
        assert_eq!(escape_exact("rm x\r\necho ok"), "rm x␍\necho ok");
        assert_eq!(escape_exact("plain\nlines"), "plain\nlines");
        for (input, shown) in ATTACKS {
            assert_eq!(escape_exact(input), *shown, "{input:?}");
        }
    }
}
