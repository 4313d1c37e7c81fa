//! Masking secrets in text and JSON. A [`Redactor`] knows the secret values in use (provider
//! keys, tokens from the secret store), each by name, and the encodings a tool or a model may
//! turn them into (base64 at any alignment, hex, URL and JSON escaping).
//!
//! Two jobs, kept apart:
//! - **Storage and export** ([`Redactor::text`], [`Redactor::json`]): known values become
//!   [`MASK`], and so do well-known key shapes it was not told about (patterns).
//! - **What a person approves** ([`Redactor::mark_known`], [`Redactor::mark_known_json`]): only
//!   known values are replaced, by a marker naming the secret (`‹secret:openai›`); nothing else
//!   is hidden. Patterns may only *flag* text there ([`looks_like_secret`]): a pattern can match
//!   far more than a secret (a private-key block swallows everything between two markers), and
//!   hiding it would hide what runs.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use regex::Regex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a masked secret is replaced with.
pub const MASK: &str = "***";

/// Shorter values are not treated as secrets: masking them would blank ordinary words.
const MIN_SECRET_LEN: usize = 6;

/// An encoded form shorter than this is not masked on its own (too likely to occur by chance).
const MIN_ENCODED_LEN: usize = 8;

/// What `encodeURIComponent` leaves alone; everything else is escaped.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// A secret value Pryx holds, with the name a person knows it by (a provider id, a name in the
/// secret store). `Debug` never prints the value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KnownSecret {
    pub name: String,
    pub value: String,
}

impl KnownSecret {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        KnownSecret {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl std::fmt::Debug for KnownSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownSecret")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The marker that stands for a known secret in what a person approves: `‹secret:NAME›`, or
/// `‹secret›` when the value came without a name.
pub fn secret_marker(name: &str) -> String {
    if name.is_empty() {
        "‹secret›".to_owned()
    } else {
        format!("‹secret:{name}›")
    }
}

/// Masks known secret values (and their encodings) and well-known secret shapes. Cheap to
/// clone; build one per set of secrets and share it.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Option<Arc<Known>>,
}

/// The automaton over every form of every known value, and the secret's name per pattern.
struct Known {
    ac: AhoCorasick,
    names: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets themselves.
        f.debug_struct("Redactor")
            .field("knows_secrets", &self.known.is_some())
            .finish()
    }
}

impl Redactor {
    /// A redactor for these secret values, without names (marked as `‹secret›`). Values shorter
    /// than six characters are ignored.
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::named(
            secrets
                .into_iter()
                .map(|s| KnownSecret::new("", s.as_ref())),
        )
    }

    /// A redactor for these named secrets. Values shorter than six characters are ignored; a
    /// value known under several names is marked with the first name in sort order.
    pub fn named<I>(secrets: I) -> Self
    where
        I: IntoIterator<Item = KnownSecret>,
    {
        let mut needles: Vec<(String, String)> = Vec::new();
        for secret in secrets {
            if secret.value.chars().count() >= MIN_SECRET_LEN {
                needles.extend(
                    forms(&secret.value)
                        .into_iter()
                        .map(|f| (f, secret.name.clone())),
                );
            }
        }
        needles.sort();
        needles.dedup_by(|a, b| a.0 == b.0);
        let known = if needles.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(needles.iter().map(|(f, _)| f))
                .ok()
                .map(|ac| {
                    Arc::new(Known {
                        ac,
                        names: needles.into_iter().map(|(_, n)| n).collect(),
                    })
                })
        };
        Self { known }
    }

    /// Replaces every known secret value (in any of its encodings) with the marker naming it
    /// ([`secret_marker`]) and changes nothing else: for what a person approves and the audit
    /// of what ran. Borrows when no known value occurs.
    pub fn mark_known<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.known {
            Some(k) if k.ac.is_match(text) => {
                let mut marked = String::with_capacity(text.len());
                k.ac.replace_all_with(text, &mut marked, |m, _, dst| {
                    let name = k
                        .names
                        .get(m.pattern().as_usize())
                        .map_or("", String::as_str);
                    dst.push_str(&secret_marker(name));
                    true
                });
                Cow::Owned(marked)
            }
            Some(_) | None => Cow::Borrowed(text),
        }
    }

    /// [`Self::mark_known`] over every string (and object key) of `value`; keys are never
    /// judged by name, so the shape and every other value stay exactly as they were.
    pub fn mark_known_json(&self, value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.mark_known(k).into_owned(), self.mark_known_json(v)))
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.mark_known_json(v)).collect())
            }
            Value::String(s) => Value::String(self.mark_known(s).into_owned()),
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        }
    }

    /// Masks secrets in `text`; borrows when there is nothing to mask.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        if let Some(k) = &self.known
            && k.ac.is_match(out.as_ref())
        {
            let mut masked = String::with_capacity(text.len());
            k.ac.replace_all_with(text, &mut masked, |_, _, dst| {
                dst.push_str(MASK);
                true
            });
            out = Cow::Owned(masked);
        }
        for (_, re) in patterns() {
            if re.is_match(out.as_ref()) {
                out = Cow::Owned(re.replace_all(out.as_ref(), MASK).into_owned());
            }
        }
        out
    }

    /// Masks secrets in every string of `value`, and the whole value of any key named like a
    /// credential (`api_key`, `token`, `password`…). For free-form JSON: tool arguments, audit
    /// details.
    pub fn json(&self, value: &Value) -> Value {
        let mut v = value.clone();
        self.json_in_place(&mut v, true);
        v
    }

    /// Masks secrets in every string of `value`, keeping its shape: keys are never judged by
    /// name, so a typed value (an event, a stored row) still parses afterwards.
    pub fn strings(&self, value: &mut Value) {
        self.json_in_place(value, false);
    }

    /// A copy of a typed value with secrets masked in all its strings.
    pub fn typed<T: Serialize + DeserializeOwned>(
        &self,
        value: &T,
    ) -> Result<T, serde_json::Error> {
        let mut v = serde_json::to_value(value)?;
        self.strings(&mut v);
        serde_json::from_value(v)
    }

    fn json_in_place(&self, value: &mut Value, by_key: bool) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if by_key && is_secret_key(k) && !v.is_null() {
                        *v = Value::String(MASK.into());
                    } else {
                        self.json_in_place(v, by_key);
                    }
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.json_in_place(v, by_key);
                }
            }
            Value::String(s) => {
                if let Cow::Owned(masked) = self.text(s) {
                    *s = masked;
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The secret and every encoding of it worth looking for.
fn forms(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let mut out = vec![secret.to_owned()];
    // JSON string escaping (quotes, backslashes, control characters).
    if let Ok(quoted) = serde_json::to_string(secret) {
        out.push(quoted[1..quoted.len() - 1].to_owned());
    }
    for set in [NON_ALPHANUMERIC, URI_COMPONENT] {
        let upper = utf8_percent_encode(secret, set).to_string();
        out.push(lowercase_escapes(&upper));
        out.push(upper.replace("%20", "+"));
        out.push(upper);
    }
    out.push(hex::encode(bytes));
    out.push(hex::encode_upper(bytes));
    // Base64 of the secret inside longer data depends on where it starts relative to a 3-byte
    // group: for each of the three alignments keep the characters fixed by the secret alone.
    for offset in 0..3usize {
        let mut buf = vec![0u8; offset];
        buf.extend_from_slice(bytes);
        let start = (8 * offset).div_ceil(6);
        let end = 8 * (offset + bytes.len()) / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&buf);
            if let Some(core) = encoded.get(start..end)
                && core.len() >= MIN_ENCODED_LEN
            {
                out.push(core.to_owned());
            }
        }
    }
    out.retain(|f| f.len() >= MIN_SECRET_LEN);
    out
}

/// `%2D` → `%2d`, leaving the other characters as they are.
fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = 0usize;
    for c in encoded.chars() {
        if c == '%' {
            rest = 2;
            out.push(c);
        } else if rest > 0 {
            rest -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Object keys whose values are always masked in free-form JSON.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '_'], "");
    [
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "cookie",
        "credential",
        "privatekey",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// What well-known secret shapes occur in `text`, by kind (`a private key block`, …), each
/// once, in table order. Nothing is hidden: a person approving a call sees the text and this
/// warning next to it.
pub fn looks_like_secret(text: &str) -> Vec<&'static str> {
    patterns()
        .iter()
        .filter(|(_, re)| re.is_match(text))
        .map(|(kind, _)| *kind)
        .collect()
}

/// Shapes of well-known credentials, masked in storage even when Pryx was not told the value,
/// with the kind a warning names.
fn patterns() -> &'static [(&'static str, Regex)] {
    static P: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            ("an API key (sk-…)", r"sk-[A-Za-z0-9_\-]{16,}"),
            ("a GitHub token", r"gh[pousr]_[A-Za-z0-9]{20,}"),
            ("a Slack token", r"xox[abprs]-[A-Za-z0-9\-]{10,}"),
            ("an AWS access key id", r"AKIA[0-9A-Z]{16}"),
            ("a bearer token", r"(?i)bearer\s+[A-Za-z0-9._\-]{12,}"),
            (
                "a private key block",
                r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
            ),
        ]
        .iter()
        .filter_map(|(kind, p)| Regex::new(p).ok().map(|re| (*kind, re)))
        .collect()
    })
}

#[cfg(test)]
mod tests;
