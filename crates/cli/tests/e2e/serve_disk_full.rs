#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx serve` on a data dir whose file system fills up mid-turn: the turn ends with the store
//! error on every surface (the stream ends, nothing hangs), readiness turns `degraded` with the
//! reason, a new message is refused with the error body instead of being acknowledged, and
//! everything recovers by itself once space returns. The file system is a small tmpfs mounted
//! by the test (root); where mounting is not permitted the test says `SKIPPED`.

use crate::common;
use crate::serve_api;

use common::*;
use serde_json::json;
use serve_api::{Api, completion};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs mounted for one test; unmounted on drop.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    fn mount(size: &str) -> Result<SmallFs, String> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mounting a tmpfs is not permitted here: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallFs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the file system has no room left; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling the file system: {e}"),
            }
        }
        // Whatever is left is smaller than a chunk: take it too.
        while f.write(&[0u8; 512]).is_ok_and(|n| n > 0) {}
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_ends_the_turn_everywhere_flips_readiness_and_recovers_by_itself() {
    let fs = match SmallFs::mount("64m") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("SKIPPED: a_full_disk_ends_the_turn_everywhere: {why}");
            return;
        }
    };
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted_in(fs.path(), &llm);
    let serve = Serve::start(&env, &[]);
    let api = Api::of(env.home.path(), serve.port);
    let sid = api.create_session(json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(api.get("/api/v1/health/ready").status, 200);

    // The turn is accepted and waits on its model; meanwhile the disk fills up. Its (large)
    // answer cannot be stored.
    llm.hold();
    llm.push(Turn::text("x".repeat(4 << 20)).with_chunk_chars(1 << 16));
    let mut turn = api.stream_turn(&sid, "write me a novel");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    turn.until("turn.started", deadline, &mut seen);
    let filler = fs.fill();
    llm.release();
    let events = turn.rest(deadline);
    let end = completion(&events);
    assert_eq!(end["stop"], "error", "{events:#?}");
    assert_eq!(end["code"], "STORE_FAILED", "{end}");
    let message = end["message"].as_str().unwrap();
    assert!(message.contains("disk is full"), "{message}");
    let failure = events
        .iter()
        .find(|e| e.name == "error.occurred")
        .unwrap_or_else(|| panic!("no error.occurred: {events:#?}"));
    assert_eq!(failure.payload()["code"], "STORE_FAILED");
    let last = events.last().unwrap();
    assert_eq!(last.name, "turn.completed");
    assert_eq!(
        last.data["unsaved"], true,
        "marked as not stored: {}",
        last.data
    );
    assert!(last.data.get("version").is_none(), "{}", last.data);

    // Readiness says why; a new message is refused with the error body, not acknowledged.
    let ready = api.get("/api/v1/health/ready");
    assert_eq!(ready.status, 503, "{}", ready.text);
    assert_eq!(ready.json["status"], "degraded");
    assert!(
        ready.json["reason"]
            .as_str()
            .unwrap()
            .contains("disk is full"),
        "{}",
        ready.text
    );
    let diag = api.get("/api/v1/diagnostics");
    assert_eq!(diag.json["status"], "degraded", "{}", diag.text);
    let refused = api.post(
        &format!("/api/v1/sessions/{sid}/messages"),
        json!({"content": "are you there?"}),
    );
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(refused.code(), "STORE_FAILED");
    assert!(
        refused.message().contains("disk is full"),
        "{}",
        refused.text
    );
    let detail = api.get(&format!("/api/v1/sessions/{sid}"));
    assert_eq!(detail.json["session"]["busy"], false, "{}", detail.text);

    // Space returns: readiness and turns recover without a restart.
    std::fs::remove_file(filler).unwrap();
    let ready = api.get("/api/v1/health/ready");
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.json["status"], "ready");
    llm.push(Turn::text("Back again."));
    let mut turn = api.stream_turn(&sid, "and now?");
    let events = turn.rest(Instant::now() + Duration::from_secs(30));
    assert_eq!(completion(&events)["stop"], "completed", "{events:#?}");
    let texts: Vec<String> = env
        .store()
        .list_messages(&sid)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(texts.contains(&"and now?".to_string()), "{texts:?}");
    assert!(texts.contains(&"Back again.".to_string()), "{texts:?}");
    assert!(
        !texts.contains(&"are you there?".to_string()),
        "a refused message is not kept: {texts:?}"
    );
    drop(serve);
}
