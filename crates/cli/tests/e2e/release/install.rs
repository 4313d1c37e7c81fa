//! `install.sh` against a local release server: installs into a temp prefix and `pryx doctor`
//! passes, with minisign or OpenSSL checking the signature; a tampered archive or manifest, a
//! truncated archive and another key's signature are each refused with nothing installed.

use super::{FileServer, fixture, release, repo, test_public_key};
use std::path::Path;
use std::process::{Command, Output};

fn install(base: &str, prefix: &Path, home: &Path, verifier: &str) -> Output {
    Command::new("sh")
        .arg(repo().join("install.sh"))
        .args(["--prefix", prefix.to_str().unwrap()])
        .env("PRYX_INSTALL_URL", base)
        .env("PRYX_INSTALL_PUBLIC_KEY", test_public_key())
        .env("PRYX_INSTALL_VERIFIER", verifier)
        .env("PRYX_HOME", home)
        .env("PRYX_SECRET_BACKEND", "file")
        .env("HOME", home)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    super::said(out).1
}

#[test]
fn installs_into_a_prefix_and_doctor_passes_with_either_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rel");
    release(
        &out,
        Path::new(env!("CARGO_BIN_EXE_pryx")),
        "0.1.0",
        "stable",
        "test.key",
    );
    // Debian's minisign accepts what the release script signed.
    let check = Command::new("minisign")
        .args(["-V", "-q", "-p"])
        .arg(fixture("test.pub"))
        .arg("-m")
        .arg(out.join("channels/stable.json"))
        .status()
        .unwrap();
    assert!(check.success());
    let server = FileServer::start(&out);
    for verifier in ["minisign", "openssl"] {
        let prefix = dir.path().join(format!("prefix-{verifier}"));
        let home = dir.path().join(format!("home-{verifier}"));
        let result = install(&server.base, &prefix, &home, verifier);
        let said = text(&result);
        assert!(result.status.success(), "{verifier}: {said}");
        assert!(said.contains("Installed Pryx 0.1.0"), "{said}");
        assert!(said.contains("is not on your PATH"), "{said}");
        assert!(
            said.contains("Pryx is ready"),
            "doctor did not pass: {said}"
        );
        let version = Command::new(prefix.join("bin/pryx"))
            .arg("--version")
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&version.stdout).starts_with("pryx "));
    }
}

/// Each way a release can be wrong, and the words the refusal must contain.
#[test]
fn tampered_truncated_or_foreign_releases_install_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_pryx"));
    type Tamper = fn(&Path);
    let cases: [(&str, &str, Tamper, &[&str]); 4] = [
        (
            "archive",
            "test.key",
            |out| {
                let archive = archive(out);
                let mut bytes = std::fs::read(&archive).unwrap();
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x55;
                std::fs::write(&archive, bytes).unwrap();
            },
            &["SHA-256 does not match"],
        ),
        (
            "truncated",
            "test.key",
            |out| {
                let archive = archive(out);
                let bytes = std::fs::read(&archive).unwrap();
                std::fs::write(&archive, &bytes[..bytes.len() / 3]).unwrap();
            },
            &["not the size"],
        ),
        (
            "manifest",
            "test.key",
            |out| {
                let manifest = out.join("channels/stable.json");
                let text = std::fs::read_to_string(&manifest).unwrap();
                std::fs::write(&manifest, text.replace("faster", "slower")).unwrap();
            },
            &["does not verify"],
        ),
        (
            "other key",
            "other.key",
            |_| {},
            &["another key", "does not verify"],
        ),
    ];
    let good = dir.path().join("rel-good");
    release(&good, binary, "0.1.0", "stable", "test.key");
    for (name, key, tamper, expected) in cases {
        let out = dir.path().join(format!("rel-{name}"));
        if key == "test.key" {
            crate::common::copy_dir(&good, &out);
        } else {
            release(&out, binary, "0.1.0", "stable", key);
        }
        tamper(&out);
        let server = FileServer::start(&out);
        for verifier in ["minisign", "openssl"] {
            let prefix = dir.path().join(format!("prefix-{name}-{verifier}"));
            let result = install(&server.base, &prefix, &dir.path().join("home"), verifier);
            let said = text(&result);
            assert!(
                !result.status.success(),
                "{name} with {verifier} installed: {said}"
            );
            assert!(
                expected.iter().any(|e| said.contains(e)),
                "{name} with {verifier}: {said}"
            );
            assert!(said.contains("nothing was installed"), "{name}: {said}");
            assert!(
                !prefix.join("bin/pryx").exists(),
                "{name}: a binary was left"
            );
        }
    }
}

fn archive(out: &Path) -> std::path::PathBuf {
    std::fs::read_dir(out.join("v0.1.0"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .unwrap()
}

#[test]
fn install_sh_is_posix_and_shellcheck_clean() {
    let result = Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style"])
        .arg(repo().join("install.sh"))
        .output()
        .expect("shellcheck is installed by scripts/test.sh");
    assert!(result.status.success(), "{}", text(&result));
    let result = Command::new("shellcheck")
        .arg(repo().join("scripts/release.sh"))
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", text(&result));
}
