use super::*;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::json;

const KEY: &str = "pk-live-9f8e7d6c5b4a39281706";

fn r() -> Redactor {
    Redactor::new([KEY])
}

#[test]
fn masks_the_raw_value_anywhere() {
    let out = r()
        .text(&format!("path /x/{KEY}/y and again{KEY}"))
        .into_owned();
    assert!(!out.contains(KEY), "{out}");
    assert_eq!(out, "path /x/***/y and again***");
}

#[test]
fn leaves_text_without_secrets_borrowed() {
    assert!(matches!(r().text("nothing here"), Cow::Borrowed(_)));
}

#[test]
fn masks_hex_and_url_and_json_escaped_forms() {
    let red = Redactor::new(["s3cr\"et value/with+stuff"]);
    for form in [
        hex::encode("s3cr\"et value/with+stuff"),
        hex::encode_upper("s3cr\"et value/with+stuff"),
        "s3cr%22et%20value%2Fwith%2Bstuff".to_owned(),
        "s3cr%22et%20value%2fwith%2bstuff".to_owned(),
        "s3cr%22et+value%2Fwith%2Bstuff".to_owned(),
        "s3cr\\\"et value/with+stuff".to_owned(),
    ] {
        let text = format!("q={form}&x=1");
        let out = red.text(&text);
        assert!(!out.contains(&form), "{form} survived: {out}");
        assert!(out.contains(MASK), "{out}");
    }
}

#[test]
fn masks_base64_at_every_alignment_and_alphabet() {
    let red = r();
    for prefix in ["", "a", "ab", "abc", "Authorization: Basic "] {
        for suffix in ["", "x", "xy", ":rest"] {
            let plain = format!("{prefix}{KEY}{suffix}");
            for encoded in [STANDARD.encode(&plain), URL_SAFE.encode(&plain)] {
                let out = red.text(&encoded);
                assert!(
                    out.contains(MASK),
                    "{plain:?} as {encoded} not masked: {out}"
                );
                // Whatever is left cannot be decoded back into the key.
                let left: String = out.replace(MASK, "");
                assert!(!left.contains(&STANDARD_NO_PAD.encode(&KEY.as_bytes()[..9])));
            }
        }
    }
}

#[test]
fn short_values_are_not_secrets() {
    let red = Redactor::new(["abc", ""]);
    assert_eq!(red.text("abc abc"), "abc abc");
}

#[test]
fn masks_well_known_shapes_without_being_told() {
    let out = Redactor::default()
        .text("key sk-abcdefghijklmnopqrstuv and ghp_abcdefghijklmnopqrstuvwxyz");
    assert_eq!(out, "key *** and ***");
}

#[test]
fn json_masks_credential_keys_and_strings() {
    let v = json!({"api_key": "whatever", "path": format!("a/{KEY}"), "n": 3, "list": [KEY]});
    assert_eq!(
        r().json(&v),
        json!({"api_key": "***", "path": "a/***", "n": 3, "list": ["***"]})
    );
}

#[test]
fn typed_values_keep_their_shape() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Row {
        tokens_in: u64,
        text: String,
    }
    let row = Row {
        tokens_in: 7,
        text: format!("denied: {KEY}"),
    };
    let out = r().typed(&row).unwrap();
    assert_eq!(
        out,
        Row {
            tokens_in: 7,
            text: "denied: ***".into()
        }
    );
}

#[test]
fn debug_never_prints_secrets() {
    assert!(!format!("{:?}", r()).contains(KEY));
}

proptest::proptest! {
    #[test]
    fn a_known_secret_never_survives_in_any_surrounding(pre in ".{0,12}", post in ".{0,12}") {
        let out = r().text(&format!("{pre}{KEY}{post}")).into_owned();
        proptest::prop_assert!(!out.contains(KEY));
    }
}

/// The command that hid a `touch` between two private-key markers when approvals were masked.
const HIDDEN_TOUCH: &str = "echo \"-----BEGIN RSA PRIVATE KEY-----\" >/dev/null; touch HIDDEN; \
     echo \"-----END RSA PRIVATE KEY-----\" >/dev/null; echo ok > ok.txt";

fn named() -> Redactor {
    Redactor::named([
        KnownSecret::new("openai", KEY),
        KnownSecret::new("provider.openai.api_key", KEY),
        KnownSecret::new("github", "ghp_knownknownknownknownknown"),
    ])
}

#[test]
fn marking_replaces_known_values_with_their_name_and_nothing_else() {
    let text = format!(
        "curl -H 'Authorization: Bearer {KEY}' && echo {HIDDEN_TOUCH} sk-abcdefghijklmnopqrstuv"
    );
    let out = named().mark_known(&text).into_owned();
    assert_eq!(
        out,
        format!(
            "curl -H 'Authorization: Bearer ‹secret:openai›' && echo {HIDDEN_TOUCH} sk-abcdefghijklmnopqrstuv"
        )
    );
    // Storage masking of the same text hides the pattern matches, the touch included.
    let stored = named().text(&text).into_owned();
    assert!(!stored.contains("touch HIDDEN"), "{stored}");
}

#[test]
fn marking_covers_encodings_and_unnamed_values() {
    let red = named();
    let b64 = STANDARD.encode(format!("user:{KEY}"));
    let out = red.mark_known(&b64).into_owned();
    assert!(out.contains("‹secret:openai›"), "{out}");
    assert_eq!(
        red.mark_known(&hex::encode(KEY)),
        "‹secret:openai›".to_string()
    );
    assert_eq!(r().mark_known(KEY), "‹secret›");
    assert!(matches!(red.mark_known("nothing"), Cow::Borrowed(_)));
    assert!(matches!(
        Redactor::default().mark_known(HIDDEN_TOUCH),
        Cow::Borrowed(_)
    ));
}

#[test]
fn marking_json_keeps_every_key_and_every_other_value() {
    let v = json!({
        "password": "hunter2hunter2",
        "headers": {"Authorization": format!("Bearer {KEY}"), KEY: 1},
        "command": HIDDEN_TOUCH,
        "n": 3,
    });
    assert_eq!(
        named().mark_known_json(&v),
        json!({
            "password": "hunter2hunter2",
            "headers": {"Authorization": "Bearer ‹secret:openai›", "‹secret:openai›": 1},
            "command": HIDDEN_TOUCH,
            "n": 3,
        })
    );
}

#[test]
fn detectors_flag_without_hiding() {
    assert_eq!(looks_like_secret(HIDDEN_TOUCH), ["a private key block"]);
    assert_eq!(
        looks_like_secret("x sk-abcdefghijklmnopqrstuv Bearer abcdefghijklmnop"),
        ["an API key (sk-…)", "a bearer token"]
    );
    assert!(looks_like_secret("ls -la").is_empty());
}

#[test]
fn debug_of_a_named_secret_shows_only_its_name() {
    let shown = format!("{:?}", KnownSecret::new("openai", KEY));
    assert!(shown.contains("openai") && !shown.contains(KEY), "{shown}");
    assert_eq!(secret_marker(""), "‹secret›");
}
