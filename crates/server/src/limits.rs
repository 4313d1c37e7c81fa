//! How large a request may be, and the refusals of what is larger — in the API's error envelope,
//! like every other error. The application enforces its own limits on the request target and the
//! header fields ([`check`]); hyper is configured with looser ones ([`hyper_http1`]) so that an
//! ordinary oversized request reaches [`check`] and is answered with the request's ids. What is
//! past even hyper's limits (a request target over its fixed 64 KiB cap, a head that is not HTTP)
//! is answered by hyper itself, with the body [`parse_error_body`] gives it (see `conn.rs`).

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pryx_protocol::ErrorCode;

/// Longest request target (path and query, or the absolute form) answered; longer gets 414.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// Most header fields in one request; more gets 431.
pub const MAX_HEADERS: usize = 64;
/// Most bytes of header fields (names, values and their `: ` and CRLF) in one request; more gets
/// 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest request body a route reads; larger gets 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// hyper's own cap on header fields, above [`MAX_HEADERS`] so that [`check`] sees the request.
const HYPER_MAX_HEADERS: usize = 256;
/// hyper's own cap on the request head (request line and headers), above [`MAX_TARGET_BYTES`] plus
/// [`MAX_HEADER_BYTES`] and above hyper's fixed cap on the request target (64 KiB).
const HYPER_MAX_HEAD_BYTES: usize = 128 * 1024;

/// The HTTP/1 settings the API is served with.
pub fn hyper_http1() -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_headers(HYPER_MAX_HEADERS)
        .max_header_size(HYPER_MAX_HEAD_BYTES)
        // One write per response head, so that `conn.rs` sees hyper's own responses whole.
        .writev(false);
    builder
}

fn target_too_long() -> ApiError {
    ApiError::new(
        StatusCode::URI_TOO_LONG,
        ErrorCode::ValidationFailed,
        format!(
            "the request target is too long: at most {} KiB of path and query are accepted",
            MAX_TARGET_BYTES / 1024
        ),
    )
}

fn headers_too_large() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ErrorCode::ValidationFailed,
        format!(
            "the request headers are too large: at most {MAX_HEADERS} header fields and {} KiB of headers are accepted",
            MAX_HEADER_BYTES / 1024
        ),
    )
}

/// The refusal of a request body over [`MAX_BODY_BYTES`].
pub fn body_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::ValidationFailed,
        format!(
            "the request body is too large: at most {} MB are accepted",
            MAX_BODY_BYTES / (1024 * 1024)
        ),
    )
}

/// Refuses a request whose target, header fields or announced body are over the limits.
pub async fn check(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let target = uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_TARGET_BYTES {
        tracing::info!(bytes = target, "refused a request with a too long target");
        return target_too_long().into_response();
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        tracing::info!(
            fields = headers.len(),
            bytes,
            "refused a request with too large headers"
        );
        return headers_too_large().into_response();
    }
    // A body announced as too large is refused before any of it is read (a body without a length
    // is cut off at the limit as it is read; see `extract.rs`).
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        tracing::info!(bytes = declared, "refused a request with a too large body");
        return body_too_large().into_response();
    }
    next.run(req).await
}

/// The envelope for a request hyper refused before the application saw it, by the status hyper
/// answers with: 400 (not an HTTP request), 414 (target over hyper's cap), 431 (head over
/// hyper's caps). `None` for any other status.
pub fn parse_error_body(status: u16) -> Option<Vec<u8>> {
    let error = match status {
        400 => ApiError::bad_request(
            "the request is not valid HTTP/1.1: its request line or a header field is malformed",
        ),
        414 => target_too_long(),
        431 => headers_too_large(),
        _ => return None,
    };
    serde_json::to_vec(&error.body()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_bodies_are_envelopes() {
        for (status, code, words) in [
            (400, "VALIDATION_FAILED", "not valid HTTP"),
            (414, "VALIDATION_FAILED", "8 KiB"),
            (431, "VALIDATION_FAILED", "64 header fields"),
        ] {
            let body = parse_error_body(status).unwrap_or_default();
            let envelope: pryx_protocol::ErrorEnvelope =
                serde_json::from_slice(&body).expect("an envelope");
            assert_eq!(envelope.error.code.as_str(), code);
            assert!(envelope.error.message.contains(words), "{status}");
        }
        assert!(parse_error_body(500).is_none());
    }
}
