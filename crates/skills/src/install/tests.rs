use super::*;
use crate::eligibility::{Eligibility, EnvSource};
use crate::load;
use crate::skill::{Location, Origin};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;

fn skill(meta: &str) -> Skill {
    let text = format!("---\nname: tool-skill\ndescription: d\nmetadata: {meta}\n---\nbody\n");
    let l = load::parse(&text, None).unwrap();
    Skill {
        manifest: l.manifest,
        origin: Origin::Managed,
        location: Location::Dir("/s/tool-skill".into()),
        body: l.body,
        body_line: l.body_line,
        warnings: Vec::new(),
        eligibility: Eligibility::default(),
        shadowed_by: None,
    }
}

fn host_with(bins: &[&str], dir: &Path) -> Host {
    let bin_dir = dir.join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    for b in bins {
        let p = bin_dir.join(b);
        fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    Host {
        path: Some(bin_dir.into_os_string()),
        os: "linux".into(),
        env: EnvSource::Fixed(Default::default()),
    }
}

const ALL_KINDS: &str = r#"{"openclaw": {"install": [
  {"id": "dl", "kind": "download", "url": "https://example.org/tool", "bins": ["tool"]},
  {"id": "go", "kind": "go", "module": "example.org/tool"},
  {"id": "npm", "kind": "node", "package": "@scope/tool"},
  {"id": "uv", "kind": "uv", "package": "tool"},
  {"id": "brew", "kind": "brew", "formula": "tool"},
  {"id": "mac-only", "kind": "brew", "formula": "tool", "os": ["darwin"]}
]}}"#;

#[test]
fn each_kind_becomes_the_exact_command() {
    let tmp = tempfile::tempdir().unwrap();
    let host = host_with(&["brew", "npm", "go", "uv"], tmp.path());
    let data = DataDir::at(tmp.path().join("home"));
    let s = skill(ALL_KINDS);
    let shown = |id: &str| {
        let spec = choose(&s, Some(id), &host).unwrap();
        let p = plan(&s, spec, &host, &data).unwrap();
        p.steps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" && ")
    };
    let home = data.root().join("tools/tool-skill");
    let h = home.display();
    let bin = |name: &str| tmp.path().join("bin").join(name).display().to_string();
    assert_eq!(
        shown("brew"),
        format!(
            "in the sandbox, writing only to {h}: HOME={h}/.home HOMEBREW_NO_AUTO_UPDATE=1 {} install tool (Homebrew runs the formula's install code; on Linux it cannot write its own prefix from the sandbox)",
            bin("brew")
        )
    );
    let npm = shown("npm");
    assert!(
        npm.contains(&format!(
            "npm_config_cache={h}/.cache/npm {} install -g --prefix {h} @scope/tool",
            bin("npm")
        )),
        "{npm}"
    );
    assert!(
        npm.contains("postinstall) will run, inside the sandbox"),
        "{npm}"
    );
    let go = shown("go");
    assert!(
        go.contains(&format!(
            "GOBIN={h}/bin GOPATH={h}/go GOCACHE={h}/.cache/go"
        )),
        "{go}"
    );
    assert!(go.contains("install example.org/tool@latest"), "{go}");
    let uv = shown("uv");
    assert!(uv.contains(&format!("UV_TOOL_BIN_DIR={h}/bin")), "{uv}");
    assert!(
        uv.contains("tool install tool (a package without a prebuilt wheel runs its build scripts"),
        "{uv}"
    );
    assert_eq!(
        shown("dl"),
        format!(
            "download https://example.org/tool as tool (no checksum declared), mark it executable && move the result to {h}"
        )
    );
}

#[test]
fn choice_prefers_brew_then_uv_node_go_download_and_skips_other_os() {
    let tmp = tempfile::tempdir().unwrap();
    let s = skill(ALL_KINDS);
    assert_eq!(
        choose(&s, None, &host_with(&["brew", "npm"], tmp.path()))
            .unwrap()
            .id,
        "brew"
    );
    let tmp2 = tempfile::tempdir().unwrap();
    assert_eq!(
        choose(&s, None, &host_with(&["npm", "go"], tmp2.path()))
            .unwrap()
            .id,
        "npm"
    );
    let tmp3 = tempfile::tempdir().unwrap();
    assert_eq!(
        choose(&s, None, &host_with(&[], tmp3.path())).unwrap().id,
        "dl"
    );
}

#[test]
fn missing_tool_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let host = host_with(&[], tmp.path());
    let data = DataDir::at(tmp.path().join("home"));
    let s = skill(
        r#"{"pryx": {"install": [{"id": "brew", "kind": "brew", "formula": "jq"}, {"id": "go", "kind": "go", "module": "x.org/y"}]}}"#,
    );
    let err = choose(&s, None, &host).unwrap_err().to_string();
    assert!(
        err.contains("brew (brew): `brew` is not on PATH; install Homebrew"),
        "{err}"
    );
    assert!(
        err.contains("go (go): `go` is not on PATH; install Go"),
        "{err}"
    );
    let spec = choose(&s, Some("go"), &host).unwrap();
    let err = plan(&s, spec, &host, &data).unwrap_err();
    assert!(matches!(err, InstallError::ToolMissing { tool: "go", .. }));
    assert!(
        choose(&s, Some("nope"), &host)
            .unwrap_err()
            .to_string()
            .contains("choose one of: brew, go")
    );
    assert!(matches!(
        choose(&skill("{}"), None, &host),
        Err(InstallError::NoInstaller(_))
    ));
}

#[test]
fn download_urls_must_be_http() {
    let tmp = tempfile::tempdir().unwrap();
    let host = host_with(&[], tmp.path());
    let s = skill(
        r#"{"pryx": {"install": [{"id": "d", "kind": "download", "url": "file:///etc/passwd"}]}}"#,
    );
    let spec = choose(&s, None, &host).unwrap();
    assert!(matches!(
        plan(&s, spec, &host, &DataDir::at(tmp.path())),
        Err(InstallError::BadUrl(_))
    ));
}

#[test]
fn archives_are_unpacked_with_tar() {
    let tmp = tempfile::tempdir().unwrap();
    let host = host_with(&["tar"], tmp.path());
    let s = skill(
        r#"{"pryx": {"install": [{"id": "d", "kind": "download", "url": "https://example.org/t-1.0.tar.gz"}]}}"#,
    );
    let spec = choose(&s, None, &host).unwrap();
    let p = plan(&s, spec, &host, &DataDir::at(tmp.path().join("h"))).unwrap();
    assert_eq!(p.steps.len(), 3);
    assert!(
        p.steps[1]
            .to_string()
            .starts_with("unpack t-1.0.tar.gz (tar.gz) with "),
        "{}",
        p.steps[1]
    );
    assert!(
        p.steps[1]
            .to_string()
            .ends_with("links and special files are refused")
    );
    let no_tar = tempfile::tempdir().unwrap();
    let host = host_with(&[], no_tar.path());
    assert!(matches!(
        choose(&s, None, &host),
        Err(InstallError::NoneUsable { .. })
    ));
}

/// Serves `body` to every connection until the test ends.
fn serve(body: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}/tool")
}

#[tokio::test]
async fn download_verifies_sha256() {
    let body = b"#!/bin/sh\necho tool\n".to_vec();
    let good = hex::encode(Sha256::digest(&body));
    let url = serve(body.clone());
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("tools/tool");

    let bad = "0".repeat(64);
    let err = download::fetch(&url, &dest, Some(&bad), true)
        .await
        .unwrap_err();
    assert!(matches!(err, InstallError::Checksum { .. }), "{err}");
    assert!(!dest.exists());
    assert_eq!(
        fs::read_dir(tmp.path().join("tools")).unwrap().count(),
        0,
        "partial file removed"
    );

    download::fetch(&url, &dest, Some(&good.to_uppercase()), true)
        .await
        .unwrap();
    assert_eq!(fs::read(&dest).unwrap(), body);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }
}

#[tokio::test]
async fn package_managers_run_with_a_cleared_environment_in_their_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let host = host_with(&[], tmp.path());
    let npm = tmp.path().join("bin/npm");
    fs::write(
        &npm,
        "#!/bin/sh\necho \"args: $*\"\necho \"home: $HOME\"\nenv > \"$HOME/../seen-env\"\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&npm, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let data = DataDir::at(tmp.path().join("home"));
    let s = skill(r#"{"pryx": {"install": [{"id": "n", "kind": "node", "package": "pkg"}]}}"#);
    let spec = choose(&s, None, &host).unwrap();
    let p = plan(&s, spec, &host, &data).unwrap();
    let out = execute(&p, &Runner::default(), true).await.unwrap();
    assert!(out.contains("args: install -g --prefix"), "{out}");
    assert!(
        out.contains(&format!("home: {}", p.dest.join(".home").display())),
        "{out}"
    );
    let env = fs::read_to_string(p.dest.join("seen-env")).unwrap();
    for line in env.lines() {
        let name = line.split('=').next().unwrap_or("");
        assert!(
            pryx_tools::DEFAULT_ALLOWED_ENV.contains(&name)
                || ["PWD", "SHLVL", "_", "npm_config_cache", "OLDPWD"].contains(&name),
            "unexpected variable {name} in {env}"
        );
    }
    let err = execute(&p, &Runner::default(), false).await.unwrap_err();
    assert!(matches!(err, InstallError::Exists(_)), "{err}");
}

#[test]
fn bad_keys_never_name_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let host = host_with(&[], tmp.path());
    let mut s = skill(
        r#"{"pryx": {"install": [{"id": "d", "kind": "download", "url": "https://example.org/t"}]}}"#,
    );
    for key in ["/abs", "../up", "a/b", ".", ".."] {
        s.manifest.requirements.skill_key = Some(key.into());
        let spec = choose(&s, None, &host).unwrap().clone();
        let err = plan(&s, &spec, &host, &DataDir::at(tmp.path())).unwrap_err();
        assert!(matches!(err, InstallError::BadKey { .. }), "{key}: {err}");
    }
}

#[test]
fn quoting_is_shell_safe() {
    assert_eq!(quote("plain-1.0"), "plain-1.0");
    assert_eq!(quote("a b"), "'a b'");
    assert_eq!(quote("it's"), "'it'\\''s'");
}

mod archives;

#[test]
fn switch_paths_quote_keys_with_dots() {
    assert_eq!(
        skill("{}").switch_path(),
        "skills.entries.tool-skill.enabled"
    );
    let dotted = skill(r#"{"pryx": {"skillKey": "a.b"}}"#);
    assert_eq!(dotted.switch_path(), "skills.entries[\"a.b\"].enabled");
}
