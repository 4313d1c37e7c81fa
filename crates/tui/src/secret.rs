//! A key typed into the TUI. It never reaches the screen, a log or a test failure's output: the
//! setup screen shows only its length, and `Debug` prints the length too.

/// Text that must not be shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The text itself, for the one place that sends it to the core.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Characters typed so far (what the screen shows instead of them).
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, c: char) {
        self.0.push(c);
    }

    /// Pasted text without the line ends and spaces a copy tends to pick up.
    pub fn push_pasted(&mut self, text: &str) {
        self.0.extend(text.chars().filter(|c| !c.is_whitespace()));
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The key without surrounding spaces.
    pub fn trimmed(&self) -> Secret {
        Secret(self.0.trim().to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} chars)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_length_only() {
        let mut s = Secret::new("sk-abc");
        s.push_pasted(" def\r\n");
        assert_eq!(s.expose(), "sk-abcdef");
        assert_eq!(format!("{s:?}"), "Secret(9 chars)");
        s.pop();
        assert_eq!(s.len(), 8);
    }
}
