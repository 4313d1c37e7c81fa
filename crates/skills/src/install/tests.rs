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
    assert_eq!(shown("brew"), "brew install tool");
    assert_eq!(shown("npm"), "npm install -g @scope/tool");
    assert_eq!(shown("go"), "go install example.org/tool@latest");
    assert_eq!(shown("uv"), "uv tool install tool");
    let dl = shown("dl");
    assert!(
        dl.starts_with("download https://example.org/tool to "),
        "{dl}"
    );
    assert!(
        dl.contains("tools/tool-skill/tool (no checksum declared), mark it executable"),
        "{dl}"
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
    assert_eq!(p.steps.len(), 2);
    assert!(
        p.steps[1].to_string().starts_with("tar -xzf "),
        "{}",
        p.steps[1]
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
async fn execute_runs_commands_and_reports_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("ran");
    let script = tmp.path().join("fake.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" > {}\n", marker.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let s = skill("{}");
    let mut p = Plan {
        skill: "tool-skill".into(),
        spec: InstallSpec {
            id: "x".into(),
            kind: InstallKind::Brew,
            label: None,
            target: "x".into(),
            cask: false,
            bins: Vec::new(),
            sha256: None,
            archive: None,
            os: Vec::new(),
        },
        steps: vec![Step::Run {
            program: script,
            args: vec!["install".into(), "x".into()],
        }],
        tools_dir: None,
    };
    execute(&p).await.unwrap();
    assert_eq!(fs::read_to_string(&marker).unwrap().trim(), "install x");
    p.steps = vec![Step::Run {
        program: "/bin/false".into(),
        args: Vec::new(),
    }];
    let err = execute(&p).await.unwrap_err();
    assert!(
        err.to_string().contains("`false` failed: exited with"),
        "{err}"
    );
    let _ = s;
}

#[test]
fn quoting_is_shell_safe() {
    assert_eq!(quote("plain-1.0"), "plain-1.0");
    assert_eq!(quote("a b"), "'a b'");
    assert_eq!(quote("it's"), "'it'\\''s'");
}
