//! `pryx install-service` / `uninstall-service` round trip in a temp unit directory; the unit
//! passes `systemd-analyze verify`.

use std::process::Command;

#[test]
fn install_service_writes_a_unit_systemd_accepts_and_uninstall_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("units");
    let home = dir.path().join("home");
    let ws = dir.path().join("my workspace");
    std::fs::create_dir_all(&ws).unwrap();
    let pryx = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_pryx"))
            .args(args)
            .env("PRYX_HOME", &home)
            .env("PRYX_SECRET_BACKEND", "file")
            .current_dir(&ws)
            .output()
            .unwrap();
        super::said(&out)
    };
    let unit_dir = units.to_str().unwrap();
    let (ok, said) = pryx(&["install-service", "--unit-dir", unit_dir]);
    assert!(ok, "{said}");
    let unit = units.join("pryx.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(
        text.contains(" serve --log-to both --workspace \""),
        "{text}"
    );
    assert!(text.contains("Environment=PRYX_SERVICE=systemd"), "{text}");
    assert!(text.contains("Restart=on-failure"), "{text}");

    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze is installed by scripts/test.sh");
    let complaints = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !complaints.contains("pryx.service"),
        "systemd-analyze verify: {complaints}"
    );

    let (ok, said) = pryx(&["service", "status", "--unit-dir", unit_dir]);
    assert!(ok && said.contains("core     not running"), "{said}");
    let (ok, said) = pryx(&["uninstall-service", "--unit-dir", unit_dir]);
    assert!(ok && said.contains("Removed"), "{said}");
    assert!(!unit.exists());
    let (ok, said) = pryx(&["uninstall-service", "--unit-dir", unit_dir]);
    assert!(
        ok && said.contains("No Pryx service is installed"),
        "{said}"
    );
}

#[test]
fn uninstall_removes_the_binary_and_purge_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let bin = super::installed_copy(dir.path());
    std::fs::copy(&bin, bin.with_file_name("pryx.previous")).unwrap();
    let home = dir.path().join("home");
    let run = |args: &[&str]| {
        let out = Command::new(&bin)
            .args(args)
            .env("PRYX_HOME", &home)
            .env("PRYX_SECRET_BACKEND", "file")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        super::said(&out)
    };
    let (ok, said) = run(&["config", "set", "ui.theme", "dark"]);
    assert!(ok, "{said}");
    // Purging without a terminal needs --yes, and nothing goes before that.
    let (ok, said) = run(&["uninstall", "--purge"]);
    assert!(!ok && said.contains("--yes"), "{said}");
    assert!(bin.exists() && home.exists());
    let (ok, said) = run(&["uninstall", "--purge", "--yes"]);
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!("removed binary {}", bin.display())),
        "{said}"
    );
    assert!(said.contains("removed data dir"), "{said}");
    assert!(!bin.exists() && !bin.with_file_name("pryx.previous").exists() && !home.exists());
}
