//! Signatures of inbound webhooks and of the callbacks Pryx sends: HMAC-SHA256 in Pryx's own
//! form (timestamp + body, with a replay window) and in GitHub's and Stripe's, checked in
//! constant time. Each verified request yields an id the caller remembers on disk, so a replay
//! is refused even after a restart.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub use pryx_style::{REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};

/// How an inbound webhook proves where it came from (mirrors the config's `signature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Pryx,
    Github,
    Stripe,
}

/// Why a request was refused. Says what the sender must fix, never the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the `{0}` header is missing")]
    Missing(&'static str),
    #[error("the `{0}` header is malformed: {1}")]
    Malformed(&'static str, &'static str),
    #[error("the signature does not match the body (check the shared secret)")]
    Mismatch,
    #[error(
        "the timestamp is {0} s away from this machine's clock (allowed: {1} s); a replayed or delayed request"
    )]
    Stale(i64, i64),
}

/// A request whose signature holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Remembered to refuse a replay: the sender's delivery id, else the signature itself.
    pub request_id: String,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC takes a key of any length (a long one is hashed first), so this cannot fail.
    let mut m = match <HmacSha256 as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => <HmacSha256 as KeyInit>::new(&Default::default()),
    };
    for p in parts {
        m.update(p);
    }
    m
}

/// Checks `hex_sig` against HMAC(secret, parts) in constant time.
fn check(secret: &[u8], parts: &[&[u8]], hex_sig: &str) -> Result<(), SignatureError> {
    let want = hex::decode(hex_sig.trim()).map_err(|_| SignatureError::Mismatch)?;
    mac(secret, parts)
        .verify_slice(&want)
        .map_err(|_| SignatureError::Mismatch)
}

fn hmac_hex(secret: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(mac(secret, parts).finalize().into_bytes())
}

fn within(ts: i64, now: i64, window: i64) -> Result<(), SignatureError> {
    let skew = (now - ts).abs();
    if skew > window {
        return Err(SignatureError::Stale(skew, window));
    }
    Ok(())
}

/// Verifies a request. `header` looks a header up by (lower-case) name; `now` and `window`
/// are Unix seconds.
pub fn verify(
    style: Style,
    secret: &[u8],
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    now: i64,
    window: i64,
) -> Result<Verified, SignatureError> {
    match style {
        Style::Pryx => {
            let ts_text =
                header(TIMESTAMP_HEADER).ok_or(SignatureError::Missing(TIMESTAMP_HEADER))?;
            let ts: i64 = ts_text.trim().parse().map_err(|_| {
                SignatureError::Malformed(TIMESTAMP_HEADER, "Unix seconds expected")
            })?;
            let sig = header(SIGNATURE_HEADER).ok_or(SignatureError::Missing(SIGNATURE_HEADER))?;
            let hex_sig = sig
                .trim()
                .strip_prefix("sha256=")
                .ok_or(SignatureError::Malformed(
                    SIGNATURE_HEADER,
                    "`sha256=<hex>` expected",
                ))?;
            check(secret, &[ts_text.trim().as_bytes(), b".", body], hex_sig)?;
            within(ts, now, window)?;
            let id = header(REQUEST_ID_HEADER).unwrap_or_else(|| hex_sig.to_ascii_lowercase());
            Ok(Verified { request_id: id })
        }
        Style::Github => {
            const SIG: &str = "x-hub-signature-256";
            let sig = header(SIG).ok_or(SignatureError::Missing(SIG))?;
            let hex_sig = sig
                .trim()
                .strip_prefix("sha256=")
                .ok_or(SignatureError::Malformed(SIG, "`sha256=<hex>` expected"))?;
            check(secret, &[body], hex_sig)?;
            let id = header("x-github-delivery").unwrap_or_else(|| hex_sig.to_ascii_lowercase());
            Ok(Verified { request_id: id })
        }
        Style::Stripe => {
            const SIG: &str = "stripe-signature";
            let sig = header(SIG).ok_or(SignatureError::Missing(SIG))?;
            let mut ts = None;
            let mut candidates = Vec::new();
            for part in sig.split(',') {
                match part.trim().split_once('=') {
                    Some(("t", v)) => ts = Some(v.to_string()),
                    Some(("v1", v)) => candidates.push(v.to_string()),
                    _ => {}
                }
            }
            let ts_text = ts.ok_or(SignatureError::Malformed(SIG, "no `t=` timestamp"))?;
            let t: i64 = ts_text
                .parse()
                .map_err(|_| SignatureError::Malformed(SIG, "`t=` is not Unix seconds"))?;
            let good = candidates
                .iter()
                .find(|c| check(secret, &[ts_text.as_bytes(), b".", body], c).is_ok())
                .ok_or(SignatureError::Mismatch)?;
            within(t, now, window)?;
            Ok(Verified {
                request_id: good.to_ascii_lowercase(),
            })
        }
    }
}

mod pryx_style {
    /// Unix seconds when the request was signed.
    pub const TIMESTAMP_HEADER: &str = "x-pryx-timestamp";
    /// `sha256=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"`.
    pub const SIGNATURE_HEADER: &str = "x-pryx-signature";
    /// An id for the request, remembered to refuse replays.
    pub const REQUEST_ID_HEADER: &str = "x-pryx-request-id";

    /// The signature header's value for `body` sent at `ts` (Unix seconds).
    pub fn sign(secret: &[u8], ts: i64, body: &[u8]) -> String {
        format!(
            "sha256={}",
            super::hmac_hex(secret, &[ts.to_string().as_bytes(), b".", body])
        )
    }
}

#[cfg(test)]
mod tests;
