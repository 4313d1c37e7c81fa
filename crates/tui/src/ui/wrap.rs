//! Word wrapping by display width, so the transcript knows its height and can follow the stream.

use unicode_width::UnicodeWidthStr;

/// Wraps `text` to `width` columns: breaks at spaces, splits words longer than a line, keeps
/// blank lines. Always returns at least one line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.replace('\t', "    ");
        let mut line = String::new();
        let mut line_w = 0;
        for word in raw.split(' ') {
            let w = word.width();
            let sep = usize::from(line_w > 0);
            if line_w + sep + w <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                line_w += sep + w;
                continue;
            }
            if line_w > 0 {
                out.push(std::mem::take(&mut line));
                line_w = 0;
            }
            // A word wider than the line is cut by characters.
            for ch in word.chars() {
                let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
                if line_w + cw > width && line_w > 0 {
                    out.push(std::mem::take(&mut line));
                    line_w = 0;
                }
                line.push(ch);
                line_w += cw;
            }
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("hello world", 5), vec!["hello", "world"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        assert_eq!(wrap("", 10), vec![""]);
        for l in wrap("the quick brown fox jumps over the lazy dog", 7) {
            assert!(l.width() <= 7, "{l:?}");
        }
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(wrap("日本語", 4), vec!["日本", "語"]);
    }
}
