//! Resolving a path the way the kernel will, before it is judged: `..`, symlinks (dangling,
//! looping, chained), `~`, NUL bytes and the proc/dev/sys trees.
use pryx_policy::{PathProblem, resolve_path};
use std::os::unix::fs::symlink;
use std::path::PathBuf;

fn ws() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(root.join("w/src")).unwrap();
    std::fs::write(root.join("w/src/main.rs"), "fn main(){}").unwrap();
    (dir, root)
}

#[test]
fn plain_relative_and_dotdot() {
    let (_d, root) = ws();
    let w = root.join("w");
    assert_eq!(
        resolve_path("src/main.rs", &w, None).unwrap(),
        w.join("src/main.rs")
    );
    assert_eq!(
        resolve_path("./src/../src/main.rs", &w, None).unwrap(),
        w.join("src/main.rs")
    );
    assert_eq!(resolve_path("../x", &w, None).unwrap(), root.join("x"));
    assert_eq!(
        resolve_path("new/dir/file", &w, None).unwrap(),
        w.join("new/dir/file")
    );
    assert_eq!(
        resolve_path("new/../../x", &w, None),
        Err(PathProblem::DotDotAfterMissing)
    );
}

#[test]
fn symlinks_dangling_and_loops() {
    let (_d, root) = ws();
    let w = root.join("w");
    symlink(&root, w.join("up")).unwrap();
    assert_eq!(
        resolve_path("up/secret", &w, None).unwrap(),
        root.join("secret")
    );
    symlink(root.join("nowhere/file"), w.join("dangling")).unwrap();
    assert_eq!(
        resolve_path("dangling", &w, None).unwrap(),
        root.join("nowhere/file")
    );
    symlink("/etc", w.join("etc")).unwrap();
    assert_eq!(
        resolve_path("etc/../x", &w, None).unwrap(),
        PathBuf::from("/x")
    );
    symlink(w.join("loop"), w.join("loop")).unwrap();
    assert_eq!(
        resolve_path("loop", &w, None),
        Err(PathProblem::SymlinkLoop)
    );
}

#[test]
fn forty_links_are_followed_and_the_forty_first_is_a_loop() {
    let (_d, root) = ws();
    let w = root.join("w");
    // l0 -> l1 -> ... -> l40 -> src/main.rs: 41 links on the way.
    symlink(w.join("src/main.rs"), w.join("l40")).unwrap();
    for i in (0..40).rev() {
        symlink(w.join(format!("l{}", i + 1)), w.join(format!("l{i}"))).unwrap();
    }
    assert_eq!(resolve_path("l1", &w, None).unwrap(), w.join("src/main.rs"));
    assert_eq!(resolve_path("l0", &w, None), Err(PathProblem::SymlinkLoop));
}

#[test]
fn each_problem_says_what_is_wrong() {
    let cases = [
        (PathProblem::Nul, "path contains a NUL byte"),
        (PathProblem::Empty, "path is empty"),
        (
            PathProblem::Tilde,
            "`~` cannot be expanded (unknown home or `~user`)",
        ),
        (
            PathProblem::DotDotAfterMissing,
            "path has `..` after a part that does not exist",
        ),
        (PathProblem::SymlinkLoop, "too many symbolic links"),
        (
            PathProblem::Special(PathBuf::from("/proc/1")),
            "path reaches /proc/1 (proc, dev or sys)",
        ),
        (
            PathProblem::Io("denied".into()),
            "path cannot be inspected: denied",
        ),
    ];
    for (problem, text) in cases {
        assert_eq!(problem.to_string(), text);
    }
}

#[test]
fn tilde_nul_empty_special() {
    let (_d, root) = ws();
    let w = root.join("w");
    assert_eq!(
        resolve_path("~/a", &w, Some(&root)).unwrap(),
        root.join("a")
    );
    assert_eq!(resolve_path("~/a", &w, None), Err(PathProblem::Tilde));
    assert_eq!(
        resolve_path("~root/a", &w, Some(&root)),
        Err(PathProblem::Tilde)
    );
    assert_eq!(resolve_path("a\0b", &w, None), Err(PathProblem::Nul));
    assert_eq!(resolve_path("", &w, None), Err(PathProblem::Empty));
    assert!(matches!(
        resolve_path("/proc/self/root/etc/passwd", &w, None),
        Err(PathProblem::Special(_))
    ));
    assert!(matches!(
        resolve_path("/sys/../proc/1/cwd", &w, None),
        Err(PathProblem::Special(_))
    ));
    symlink("/proc/self/cwd", w.join("cwd")).unwrap();
    assert!(matches!(
        resolve_path("cwd/x", &w, None),
        Err(PathProblem::Special(_))
    ));
}
