//! What may leave Pryx's memory. Today: one redaction function that every stored or emitted
//! string passes through (the store, the session bus, `--json` output, and later traces and
//! exports), so a secret masked in one place is masked in all of them; and, kept apart from it,
//! the marking of known secrets in what a person approves, where nothing else may be hidden.

pub mod pii;
mod redact;

pub use pii::redact_pii;
pub use redact::{KnownSecret, MASK, Redactor, looks_like_secret, secret_marker};
