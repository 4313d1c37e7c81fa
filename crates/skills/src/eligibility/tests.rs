use super::*;
use crate::manifest::{Manifest, Requirements};
use pryx_config::{Backend, Secret, SkillEntry};
use std::fs;

fn manifest(req: Requirements) -> Manifest {
    Manifest {
        name: "s".into(),
        description: "d".into(),
        license: None,
        compatibility: None,
        allowed_tools: Vec::new(),
        homepage: None,
        user_invocable: true,
        disable_model_invocation: false,
        requirements: req,
        namespace: Some("pryx"),
        metadata: Value::Null,
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    bin_dir: PathBuf,
    data: DataDir,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = tmp.path().join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    for name in ["present", "other"] {
        let p = bin_dir.join(name);
        fs::write(&p, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    // Not executable: must not count.
    fs::write(bin_dir.join("plainfile"), "x").unwrap();
    let data = DataDir::at(tmp.path().join("home"));
    Fixture {
        _tmp: tmp,
        bin_dir,
        data,
    }
}

fn host(fx: &Fixture, env: &[(&str, &str)]) -> Host {
    Host {
        path: Some(fx.bin_dir.clone().into_os_string()),
        os: "linux".into(),
        env: EnvSource::Fixed(
            env.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    }
}

fn reasons(host: &Host, config: &Config, data: &DataDir, req: Requirements) -> Vec<Reason> {
    Checker::new(host, config, Some(data))
        .check(&manifest(req), "s")
        .reasons
}

#[test]
fn no_requirements_is_eligible() {
    let fx = fixture();
    assert!(
        reasons(
            &host(&fx, &[]),
            &Config::default(),
            &fx.data,
            Requirements::default()
        )
        .is_empty()
    );
}

#[test]
fn bins_must_all_be_on_path_and_executable() {
    let fx = fixture();
    let h = host(&fx, &[]);
    let req = |bins: &[&str]| Requirements {
        bins: bins.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    assert!(reasons(&h, &Config::default(), &fx.data, req(&["present", "other"])).is_empty());
    assert_eq!(
        reasons(
            &h,
            &Config::default(),
            &fx.data,
            req(&["present", "missing", "plainfile"])
        ),
        vec![
            Reason::Bin("missing".into()),
            Reason::Bin("plainfile".into())
        ]
    );
}

#[test]
fn any_bins_needs_one() {
    let fx = fixture();
    let h = host(&fx, &[]);
    let req = |bins: &[&str]| Requirements {
        any_bins: bins.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    assert!(
        reasons(
            &h,
            &Config::default(),
            &fx.data,
            req(&["missing", "present"])
        )
        .is_empty()
    );
    let r = reasons(&h, &Config::default(), &fx.data, req(&["missing", "gone"]));
    assert_eq!(
        r,
        vec![Reason::AnyBin(vec!["missing".into(), "gone".into()])]
    );
    assert_eq!(r[0].to_string(), "none of missing, gone is on PATH");
}

#[test]
fn env_from_process_or_entry_env() {
    let fx = fixture();
    let req = Requirements {
        env: vec!["TOKEN".into()],
        ..Default::default()
    };
    assert!(
        reasons(
            &host(&fx, &[("TOKEN", "x")]),
            &Config::default(),
            &fx.data,
            req.clone()
        )
        .is_empty()
    );
    let r = reasons(
        &host(&fx, &[("TOKEN", "")]),
        &Config::default(),
        &fx.data,
        req.clone(),
    );
    assert!(matches!(&r[0], Reason::Env { name, .. } if name == "TOKEN"));
    // A literal value would sit in plaintext in config.json: refused, with the fix.
    let mut config = Config::default();
    let mut entry = SkillEntry::default();
    entry.env.insert("TOKEN".into(), "v".into());
    config.skills.entries.insert("s".into(), entry);
    let r = reasons(&host(&fx, &[]), &config, &fx.data, req.clone());
    let shown = r[0].to_string();
    assert!(shown.contains("literal value"), "{shown}");
    assert!(shown.contains("pryx secrets set TOKEN"), "{shown}");
    assert!(!shown.contains("= v"), "the value is not echoed: {shown}");
    // A secret reference is resolved through the store.
    let entry = config.skills.entries.get_mut("s").unwrap();
    entry.env.insert("TOKEN".into(), "secret:TOKEN".into());
    let r = reasons(&host(&fx, &[]), &config, &fx.data, req.clone());
    assert!(
        r[0].to_string().contains("secret `TOKEN` is not set"),
        "{}",
        r[0]
    );
    let store = SecretStore::open_backend(&fx.data, Backend::File).unwrap();
    store.set("TOKEN", &Secret::new("v")).unwrap();
    assert!(reasons(&host(&fx, &[]), &config, &fx.data, req).is_empty());
}

#[test]
fn api_key_provides_the_primary_env_through_the_secret_store() {
    let fx = fixture();
    let req = Requirements {
        env: vec!["GEMINI_API_KEY".into()],
        primary_env: Some("GEMINI_API_KEY".into()),
        ..Default::default()
    };
    let mut config = Config::default();
    config.skills.entries.insert(
        "s".into(),
        SkillEntry {
            api_key: Some("secret:GEMINI".into()),
            ..Default::default()
        },
    );
    let h = host(&fx, &[]);
    let r = reasons(&h, &config, &fx.data, req.clone());
    assert!(
        r[0].to_string().contains("secret `GEMINI` is not set"),
        "{}",
        r[0]
    );

    let store = SecretStore::open_backend(&fx.data, Backend::File).unwrap();
    store.set("GEMINI", &Secret::new("k")).unwrap();
    assert!(reasons(&h, &config, &fx.data, req.clone()).is_empty());

    // env: references resolve against the host environment.
    config.skills.entries.get_mut("s").unwrap().api_key = Some("env:MY_KEY".into());
    assert!(!reasons(&h, &config, &fx.data, req.clone()).is_empty());
    assert!(reasons(&host(&fx, &[("MY_KEY", "v")]), &config, &fx.data, req).is_empty());
}

#[test]
fn api_key_does_not_satisfy_other_variables() {
    let fx = fixture();
    let req = Requirements {
        env: vec!["OTHER".into()],
        primary_env: Some("KEY".into()),
        ..Default::default()
    };
    let mut config = Config::default();
    config.skills.entries.insert(
        "s".into(),
        SkillEntry {
            api_key: Some("env:SET".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        reasons(&host(&fx, &[("SET", "1")]), &config, &fx.data, req).len(),
        1
    );
}

#[test]
fn os_filter_accepts_aliases() {
    let fx = fixture();
    let mut h = host(&fx, &[]);
    let req = Requirements {
        os: vec!["darwin".into()],
        ..Default::default()
    };
    let r = reasons(&h, &Config::default(), &fx.data, req.clone());
    assert_eq!(r[0].to_string(), "runs only on darwin (this is linux)");
    h.os = "darwin".into();
    assert!(reasons(&h, &Config::default(), &fx.data, req).is_empty());
    assert!(os_matches("macos", "darwin"));
    assert!(os_matches("windows", "win32"));
}

#[test]
fn config_paths_must_be_truthy() {
    let fx = fixture();
    let h = host(&fx, &[]);
    let req = Requirements {
        config: vec![
            "telemetry.redact_pii".into(),
            "ui.port".into(),
            "no.such".into(),
        ],
        ..Default::default()
    };
    let r = reasons(&h, &Config::default(), &fx.data, req);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(matches!(&r[0], Reason::Config { path, detail: None } if path == "ui.port"));
    assert!(matches!(&r[1], Reason::Config { path, detail: Some(_) } if path == "no.such"));
}

#[test]
fn disabled_entry_and_master_switch() {
    let fx = fixture();
    let h = host(&fx, &[]);
    let mut config = Config::default();
    config.skills.entries.insert(
        "s".into(),
        SkillEntry {
            enabled: false,
            ..Default::default()
        },
    );
    let e = Checker::new(&h, &config, None).check(&manifest(Requirements::default()), "s");
    assert!(!e.is_enabled());
    assert_eq!(
        e.reasons[0].to_string(),
        "disabled in config (run `pryx skills enable s`)"
    );
    config.skills.entries.clear();
    config.skills.enabled = false;
    assert_eq!(
        reasons(&h, &config, &fx.data, Requirements::default()),
        vec![Reason::SkillsOff]
    );
}

#[test]
fn always_skips_requirements_but_not_os_or_switch() {
    let fx = fixture();
    let h = host(&fx, &[]);
    let req = Requirements {
        always: true,
        bins: vec!["missing".into()],
        env: vec!["NOPE".into()],
        ..Default::default()
    };
    assert!(reasons(&h, &Config::default(), &fx.data, req.clone()).is_empty());
    let mut req_os = req;
    req_os.os = vec!["win32".into()];
    assert_eq!(reasons(&h, &Config::default(), &fx.data, req_os).len(), 1);
}

#[test]
fn truthiness() {
    use serde_json::json;
    for v in [json!(true), json!(1), json!("x"), json!([]), json!({})] {
        assert!(truthy(&v), "{v}");
    }
    for v in [json!(false), json!(0), json!(""), json!(null)] {
        assert!(!truthy(&v), "{v}");
    }
}
