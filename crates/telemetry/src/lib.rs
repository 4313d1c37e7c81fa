//! What may leave Pryx's memory. Today: one redaction function that every stored or emitted
//! string passes through (the store, the session bus, `--json` output, and later traces and
//! exports), so a secret masked in one place is masked in all of them.

mod redact;

pub use redact::{MASK, Redactor};
