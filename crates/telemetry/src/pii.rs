//! Personal data in text that may leave the process (telemetry, logs): e-mail addresses, phone
//! numbers, API keys and tokens (known prefixes, and long random-looking strings), JWTs, IPv4
//! and IPv6 addresses, payment card numbers (Luhn-checked), IBANs (mod-97-checked) and home
//! directories (`/home/ann` → `~`). Each is replaced by a marker naming what it was
//! (`[REDACTED_EMAIL]` …). Checksums and shapes keep ordinary code, hashes, UUIDs, versions
//! and timestamps as they are. Loopback and unspecified addresses identify nobody and stay.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use std::sync::OnceLock;

use regex::{Captures, Regex};

pub const EMAIL: &str = "[REDACTED_EMAIL]";
pub const PHONE: &str = "[REDACTED_PHONE]";
pub const KEY: &str = "[REDACTED_KEY]";
pub const JWT: &str = "[REDACTED_JWT]";
pub const IP: &str = "[REDACTED_IP]";
pub const CARD: &str = "[REDACTED_CARD]";
pub const IBAN: &str = "[REDACTED_IBAN]";

/// What a match becomes (`None`: it stays).
type Replace = fn(&Captures<'_>) -> Option<String>;

/// A rule: where to look, and what a match becomes.
struct Rule {
    re: Regex,
    replace: Replace,
}

fn rules() -> &'static [Rule] {
    static R: OnceLock<Vec<Rule>> = OnceLock::new();
    R.get_or_init(|| {
        let specs: [(&str, Replace); 8] = [
            // JWTs before keys: their parts look random too.
            (
                r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
                |_| Some(JWT.into()),
            ),
            (
                r"(?x)\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}
                   |xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|glpat-[A-Za-z0-9_-]{20,}
                   |hf_[A-Za-z0-9]{20,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_-]{30,}|sk_(?:live|test)_[A-Za-z0-9]{16,}
                   |rk_(?:live|test)_[A-Za-z0-9]{16,}|\d{8,10}:[A-Za-z0-9_-]{35})",
                |_| Some(KEY.into()),
            ),
            (
                r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}\b",
                |_| Some(EMAIL.into()),
            ),
            (r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", |c| {
                iban_valid(&c[0]).then(|| IBAN.into())
            }),
            (r"\b\d(?:[ -]?\d){12,18}\b", |c| {
                card_valid(&c[0]).then(|| CARD.into())
            }),
            (
                r"(?:\+\d{1,3}[ .-]?)(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{1,4}){1,5}\b",
                |c| {
                    let digits = c[0].chars().filter(char::is_ascii_digit).count();
                    (8..=15).contains(&digits).then(|| PHONE.into())
                },
            ),
            (
                r"(?:\(\d{3}\)\s?|\b\d{3}[-.])\d{3}[-.]\d{4}\b",
                |_| Some(PHONE.into()),
            ),
            (
                r"(?:/home/|/Users/|(?i:[A-Z]:\\Users\\))[^/\\\s]+",
                |_| Some("~".into()),
            ),
        ];
        specs
            .into_iter()
            .filter_map(|(p, replace)| Regex::new(p).ok().map(|re| Rule { re, replace }))
            .collect()
    })
}

fn ipv4_candidates() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"\d{1,3}(?:\.\d{1,3}){3}").unwrap_or_else(|_| unreachable!()))
}

fn ipv6_candidates() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?i)[0-9A-F]{0,4}(?::[0-9A-F]{0,4}){2,7}").unwrap_or_else(|_| unreachable!())
    })
}

/// Whether the match `start..end` of `text` stands alone: not part of a longer word, number
/// or dotted version (`1.2.3.4.5`), nor of a longer colon-separated run (an IPv4 address may
/// be followed by its port).
fn alone(text: &str, start: usize, end: usize, port_after: bool) -> bool {
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let next = after.next();
    let next2 = after.next();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    if before.is_some_and(|c| word(c) || c == '.' || c == ':') {
        return false;
    }
    match next {
        Some(':') => port_after && next2.is_some_and(|c| c.is_ascii_digit()),
        Some(c) if word(c) => false,
        // A sentence's full stop is fine; a further dotted part is not.
        Some('.') => !next2.is_some_and(|c| c.is_alphanumeric()),
        _ => true,
    }
}

/// IPv4 and IPv6 addresses (loopback and unspecified ones stay).
fn redact_ips(text: &str) -> Option<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for m in ipv4_candidates().find_iter(text) {
        let ok = alone(text, m.start(), m.end(), true)
            && m.as_str()
                .parse::<Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback() && !ip.is_unspecified());
        if ok {
            spans.push((m.start(), m.end()));
        }
    }
    for m in ipv6_candidates().find_iter(text) {
        let cand = m.as_str();
        let groups = cand.split(':').filter(|g| !g.is_empty()).count();
        let digit = cand.chars().any(|c| c.is_ascii_digit());
        let ok = groups >= 2
            && digit
            && alone(text, m.start(), m.end(), false)
            && cand
                .parse::<Ipv6Addr>()
                .is_ok_and(|ip| !ip.is_loopback() && !ip.is_unspecified());
        if ok {
            spans.push((m.start(), m.end()));
        }
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(IP);
        at = e;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// A long token that looks random: mixed letters and digits with high entropy (hex hashes,
/// UUIDs and words are not).
fn random_token(t: &str) -> bool {
    if t.len() < 32 || t.len() > 512 {
        return false;
    }
    let (upper, lower, digit) = (
        t.chars().any(|c| c.is_ascii_uppercase()),
        t.chars().any(|c| c.is_ascii_lowercase()),
        t.chars().any(|c| c.is_ascii_digit()),
    );
    if !(upper && lower && digit) {
        return false;
    }
    // Integrity hashes (`sha256-…`) are not secrets.
    if t.starts_with("sha256-") || t.starts_with("sha384-") || t.starts_with("sha512-") {
        return false;
    }
    // Random base-62 text has plenty of each kind; a long CamelCase name does not.
    let share = |f: fn(&char) -> bool| t.chars().filter(f).count() * 12 >= t.len();
    if !(share(char::is_ascii_uppercase)
        && share(char::is_ascii_lowercase)
        && share(char::is_ascii_digit))
    {
        return false;
    }
    let mut counts = [0u32; 256];
    for b in t.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = t.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 4.2
}

fn tokens() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"[A-Za-z0-9_+/-]{32,}={0,2}").unwrap_or_else(|_| unreachable!()))
}

/// Luhn, on 13–19 digits with an issuer's prefix (so epoch milliseconds and other long
/// numbers stay).
fn card_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let prefix = |n: usize| digits.iter().take(n).fold(0u32, |acc, d| acc * 10 + d);
    let issuer = digits[0] == 4
        || (51..=55).contains(&prefix(2))
        || (2221..=2720).contains(&prefix(4))
        || matches!(prefix(2), 34 | 37 | 36 | 38 | 35 | 65)
        || prefix(4) == 6011;
    if !issuer {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616: the country, check digits and account, mod 97 = 1.
fn iban_valid(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        for d in if v >= 10 {
            vec![v / 10, v % 10]
        } else {
            vec![v]
        } {
            rem = (rem * 10 + d) % 97;
        }
    }
    rem == 1
}

/// `text` with the personal data it holds replaced by markers; borrows when there is none.
pub fn redact_pii(text: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    for rule in rules() {
        if !rule.re.is_match(&out) {
            continue;
        }
        let replaced = rule
            .re
            .replace_all(&out, |c: &Captures<'_>| {
                (rule.replace)(c).unwrap_or_else(|| c[0].to_string())
            })
            .into_owned();
        if replaced != *out {
            out = Cow::Owned(replaced);
        }
    }
    if let Some(r) = redact_ips(&out) {
        out = Cow::Owned(r);
    }
    if tokens().is_match(&out) {
        let replaced = tokens().replace_all(&out, |c: &Captures<'_>| {
            if random_token(&c[0]) {
                KEY.to_string()
            } else {
                c[0].to_string()
            }
        });
        if let Cow::Owned(r) = replaced
            && r != *out
        {
            out = Cow::Owned(r);
        }
    }
    out
}

#[cfg(test)]
mod tests;
