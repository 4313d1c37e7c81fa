//! Runs the scripted LLM server as its own process for end-to-end tests.
//!
//! Usage: `pryx-scripted-llm SCRIPT.json [--port N]`. The script is a JSON list of turns (or
//! `{"turns": [...]}`). Prints the port on the first stdout line, then serves until killed.
//! `GET /_requests` returns the recorded requests; `POST /_turns` queues more turns.

use std::io::Write;
use std::process::ExitCode;

use pryx_testkit::{ScriptFile, ScriptedLlm};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut script = None;
    let mut port = 0u16;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--port" => {
                i += 1;
                match args.get(i).and_then(|p| p.parse().ok()) {
                    Some(p) => port = p,
                    None => return fail("--port needs a number"),
                }
            }
            "-h" | "--help" => {
                println!("usage: pryx-scripted-llm SCRIPT.json [--port N]");
                return ExitCode::SUCCESS;
            }
            other => script = Some(other.to_string()),
        }
        i += 1;
    }
    let turns = match script {
        None => Vec::new(),
        Some(path) => {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => return fail(&format!("cannot read script {path}: {e}")),
            };
            match serde_json::from_str::<ScriptFile>(&text) {
                Ok(f) => f.into_turns(),
                Err(e) => return fail(&format!("script {path} is not a valid list of turns: {e}")),
            }
        }
    };
    let server = match ScriptedLlm::start_on(port).await {
        Ok(s) => s,
        Err(e) => return fail(&format!("cannot listen on 127.0.0.1:{port}: {e}")),
    };
    server.push_all(turns);
    let mut out = std::io::stdout();
    if writeln!(out, "{}", server.port())
        .and_then(|_| out.flush())
        .is_err()
    {
        return fail("cannot write the port to stdout");
    }
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    eprintln!("pryx-scripted-llm: {message}");
    ExitCode::from(2)
}
