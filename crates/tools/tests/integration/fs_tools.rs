#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use pryx_tools::fs::{FsEdit, FsList, FsRead, FsSearch, FsWrite, preview_edit, preview_write};
use pryx_tools::{Tool, ToolContext, ToolError};
use serde_json::json;

fn setup() -> (tempfile::TempDir, ToolContext) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path()).unwrap();
    (dir, ctx)
}

fn ws(ctx: &ToolContext) -> &Path {
    &ctx.workspace
}

#[tokio::test]
async fn read_whole_and_ranges() {
    let (_d, ctx) = setup();
    fs::write(ws(&ctx).join("f.txt"), "one\ntwo\nthree\nfour\n").unwrap();
    let out = FsRead
        .execute(json!({"path": "f.txt"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "one\ntwo\nthree\nfour\n");
    assert_eq!(out.metadata["total_lines"], 4);
    let out = FsRead
        .execute(
            json!({"path": "f.txt", "start_line": 2, "end_line": 3}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(out.content, "two\nthree\n");
    let out = FsRead
        .execute(json!({"path": "f.txt", "start_line": 4}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "four\n");
    let err = FsRead
        .execute(json!({"path": "f.txt", "start_line": 9}), ctx.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("past the end"), "{err}");
    let err = FsRead
        .execute(
            json!({"path": "f.txt", "start_line": 3, "end_line": 2}),
            ctx.clone(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidArguments { .. }));
}

#[tokio::test]
async fn read_refuses_binary_missing_and_oversized() {
    let (_d, mut ctx) = setup();
    fs::write(ws(&ctx).join("bin"), b"\x7fELF\x00\x01\x02").unwrap();
    let err = FsRead
        .execute(json!({"path": "bin"}), ctx.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::BinaryFile { .. }), "{err}");
    assert!(err.to_string().contains("binary"));

    let err = FsRead
        .execute(json!({"path": "nope.txt"}), ctx.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound { .. }), "{err}");
    assert!(!err.is_fatal());

    ctx.limits.max_file_bytes = 10;
    let big: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    fs::write(ws(&ctx).join("big.txt"), &big).unwrap();
    let err = FsRead
        .execute(json!({"path": "big.txt"}), ctx.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::TooLarge { .. }), "{err}");
    // A range of an oversized file is still readable.
    let out = FsRead
        .execute(
            json!({"path": "big.txt", "start_line": 50, "end_line": 51}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(out.content, "line 50\nline 51\n");
}

#[tokio::test]
async fn read_output_is_trimmed_to_the_cap() {
    let (_d, mut ctx) = setup();
    ctx.limits.output_cap_bytes = 200;
    let text: String = (1..=1000).map(|i| format!("row {i}\n")).collect();
    fs::write(ws(&ctx).join("long.txt"), &text).unwrap();
    let out = FsRead
        .execute(json!({"path": "long.txt"}), ctx.clone())
        .await
        .unwrap();
    assert!(out.content.len() <= 200);
    assert!(out.content.starts_with("row 1\n"));
    assert!(out.content.ends_with("row 1000\n"));
    assert!(out.content.contains("bytes omitted"));
    assert_eq!(out.metadata["truncated"], true);
}

#[tokio::test]
async fn write_creates_parents_and_preview_does_not_write() {
    let (_d, ctx) = setup();
    let args = json!({"path": "a/b/c.txt", "content": "hello\n"});
    let diff = preview_write(args.clone(), ctx.clone()).await.unwrap();
    assert!(diff.contains("+hello"), "{diff}");
    assert!(!ws(&ctx).join("a").exists());

    let out = FsWrite.execute(args, ctx.clone()).await.unwrap();
    assert_eq!(out.metadata["created"], true);
    assert_eq!(
        fs::read_to_string(ws(&ctx).join("a/b/c.txt")).unwrap(),
        "hello\n"
    );

    let args = json!({"path": "a/b/c.txt", "content": "bye\n"});
    let diff = FsWrite
        .preview(args.clone(), ctx.clone())
        .await
        .unwrap()
        .unwrap();
    assert!(diff.contains("-hello") && diff.contains("+bye"), "{diff}");
    let out = FsWrite.execute(args, ctx.clone()).await.unwrap();
    assert_eq!(out.metadata["created"], false);
    assert_eq!(
        fs::read_to_string(ws(&ctx).join("a/b/c.txt")).unwrap(),
        "bye\n"
    );
    // No temp files left behind.
    assert_eq!(fs::read_dir(ws(&ctx).join("a/b")).unwrap().count(), 1);
}

#[tokio::test]
async fn write_keeps_permissions_of_existing_file() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, ctx) = setup();
    let p = ws(&ctx).join("run.sh");
    fs::write(&p, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    FsWrite
        .execute(
            json!({"path": "run.sh", "content": "#!/bin/sh\necho hi\n"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o755
    );
}

#[tokio::test]
async fn edit_absent_ambiguous_and_replace_all() {
    let (_d, ctx) = setup();
    let p = ws(&ctx).join("code.rs");
    fs::write(&p, "let a = 1;\nlet b = 1;\nlet c = 2;\n").unwrap();

    let err = FsEdit
        .execute(
            json!({"path": "code.rs", "old_text": "let z", "new_text": "x"}),
            ctx.clone(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("old_text not found in code.rs"),
        "{err}"
    );
    assert!(!err.is_fatal());

    let err = FsEdit
        .execute(
            json!({"path": "code.rs", "old_text": "= 1;", "new_text": "= 3;"}),
            ctx.clone(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("found 2 times in code.rs; add context or set replace_all"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "let a = 1;\nlet b = 1;\nlet c = 2;\n"
    );

    let out = FsEdit
        .execute(
            json!({"path": "code.rs", "old_text": "let b = 1;", "new_text": "let b = 5;"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert!(
        out.content.contains("-let b = 1;\n+let b = 5;"),
        "{}",
        out.content
    );
    assert_eq!(out.metadata["replacements"], 1);

    let out = FsEdit
        .execute(
            json!({"path": "code.rs", "old_text": "let ", "new_text": "const ", "replace_all": true}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert_eq!(out.metadata["replacements"], 3);
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "const a = 1;\nconst b = 5;\nconst c = 2;\n"
    );
}

#[tokio::test]
async fn edit_preview_shows_diff_without_writing() {
    let (_d, ctx) = setup();
    let p = ws(&ctx).join("x.txt");
    fs::write(&p, "alpha\nbeta\n").unwrap();
    let diff = preview_edit(
        json!({"path": "x.txt", "old_text": "beta", "new_text": "gamma"}),
        ctx.clone(),
    )
    .await
    .unwrap();
    assert!(diff.starts_with("--- a/x.txt\n+++ b/x.txt\n"), "{diff}");
    assert!(diff.contains("-beta\n+gamma\n"));
    assert_eq!(fs::read_to_string(&p).unwrap(), "alpha\nbeta\n");
    let err = preview_edit(
        json!({"path": "x.txt", "old_text": "delta", "new_text": ""}),
        ctx.clone(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ToolError::OldTextNotFound { .. }));
}

#[tokio::test]
async fn list_flat_and_recursive_respecting_gitignore() {
    let (_d, ctx) = setup();
    let w = ws(&ctx);
    fs::create_dir_all(w.join("src/inner")).unwrap();
    fs::create_dir_all(w.join("target")).unwrap();
    fs::create_dir_all(w.join(".git")).unwrap();
    fs::write(w.join(".gitignore"), "target/\n*.log\n").unwrap();
    fs::write(w.join("src/main.rs"), "").unwrap();
    fs::write(w.join("src/inner/mod.rs"), "").unwrap();
    fs::write(w.join("target/out"), "").unwrap();
    fs::write(w.join("debug.log"), "").unwrap();

    let out = FsList.execute(json!({}), ctx.clone()).await.unwrap();
    let lines: Vec<&str> = out.content.lines().collect();
    assert_eq!(lines, vec![".gitignore", "src/"]);

    let out = FsList
        .execute(json!({"path": ".", "recursive": true}), ctx.clone())
        .await
        .unwrap();
    let lines: Vec<&str> = out.content.lines().collect();
    assert_eq!(
        lines,
        vec![
            ".gitignore",
            "src/",
            "src/inner/",
            "src/inner/mod.rs",
            "src/main.rs"
        ]
    );

    let out = FsList
        .execute(json!({"path": "src"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        out.content.lines().collect::<Vec<_>>(),
        vec!["src/inner/", "src/main.rs"]
    );
}

#[tokio::test]
async fn search_respects_gitignore_glob_and_caps() {
    let (_d, mut ctx) = setup();
    let w = ws(&ctx).to_path_buf();
    fs::create_dir_all(w.join("src")).unwrap();
    fs::create_dir_all(w.join("build")).unwrap();
    fs::write(w.join(".gitignore"), "build/\n").unwrap();
    fs::write(w.join("src/a.rs"), "fn main() {}\n// TODO: one\n").unwrap();
    fs::write(w.join("src/b.txt"), "TODO: two\n").unwrap();
    fs::write(w.join("build/gen.rs"), "// TODO: ignored\n").unwrap();
    fs::write(w.join("blob.bin"), b"TODO\x00binary").unwrap();

    let out = FsSearch
        .execute(json!({"pattern": "TODO"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        out.content.lines().collect::<Vec<_>>(),
        vec!["src/a.rs:2: // TODO: one", "src/b.txt:1: TODO: two"]
    );
    assert_eq!(out.metadata["matches"], 2);

    let out = FsSearch
        .execute(json!({"pattern": "TODO", "glob": "*.rs"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "src/a.rs:2: // TODO: one");

    let out = FsSearch
        .execute(json!({"pattern": "nothing-here"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "no matches");

    let err = FsSearch
        .execute(json!({"pattern": "("}), ctx.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bad regex"), "{err}");

    ctx.limits.max_results = 1;
    let out = FsSearch
        .execute(json!({"pattern": "TODO"}), ctx.clone())
        .await
        .unwrap();
    assert!(
        out.content.contains("[1 of 2 matches shown"),
        "{}",
        out.content
    );
}

#[tokio::test]
async fn symlinks_out_of_the_workspace_are_refused_by_every_fs_tool() {
    let (_d, ctx) = setup();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    fs::write(&secret, "top secret TODO\n").unwrap();
    let w = ws(&ctx);
    std::os::unix::fs::symlink(&secret, w.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), w.join("outdir")).unwrap();

    let calls: Vec<(&dyn Tool, serde_json::Value)> = vec![
        (&FsRead, json!({"path": "link.txt"})),
        (&FsRead, json!({"path": "outdir/secret.txt"})),
        (&FsWrite, json!({"path": "link.txt", "content": "pwned"})),
        (
            &FsWrite,
            json!({"path": "outdir/new.txt", "content": "pwned"}),
        ),
        (
            &FsEdit,
            json!({"path": "link.txt", "old_text": "top", "new_text": "x"}),
        ),
        (&FsList, json!({"path": "outdir"})),
        (&FsSearch, json!({"pattern": "secret", "path": "outdir"})),
        (&FsRead, json!({"path": "../../../../etc/passwd"})),
        (&FsRead, json!({"path": "/etc/passwd"})),
    ];
    for (tool, args) in calls {
        let err = tool.execute(args.clone(), ctx.clone()).await.unwrap_err();
        assert!(
            matches!(err, ToolError::OutsideWorkspace { .. }),
            "{} {args}: {err}",
            tool.name()
        );
    }
    assert_eq!(fs::read_to_string(&secret).unwrap(), "top secret TODO\n");
    assert!(!outside.path().join("new.txt").exists());

    // Walking the workspace does not follow the links either.
    let out = FsSearch
        .execute(json!({"pattern": "TODO"}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(out.content, "no matches");
    let out = FsList
        .execute(json!({"recursive": true}), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        out.content.lines().collect::<Vec<_>>(),
        vec!["link.txt@", "outdir@"]
    );
}

#[tokio::test]
async fn bad_arguments_are_recoverable() {
    let (_d, ctx) = setup();
    let err = FsWrite
        .execute(json!({"path": "x"}), ctx.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::InvalidArguments { .. }), "{err}");
    assert!(err.to_string().contains("content"));
    assert!(!err.is_fatal());
    let err = FsRead
        .execute(json!({"path": "x", "bogus": 1}), ctx.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
}

#[tokio::test]
async fn special_files_are_refused_without_blocking() {
    let (_d, ctx) = setup();
    let fifo = ws(&ctx).join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let err = FsRead
        .execute(json!({"path": "pipe"}), ctx.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let err = FsRead
        .execute(json!({"path": "."}), ctx.clone())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("use fs.list"), "{err}");
}

#[tokio::test]
async fn previews_of_writes_and_edits_are_whole_however_small_the_output_cap() {
    let (_d, mut ctx) = setup();
    ctx.limits.output_cap_bytes = 100;
    let content: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
    let diff = preview_write(json!({"path": "big.txt", "content": content}), ctx.clone())
        .await
        .unwrap();
    for i in [1, 500, 1000] {
        assert!(
            diff.contains(&format!("+line {i}\n")),
            "line {i} cut from the preview"
        );
    }
    assert!(!diff.contains("omitted"), "{diff}");
    fs::write(ws(&ctx).join("big.txt"), &content).unwrap();
    let edit = preview_edit(
        json!({"path": "big.txt", "old_text": "line", "new_text": "LINE", "replace_all": true}),
        ctx.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        edit.matches("\n+LINE ").count(),
        1000,
        "every changed line is shown"
    );
}
