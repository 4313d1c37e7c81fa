//! Hostile archives: links planted for a later write, links written through in the same
//! archive, and an existing tools folder replaced only when asked.

use super::*;
use std::process::Command;

fn sh(dir: &Path, line: &str) {
    let st = Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "{line}");
}

fn archive_plan(tmp: &Path, url: &str, archive: &str, key: &str) -> Plan {
    let host = host_with(&["tar", "unzip"], tmp);
    let host = Host {
        path: Some(std::ffi::OsString::from("/usr/bin:/bin")),
        ..host
    };
    let mut s = skill(&format!(
        r#"{{"pryx": {{"install": [{{"id": "d", "kind": "download", "url": "{url}", "archive": "{archive}"}}]}}}}"#
    ));
    s.manifest.requirements.skill_key = Some(key.into());
    let spec = choose(&s, None, &host).unwrap().clone();
    plan(&s, &spec, &host, &DataDir::at(tmp.join("data"))).unwrap()
}

#[tokio::test]
async fn a_tar_that_plants_a_link_is_refused_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let outside = t.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::create_dir_all(t.join("a")).unwrap();
    std::os::unix::fs::symlink(&outside, t.join("a/evil")).unwrap();
    sh(t, "tar -czf a.tgz -C a evil");
    let url = serve(fs::read(t.join("a.tgz")).unwrap());
    let p = archive_plan(t, &url, "tar.gz", "first");
    let err = execute(&p, &Runner::default(), false).await.unwrap_err();
    assert!(matches!(err, InstallError::Archive { .. }), "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(!p.dest.exists(), "nothing placed");
    let tools = t.join("data/tools");
    assert_eq!(fs::read_dir(&tools).unwrap().count(), 0, "staging removed");

    // A second archive writing through the link finds no link: it unpacks into its own
    // empty folder, and its own link-then-write trick is refused before unpacking.
    fs::create_dir_all(t.join("b/evil")).unwrap();
    fs::write(t.join("b/evil/payload"), "pwned").unwrap();
    sh(
        t,
        "tar -cf b.tar -C a evil && tar -rf b.tar -C b evil/payload && gzip b.tar",
    );
    let url = serve(fs::read(t.join("b.tar.gz")).unwrap());
    let p = archive_plan(t, &url, "tar.gz", "second");
    let err = execute(&p, &Runner::default(), false).await.unwrap_err();
    assert!(matches!(err, InstallError::Archive { .. }), "{err}");
    assert_eq!(
        fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written outside"
    );
}

#[tokio::test]
async fn a_zip_with_a_link_or_a_tar_with_a_hard_link_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    fs::create_dir_all(t.join("z")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", t.join("z/link")).unwrap();
    sh(t, "cd z && zip -q --symlinks ../z.zip link");
    let url = serve(fs::read(t.join("z.zip")).unwrap());
    let p = archive_plan(t, &url, "zip", "zipped");
    let err = execute(&p, &Runner::default(), false).await.unwrap_err();
    assert!(matches!(err, InstallError::Archive { .. }), "{err}");
    assert!(!p.dest.exists());

    fs::create_dir_all(t.join("h")).unwrap();
    fs::write(t.join("h/one"), "x").unwrap();
    fs::hard_link(t.join("h/one"), t.join("h/two")).unwrap();
    sh(t, "tar -czf h.tgz -C h one two");
    let url = serve(fs::read(t.join("h.tgz")).unwrap());
    let p = archive_plan(t, &url, "tar.gz", "hard");
    let err = execute(&p, &Runner::default(), false).await.unwrap_err();
    assert!(err.to_string().contains("hard link"), "{err}");
}

#[tokio::test]
async fn a_plain_archive_is_placed_and_replaced_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    fs::create_dir_all(t.join("ok/bin")).unwrap();
    fs::write(t.join("ok/bin/tool"), "#!/bin/sh\n").unwrap();
    sh(t, "tar -czf ok.tgz -C ok bin");
    let url = serve(fs::read(t.join("ok.tgz")).unwrap());
    let p = archive_plan(t, &url, "tar.gz", "good");
    execute(&p, &Runner::default(), false).await.unwrap();
    assert!(p.dest.join("bin/tool").is_file());
    fs::write(p.dest.join("old-marker"), "").unwrap();
    let err = execute(&p, &Runner::default(), false).await.unwrap_err();
    assert!(matches!(err, InstallError::Exists(_)), "{err}");
    assert!(err.to_string().contains("--replace"), "{err}");
    assert!(p.dest.join("old-marker").exists(), "left alone");
    execute(&p, &Runner::default(), true).await.unwrap();
    assert!(p.dest.join("bin/tool").is_file());
    assert!(!p.dest.join("old-marker").exists(), "replaced as a whole");
    let left: Vec<_> = fs::read_dir(t.join("data/tools"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(left.len(), 1, "no staging left: {left:?}");
}
