//! The answers to an approval and their keys: one table for every terminal surface, so the TUI's
//! approval card and the prompt of `pryx run` take the same keys with the same meanings and say
//! them the same way.

use pryx_protocol::api::{ApprovalDecision, ApprovalScope};

/// One answer to an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalKey {
    /// The key the hint shows.
    pub key: char,
    /// Other keys with the same meaning.
    pub also: &'static [char],
    /// Whole words a line prompt takes as well.
    pub words: &'static [&'static str],
    /// What the hint says after the key.
    pub label: &'static str,
    pub decision: ApprovalDecision,
    pub scope: ApprovalScope,
}

/// Every answer, in the order the hint lists them.
pub const APPROVAL_KEYS: [ApprovalKey; 4] = [
    ApprovalKey {
        key: 'y',
        also: &['o'],
        words: &["yes", "once"],
        label: "once",
        decision: ApprovalDecision::Approve,
        scope: ApprovalScope::Once,
    },
    ApprovalKey {
        key: 's',
        also: &[],
        words: &["session"],
        label: "session",
        decision: ApprovalDecision::Approve,
        scope: ApprovalScope::Session,
    },
    ApprovalKey {
        key: 'a',
        also: &[],
        words: &["always"],
        label: "always",
        decision: ApprovalDecision::Approve,
        scope: ApprovalScope::Always,
    },
    ApprovalKey {
        key: 'n',
        also: &['d'],
        words: &["no", "deny"],
        label: "deny",
        decision: ApprovalDecision::Deny,
        scope: ApprovalScope::Once,
    },
];

/// The answer a key press gives (either case), if any.
pub fn answer_for_key(c: char) -> Option<(ApprovalDecision, ApprovalScope)> {
    let c = c.to_ascii_lowercase();
    APPROVAL_KEYS
        .iter()
        .find(|k| k.key == c || k.also.contains(&c))
        .map(|k| (k.decision, k.scope))
}

/// The answer a typed line gives: one of the keys or one of the words, in any case, spaces
/// around it ignored.
pub fn answer_for_line(line: &str) -> Option<(ApprovalDecision, ApprovalScope)> {
    let typed = line.trim().to_ascii_lowercase();
    let mut chars = typed.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return answer_for_key(c);
    }
    APPROVAL_KEYS
        .iter()
        .find(|k| k.words.contains(&typed.as_str()))
        .map(|k| (k.decision, k.scope))
}

/// The hint's pairs of key and label, in order.
pub fn hint_parts() -> impl Iterator<Item = (char, &'static str)> {
    APPROVAL_KEYS.iter().map(|k| (k.key, k.label))
}

/// The hint as one line: `y once · s session · a always · n deny`.
pub fn hint() -> String {
    hint_parts()
        .map(|(k, label)| format!("{k} {label}"))
        .collect::<Vec<_>>()
        .join(HINT_SEPARATOR)
}

/// What stands between the hint's answers (and after them, before a surface's own keys).
pub const HINT_SEPARATOR: &str = " · ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_and_word_means_one_answer() {
        let mut seen = Vec::new();
        for k in &APPROVAL_KEYS {
            for c in std::iter::once(k.key).chain(k.also.iter().copied()) {
                assert!(!seen.contains(&c.to_string()), "{c} twice");
                seen.push(c.to_string());
                assert_eq!(answer_for_key(c), Some((k.decision, k.scope)));
                assert_eq!(
                    answer_for_key(c.to_ascii_uppercase()),
                    Some((k.decision, k.scope))
                );
                assert_eq!(
                    answer_for_line(&format!(" {c}\n")),
                    Some((k.decision, k.scope))
                );
            }
            for w in k.words {
                assert!(!seen.contains(&w.to_string()), "{w} twice");
                seen.push(w.to_string());
                assert_eq!(
                    answer_for_line(&w.to_ascii_uppercase()),
                    Some((k.decision, k.scope))
                );
            }
        }
        assert_eq!(answer_for_key('1'), None);
        assert_eq!(answer_for_key('v'), None);
        assert_eq!(answer_for_line("maybe"), None);
        assert_eq!(answer_for_line(""), None);
    }

    #[test]
    fn the_hint_names_each_answer_once_in_order() {
        assert_eq!(hint(), "y once · s session · a always · n deny");
        assert_eq!(
            answer_for_key('y'),
            Some((ApprovalDecision::Approve, ApprovalScope::Once))
        );
        assert_eq!(
            answer_for_key('s'),
            Some((ApprovalDecision::Approve, ApprovalScope::Session))
        );
        assert_eq!(
            answer_for_key('a'),
            Some((ApprovalDecision::Approve, ApprovalScope::Always))
        );
        assert_eq!(
            answer_for_key('n'),
            Some((ApprovalDecision::Deny, ApprovalScope::Once))
        );
    }
}
