#![allow(clippy::unwrap_used, clippy::expect_used)]
//! OTLP export with the real binary against a receiver built on the official Python
//! `opentelemetry-proto` (tests/otlp/receiver.py): turns carrying planted personal data and
//! secrets in prompts, tool arguments, results and errors reach the collector as decodable
//! spans, metrics and logs with the expected names and attributes, and none of the planted
//! values is anywhere in any payload. Off (the default), the same turns send nothing.
//!
//! `PRYX_OTLP_PYTHON` names an interpreter with `opentelemetry-proto` (scripts/otlp.sh makes
//! one); without it these tests say SKIPPED and check nothing.

use crate::common;
use crate::serve_api::{Api, completion};

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const STORED: &str = "zq7Hk2Lm9Pw4Rt6Vb1Nc8Xd3";
const HEADER: &str = "hdr-91a8b7c6d5e4f3a2e1";

/// What must never leave: (what, value).
const PLANTED: &[(&str, &str)] = &[
    ("email", "ada.lovelace@example.com"),
    ("phone", "+1 415 555 0142"),
    ("api key", "sk-proj-Abc123Def456Ghi789Jkl012Mno345"),
    ("card", "4111 1111 1111 1111"),
    ("card digits", "4111111111111111"),
    ("ipv4", "203.0.113.77"),
    ("ipv6", "2001:db8:85a3::8a2e:370:7334"),
    ("home path", "/home/adalovelace"),
    ("iban", "DE89370400440532013000"),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("stored secret", STORED),
    ("header secret", HEADER),
];

fn planted_text() -> String {
    PLANTED
        .iter()
        .map(|(_, v)| *v)
        .collect::<Vec<_>>()
        .join(" ; ")
}

fn python() -> Option<String> {
    std::env::var("PRYX_OTLP_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
}

struct Receiver {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn receiver(python: &str, dir: &Path) -> Receiver {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/otlp/receiver.py");
    let out = dir.join("received.jsonl");
    let mut child = Command::new(python)
        .arg(&script)
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let port = announced_port(&mut child, "the OTLP receiver");
    Receiver { child, port, out }
}

fn received(r: &Receiver) -> Vec<Value> {
    std::fs::read_to_string(&r.out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn serve(env: &Env) -> Serve {
    // Batches every 100 ms and metrics every 300 ms (the standard variables) keep it short.
    Serve::start_with(
        env,
        &[],
        &[
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
        ],
    )
}

/// SIGTERM, and the core must exit cleanly (it sends what is queued first).
fn stop(serve: &mut Serve) {
    let _ = Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status();
    assert!(
        serve.child.wait().unwrap().success(),
        "the core stopped cleanly"
    );
}

/// Sets the telemetry section and the model script, then runs three turns: one with a tool
/// call whose arguments and result carry the planted values, one answered in them, one whose
/// model error quotes them.
fn run_turns(server: &ScriptedLlm, api: &Api) {
    let planted = planted_text();
    server.push_all([
        Turn::tool_calls([call(
            "c1",
            "fs.read",
            json!({"path": format!("notes {planted}.txt")}),
        )]),
        Turn::text(format!("Here is what I found: {planted}")),
        Turn::text(format!("Again: {planted}")),
        Turn::status(400, None, format!("invalid request for {planted}")),
    ]);
    let sid = api.create_session(json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (prompt, ok) in [
        (format!("read my notes: {planted}"), true),
        (format!("say it again: {planted}"), true),
        (format!("once more: {planted}"), false),
    ] {
        let mut stream = api.stream_turn(&sid, &prompt);
        let events = stream.rest(Instant::now() + Duration::from_secs(30));
        let end = completion(&events);
        assert_eq!(end["stop"] == "completed", ok, "{end}");
    }
}

fn config(env: &Env, telemetry: Value) {
    let path = env.home.path().join("config.json");
    let mut c: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    c["telemetry"] = telemetry;
    std::fs::write(&path, serde_json::to_vec_pretty(&c).unwrap()).unwrap();
}

/// Every string of a decoded payload, flattened, plus its raw bytes as lossy text.
fn payload_text(entry: &Value) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(entry["raw"].as_str().unwrap())
        .unwrap();
    format!("{}\n{}", String::from_utf8_lossy(&raw), entry["decoded"])
}

fn wait_for(r: &Receiver, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = received(r);
        if pred(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "{what}: received {got:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The items at `levels` (e.g. resourceSpans → scopeSpans → spans) of every request to `path`.
fn items(entries: &[Value], path: &str, levels: [&str; 3]) -> Vec<Value> {
    let mut out: Vec<Value> = entries
        .iter()
        .filter(|e| e["path"] == path)
        .map(|e| e["decoded"].clone())
        .collect();
    for level in levels {
        out = out
            .iter()
            .flat_map(|v| v[level].as_array().cloned().unwrap_or_default())
            .collect();
    }
    out
}

fn spans(entries: &[Value]) -> Vec<Value> {
    items(
        entries,
        "/v1/traces",
        ["resourceSpans", "scopeSpans", "spans"],
    )
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

fn metric_names(entries: &[Value]) -> Vec<String> {
    items(
        entries,
        "/v1/metrics",
        ["resourceMetrics", "scopeMetrics", "metrics"],
    )
    .iter()
    .filter_map(|m| m["name"].as_str().map(str::to_string))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_personal_data_never_reaches_the_collector() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: PRYX_OTLP_PYTHON is not set (scripts/otlp.sh sets it)");
        return;
    };
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.set_secret("PLANTED", STORED);
    env.set_secret("otel-token", HEADER);
    let work = tempfile::tempdir().unwrap();
    let rx = receiver(&python, work.path());
    // Debug, the tier that sends the most (tool arguments and error messages, redacted).
    config(
        &env,
        json!({"enabled": true, "endpoint": format!("http://127.0.0.1:{}", rx.port),
               "tier": "debug", "headers": {"x-otel-token": "secret:otel-token"}}),
    );
    let mut core = serve(&env);
    let api = Api::of(env.home.path(), core.port);
    run_turns(&server, &api);

    // The tool call's and the failed model call's spans arrive with the batch delay.
    let got = wait_for(&rx, "the spans of all three turns", |got| {
        let s = spans(got);
        s.iter()
            .filter(|s| s["name"] == "invoke_agent pryx")
            .count()
            >= 3
            && s.iter().any(|s| s["name"] == "execute_tool fs.read")
    });
    let status = api.get("/api/v1/telemetry");
    assert_eq!(status.status, 200, "{}", status.text);
    assert_eq!(status.json["enabled"], true, "{}", status.text);
    assert!(
        status.json["counts"]["spans"].as_u64().unwrap() >= 6,
        "{}",
        status.text
    );
    assert!(status.json["last_export_at"].is_string(), "{}", status.text);
    assert_eq!(status.json["headers"], json!(["x-otel-token"]));
    assert!(
        !status.json["sample"].as_array().unwrap().is_empty(),
        "{}",
        status.text
    );
    let audit = api.get("/api/v1/audit?limit=200");
    assert!(
        audit.text.contains("telemetry.enabled")
            && audit.text.contains(&format!("127.0.0.1:{}", rx.port)),
        "enabling is audited with its endpoint: {}",
        audit.text
    );
    // Stopping sends what is left, the metrics once more included.
    stop(&mut core);
    let got = {
        let later = received(&rx);
        assert!(later.len() >= got.len());
        later
    };

    for e in &got {
        assert!(e["error"].is_null(), "the receiver could not decode: {e}");
        assert_eq!(e["headers"]["content-type"], "application/x-protobuf");
        assert_eq!(
            e["headers"]["x-otel-token"], HEADER,
            "the header secret is sent"
        );
        let text = payload_text(e);
        for (what, value) in PLANTED {
            assert!(
                !text.contains(value),
                "the {what} left in {}: {text}",
                e["path"]
            );
        }
        // Prompts and answers are never exported, redacted or not.
        assert!(!text.contains("read my notes"), "a prompt left: {text}");
        assert!(
            !text.contains("Here is what I found"),
            "an answer left: {text}"
        );
    }
    let paths: Vec<&str> = got.iter().filter_map(|e| e["path"].as_str()).collect();
    for p in ["/v1/traces", "/v1/metrics", "/v1/logs"] {
        assert!(paths.contains(&p), "nothing on {p}: {paths:?}");
    }

    let s = spans(&got);
    let chat = s
        .iter()
        .find(|s| s["name"] == "chat gpt-4o")
        .expect("a model call span");
    assert_eq!(attr(chat, "gen_ai.system").unwrap()["stringValue"], "mock");
    assert_eq!(
        attr(chat, "gen_ai.request.model").unwrap()["stringValue"],
        "gpt-4o"
    );
    assert!(attr(chat, "gen_ai.usage.input_tokens").is_some(), "{chat}");
    assert!(attr(chat, "gen_ai.usage.output_tokens").is_some(), "{chat}");
    let tool = s
        .iter()
        .find(|s| s["name"] == "execute_tool fs.read")
        .unwrap();
    assert_eq!(
        attr(tool, "gen_ai.tool.name").unwrap()["stringValue"],
        "fs.read"
    );
    let args = attr(tool, "pryx.tool.arguments").expect("debug sends redacted arguments");
    assert!(
        args["stringValue"]
            .as_str()
            .unwrap()
            .contains("[REDACTED_EMAIL]"),
        "{args}"
    );
    let turn = s.iter().find(|s| s["name"] == "invoke_agent pryx").unwrap();
    assert_eq!(tool["traceId"], turn["traceId"], "one trace per turn");
    assert!(
        s.iter().any(|x| x["parentSpanId"] == turn["spanId"]),
        "children point at their turn"
    );
    let failed = s
        .iter()
        .find(|x| x["name"] == "chat gpt-4o" && x["status"]["code"] == "STATUS_CODE_ERROR")
        .expect("the failed model call");
    assert!(attr(failed, "error.type").is_some(), "{failed}");

    let names = metric_names(&got);
    for m in [
        "pryx_turns",
        "pryx_model_calls",
        "pryx_tokens",
        "pryx_tool_calls",
        "pryx_model_call_duration",
    ] {
        assert!(names.iter().any(|n| n == m), "no {m} in {names:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_by_default_the_collector_hears_nothing() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: PRYX_OTLP_PYTHON is not set (scripts/otlp.sh sets it)");
        return;
    };
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    let work = tempfile::tempdir().unwrap();
    let rx = receiver(&python, work.path());
    // The endpoint is named, but export is not enabled.
    config(
        &env,
        json!({"endpoint": format!("http://127.0.0.1:{}", rx.port)}),
    );
    let mut core = serve(&env);
    let api = Api::of(env.home.path(), core.port);
    run_turns(&server, &api);
    let status = api.get("/api/v1/telemetry");
    assert_eq!(status.json["enabled"], false, "{}", status.text);
    assert_eq!(status.json["counts"]["spans"], 0, "{}", status.text);
    // What a stopping core would send goes before it exits: nothing, here.
    stop(&mut core);
    assert!(received(&rx).is_empty(), "{:?}", received(&rx));
}
