//! The file tools against attacks on the workspace boundary: links swapped in while they run,
//! hard links to outside files, and Pryx's data directory inside the workspace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use pryx_tools::fs::{FsEdit, FsList, FsRead, FsSearch, FsWrite, preview_edit, preview_write};
use pryx_tools::{Tool, ToolContext, ToolError};
use serde_json::{Value, json};

fn canonical_tempdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = fs::canonicalize(dir.path()).unwrap();
    (dir, path)
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Exchanges `a` and `b` (a directory and a link) and back until `stop`, counting the swaps.
/// Between pairs it yields, so the calls also find the directory in place and some succeed.
fn swap_until(a: PathBuf, b: PathBuf, stop: Arc<AtomicBool>, swaps: Arc<AtomicUsize>) {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..2 {
            renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE).unwrap();
        }
        swaps.fetch_add(2, Ordering::Relaxed);
        std::thread::yield_now();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_swapped_for_an_outside_link_never_leads_out() {
    let (_w, ws) = canonical_tempdir();
    let (_o, outside) = canonical_tempdir();
    fs::write(outside.join("f.txt"), "OUTSIDE\n").unwrap();
    fs::write(outside.join("outside-only.txt"), "OUTSIDE\n").unwrap();
    fs::create_dir(ws.join("sub")).unwrap();
    fs::write(ws.join("sub/f.txt"), "INSIDE\n").unwrap();
    std::os::unix::fs::symlink(&outside, ws.join("swap")).unwrap();
    let ctx = ToolContext::new(&ws).unwrap();
    // Small enough that ranged reads take the streaming path.
    let mut streaming = ctx.clone();
    streaming.limits.max_file_bytes = 2;

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (a, b) = (ws.join("sub"), ws.join("swap"));
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || swap_until(a, b, stop, swaps))
    };

    let started = Instant::now();
    let (mut wrote, mut read, mut listed) = (0, 0, 0);
    // A thousand rounds at least, and on until the swapper has swapped a thousand times
    // meanwhile (on a loaded machine it gets fewer turns): the race is always run, never timed.
    let mut i = 0;
    while i < 1_000 || swaps.load(Ordering::Relaxed) <= 1_000 {
        i += 1;
        let content = format!("inside {i}\n");
        if FsWrite
            .execute(
                json!({"path": "sub/w.txt", "content": content}),
                ctx.clone(),
            )
            .await
            .is_ok()
        {
            wrote += 1;
        }
        let (args, c) = if i % 2 == 0 {
            (json!({"path": "sub/f.txt"}), ctx.clone())
        } else {
            (
                json!({"path": "sub/f.txt", "start_line": 1}),
                streaming.clone(),
            )
        };
        if let Ok(out) = FsRead.execute(args, c).await {
            assert_eq!(out.content, "INSIDE\n", "read {i} returned outside content");
            read += 1;
        }
        if i % 4 == 0
            && let Ok(out) = FsList.execute(json!({"path": "sub"}), ctx.clone()).await
        {
            assert!(
                !out.content.contains("outside-only"),
                "listing {i} showed an outside name: {}",
                out.content
            );
            listed += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();

    assert_eq!(
        names(&outside),
        vec!["f.txt", "outside-only.txt"],
        "a write landed outside"
    );
    assert_eq!(
        fs::read_to_string(outside.join("f.txt")).unwrap(),
        "OUTSIDE\n"
    );
    let swaps = swaps.load(Ordering::Relaxed);
    println!(
        "{swaps} swaps; {wrote} writes, {read} reads, {listed} listings succeeded in {:?}",
        started.elapsed()
    );
    assert!(
        wrote > 0 && read > 0,
        "no call ever succeeded: the race proved nothing"
    );
}

#[tokio::test]
async fn hard_links_are_never_written_through_and_protected_ones_never_read() {
    let (_w, ws) = canonical_tempdir();
    let (_o, outside) = canonical_tempdir();
    let (_d, data) = canonical_tempdir();
    fs::write(outside.join("o.txt"), "OUT\n").unwrap();
    fs::write(data.join("secrets.key"), "SECRET\n").unwrap();
    fs::hard_link(outside.join("o.txt"), ws.join("linked.txt")).unwrap();
    fs::hard_link(data.join("secrets.key"), ws.join("innocent.txt")).unwrap();
    let ctx = ToolContext::new(&ws)
        .unwrap()
        .with_protected([data.clone()]);

    let writes: Vec<(&dyn Tool, Value)> = vec![
        (&FsWrite, json!({"path": "linked.txt", "content": "pwned"})),
        (
            &FsEdit,
            json!({"path": "linked.txt", "old_text": "OUT", "new_text": "pwned"}),
        ),
    ];
    for (tool, args) in writes {
        let err = tool.execute(args.clone(), ctx.clone()).await.unwrap_err();
        assert!(
            matches!(err, ToolError::HardLinked { .. }),
            "{} {args}: {err}",
            tool.name()
        );
        assert!(err.to_string().contains("other hard links"), "{err}");
    }
    let err = preview_write(json!({"path": "linked.txt", "content": "x"}), ctx.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::HardLinked { .. }), "{err}");
    assert_eq!(fs::read_to_string(outside.join("o.txt")).unwrap(), "OUT\n");

    // Reading a file with several links is fine, unless it is a protected file.
    let out = FsRead
        .execute(json!({"path": "linked.txt"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "OUT\n");
    let err = FsRead
        .execute(json!({"path": "innocent.txt"}), ctx.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Protected { .. }), "{err}");
    let out = FsSearch
        .execute(json!({"pattern": "SECRET"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "no matches");
    let err = FsSearch
        .execute(
            json!({"pattern": "SECRET", "path": "innocent.txt"}),
            ctx.clone(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Protected { .. }), "{err}");
}

#[tokio::test]
async fn the_data_dir_inside_the_workspace_is_out_of_every_file_tool_s_reach() {
    let (_w, ws) = canonical_tempdir();
    // Not hidden, and not ignored: only protection keeps the walks out of it.
    let data = ws.join("pryx-data");
    fs::create_dir_all(data.join("policies")).unwrap();
    fs::write(data.join("secrets.key"), "SECRET\n").unwrap();
    fs::write(data.join("config.json"), "{\"SECRET\": 1}\n").unwrap();
    fs::write(data.join("policies/default.yaml"), "SECRET: yes\n").unwrap();
    fs::create_dir(ws.join("src")).unwrap();
    fs::write(ws.join("src/main.rs"), "// SECRET-free\n").unwrap();
    std::os::unix::fs::symlink(&data, ws.join("alias")).unwrap();
    std::os::unix::fs::symlink("pryx-data", ws.join("rel-alias")).unwrap();
    std::os::unix::fs::symlink(data.join("secrets.key"), ws.join("key-link")).unwrap();
    let ctx = ToolContext::new(&ws)
        .unwrap()
        .with_protected([data.clone()]);
    let abs_key = data.join("secrets.key").display().to_string();

    let calls: Vec<(&dyn Tool, Value)> = vec![
        (&FsRead, json!({"path": "pryx-data/secrets.key"})),
        (&FsRead, json!({"path": abs_key})),
        (&FsRead, json!({"path": "alias/secrets.key"})),
        (&FsRead, json!({"path": "rel-alias/config.json"})),
        (&FsRead, json!({"path": "key-link"})),
        (&FsRead, json!({"path": "src/../pryx-data/secrets.key"})),
        (
            &FsRead,
            json!({"path": "./alias/../pryx-data/./config.json"}),
        ),
        (&FsRead, json!({"path": "pryx-data/does-not-exist"})),
        (
            &FsWrite,
            json!({"path": "pryx-data/new.txt", "content": "x"}),
        ),
        (
            &FsWrite,
            json!({"path": "pryx-data/policies/open.yaml", "content": "x"}),
        ),
        (&FsWrite, json!({"path": "alias/new/dir/f", "content": "x"})),
        (&FsWrite, json!({"path": "key-link", "content": "x"})),
        (
            &FsEdit,
            json!({"path": "rel-alias/config.json", "old_text": "1", "new_text": "2"}),
        ),
        (&FsList, json!({"path": "pryx-data"})),
        (&FsList, json!({"path": "alias", "recursive": true})),
        (&FsSearch, json!({"pattern": "SECRET", "path": "alias"})),
        (&FsSearch, json!({"pattern": "SECRET", "path": "pryx-data"})),
    ];
    for (tool, args) in calls {
        let err = tool.execute(args.clone(), ctx.clone()).await.unwrap_err();
        assert!(
            matches!(err, ToolError::Protected { .. }),
            "{} {args}: {err}",
            tool.name()
        );
        assert!(err.to_string().contains("Pryx's data directory"), "{err}");
    }
    for preview in [
        preview_write(json!({"path": "alias/x", "content": "x"}), ctx.clone()).await,
        preview_edit(
            json!({"path": "pryx-data/config.json", "old_text": "1", "new_text": "2"}),
            ctx.clone(),
        )
        .await,
    ] {
        assert!(
            matches!(preview, Err(ToolError::Protected { .. })),
            "{preview:?}"
        );
    }
    assert_eq!(
        names(&data),
        vec!["config.json", "policies", "secrets.key"],
        "something was written into the data dir"
    );
    assert_eq!(names(&data.join("policies")), vec!["default.yaml"]);

    // The walks leave it out without a trace; the links to it are names in the workspace.
    let out = FsList
        .execute(json!({"recursive": true}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        out.content.lines().collect::<Vec<_>>(),
        vec!["alias@", "key-link@", "rel-alias@", "src/", "src/main.rs"]
    );
    let out = FsSearch
        .execute(json!({"pattern": "SECRET"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "src/main.rs:1: // SECRET-free");
}

#[tokio::test]
async fn links_that_stay_inside_the_workspace_still_work() {
    let (_w, ws) = canonical_tempdir();
    fs::create_dir(ws.join("real")).unwrap();
    fs::write(ws.join("real/f.txt"), "one\n").unwrap();
    std::os::unix::fs::symlink(ws.join("real"), ws.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("real", ws.join("rel-link")).unwrap();
    std::os::unix::fs::symlink("real/f.txt", ws.join("file-link")).unwrap();
    let ctx = ToolContext::new(&ws).unwrap();

    for path in ["abs-link/f.txt", "rel-link/f.txt", "file-link"] {
        let out = FsRead
            .execute(json!({"path": path}), ctx.clone())
            .await
            .unwrap();
        assert_eq!(out.content, "one\n", "{path}");
    }
    FsWrite
        .execute(
            json!({"path": "rel-link/new/deeper.txt", "content": "two\n"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        fs::read_to_string(ws.join("real/new/deeper.txt")).unwrap(),
        "two\n"
    );
    FsWrite
        .execute(
            json!({"path": "file-link", "content": "three\n"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        fs::read_to_string(ws.join("real/f.txt")).unwrap(),
        "three\n"
    );
    assert!(
        fs::symlink_metadata(ws.join("file-link"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link itself is kept; its target was written"
    );
    FsEdit
        .execute(
            json!({"path": "abs-link/f.txt", "old_text": "three", "new_text": "four"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(fs::read_to_string(ws.join("real/f.txt")).unwrap(), "four\n");
    let out = FsList
        .execute(json!({"path": "abs-link"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        out.content.lines().collect::<Vec<_>>(),
        vec!["real/f.txt", "real/new/"]
    );
}
