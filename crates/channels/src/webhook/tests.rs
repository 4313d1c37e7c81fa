#![allow(clippy::unwrap_used)]

use super::*;
use std::collections::HashMap;

const KEY: &[u8] = b"shared-secret";

fn headers(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn a_pryx_signature_holds_inside_the_window_only() {
    let body = br#"{"a":1}"#;
    let h = headers(&[
        (TIMESTAMP_HEADER, "1000".into()),
        (SIGNATURE_HEADER, sign(KEY, 1000, body)),
    ]);
    let v = verify(Style::Pryx, KEY, &h, body, 1100, 300).unwrap();
    assert_eq!(v.request_id.len(), 64);
    assert_eq!(
        verify(Style::Pryx, KEY, &h, body, 2000, 300),
        Err(SignatureError::Stale(1000, 300))
    );
    assert_eq!(
        verify(Style::Pryx, KEY, &h, br#"{"a":2}"#, 1100, 300),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify(Style::Pryx, b"other", &h, body, 1100, 300),
        Err(SignatureError::Mismatch)
    );
    // A signature for another timestamp does not hold for this one.
    let moved = headers(&[
        (TIMESTAMP_HEADER, "1100".into()),
        (SIGNATURE_HEADER, sign(KEY, 1000, body)),
    ]);
    assert_eq!(
        verify(Style::Pryx, KEY, &moved, body, 1100, 300),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify(Style::Pryx, KEY, headers(&[]), body, 1100, 300),
        Err(SignatureError::Missing(TIMESTAMP_HEADER))
    );
}

#[test]
fn github_and_stripe_presets() {
    let body = b"payload";
    let gh = format!("sha256={}", hmac_hex(KEY, &[body]));
    let h = headers(&[
        ("x-hub-signature-256", gh),
        ("x-github-delivery", "d-1".into()),
    ]);
    assert_eq!(
        verify(Style::Github, KEY, &h, body, 0, 300)
            .unwrap()
            .request_id,
        "d-1"
    );
    assert_eq!(
        verify(Style::Github, b"x", &h, body, 0, 300),
        Err(SignatureError::Mismatch)
    );

    let v1 = hmac_hex(KEY, &[b"500", b".", body]);
    let h = headers(&[("stripe-signature", format!("t=500,v1=00ff,v1={v1}"))]);
    assert!(verify(Style::Stripe, KEY, &h, body, 600, 300).is_ok());
    assert!(matches!(
        verify(Style::Stripe, KEY, &h, body, 900, 300),
        Err(SignatureError::Stale(..))
    ));
    let h = headers(&[("stripe-signature", "v1=abc".into())]);
    assert!(matches!(
        verify(Style::Stripe, KEY, &h, body, 600, 300),
        Err(SignatureError::Malformed(..))
    ));
}
