//! Test helper, not a user tool: appends messages to a new session in the database named on the
//! command line and prints each message id only after its commit returned, until it is killed.
//! First line: `session <id>`.

use std::io::Write;
use std::process::ExitCode;

use pryx_store::{MessageUsage, NewMessage, NewSession, Role, Store};

/// Upper bound so an orphaned writer cannot fill the disk.
const MAX_MESSAGES: u64 = 100_000;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pryx-store-writer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: pryx-store-writer <database>")?;
    let store = Store::open(&path)?;
    let session = store.create_session(&NewSession {
        title: "durability".into(),
        ..Default::default()
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "session {}", session.id)?;
    out.flush()?;
    for i in 0..MAX_MESSAGES {
        let text = format!("message {i} {}", "x".repeat(200));
        let msg = store.append_message(&NewMessage {
            session_id: session.id.clone(),
            role: if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            },
            content: serde_json::json!([{"type": "text", "text": text}]),
            text,
            tool_call_id: None,
            model: None,
            usage: MessageUsage::default(),
        })?;
        writeln!(out, "{}", msg.id)?;
        out.flush()?;
    }
    Ok(())
}
