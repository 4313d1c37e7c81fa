//! The approval preview of `http.request`: method, URL, every header and the whole body, as
//! they will be sent (the agent replaces known secret values with a marker naming them).

use std::collections::BTreeMap;

/// What a person approves before a request is made.
pub(super) fn describe(
    url: &str,
    method: Option<&str>,
    headers: &BTreeMap<String, String>,
    body: Option<&str>,
    max_redirects: usize,
) -> String {
    let method = method.map_or_else(|| "GET".to_string(), str::to_ascii_uppercase);
    let mut out = format!("{method} {url}\n");
    if headers.is_empty() {
        out.push_str("(no headers)\n");
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    match body {
        None => out.push_str("(no body)\n"),
        Some(b) => {
            out.push_str(&format!("body ({} bytes):\n{b}", b.len()));
            if !b.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out.push_str(&format!(
        "redirects: up to {max_redirects}, each checked like the first; Authorization, Cookie \
         and Proxy-Authorization are dropped when one leaves the origin"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_url_every_header_and_the_whole_body_are_shown() {
        let headers = BTreeMap::from([
            ("Authorization".to_string(), "Bearer abc".to_string()),
            ("X-Trace".to_string(), "1".to_string()),
        ]);
        let body = "{\"a\":1}\n".repeat(500);
        let shown = describe(
            "https://example.com/x",
            Some("post"),
            &headers,
            Some(&body),
            5,
        );
        assert!(
            shown
                .starts_with("POST https://example.com/x\nAuthorization: Bearer abc\nX-Trace: 1\n"),
            "{shown}"
        );
        assert!(shown.contains(&format!("body ({} bytes):\n{body}", body.len())));
        let bare = describe("https://example.com/", None, &BTreeMap::new(), None, 5);
        assert!(
            bare.starts_with("GET https://example.com/\n(no headers)\n(no body)\n"),
            "{bare}"
        );
    }
}
