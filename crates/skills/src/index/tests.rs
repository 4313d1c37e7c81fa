use super::*;
use crate::eligibility::EnvSource;
use std::fs;

struct Env {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    data: DataDir,
    extra: PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let data = DataDir::at(tmp.path().join("home"));
    let extra = tmp.path().join("extra");
    fs::create_dir_all(&ws).unwrap();
    fs::create_dir_all(data.skills_dir()).unwrap();
    fs::create_dir_all(&extra).unwrap();
    Env {
        _tmp: tmp,
        ws,
        data,
        extra,
    }
}

fn write_skill(root: &Path, name: &str, description: &str) {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("SKILL.md"),
        format!("---\nname: {name}\ndescription: {description}\n---\nBody of {description}.\n"),
    )
    .unwrap();
}

fn index(e: &Env, bundled: bool) -> SkillIndex {
    SkillIndex::with_settings(IndexSettings {
        workspace: Some(e.ws.clone()),
        data_dir: Some(e.data.clone()),
        bundled,
        host: Host {
            path: None,
            os: "linux".into(),
            env: EnvSource::Fixed(Default::default()),
        },
    })
}

fn set_extra(e: &Env) {
    Config::set_path(
        &e.data,
        "skills.extraDirs",
        &serde_json::to_string(&vec![e.extra.display().to_string()]).unwrap(),
    )
    .unwrap();
}

#[test]
fn workspace_beats_managed_beats_bundled_beats_extra() {
    let e = env();
    set_extra(&e);
    let ws_root = e.ws.join(".pryx/skills");
    write_skill(&ws_root, "linter", "workspace linter");
    write_skill(&e.data.skills_dir(), "linter", "managed linter");
    write_skill(&e.data.skills_dir(), "formatter", "managed formatter");
    write_skill(&e.extra, "formatter", "extra formatter");
    write_skill(&e.extra, "log-triage", "extra log triage");
    write_skill(&e.extra, "only-extra", "extra only");

    let cat = index(&e, true).catalog();
    assert_eq!(
        cat.get("linter").unwrap().manifest.description,
        "workspace linter"
    );
    assert_eq!(cat.get("linter").unwrap().origin, Origin::Workspace);
    assert_eq!(cat.get("formatter").unwrap().origin, Origin::Managed);
    assert_eq!(cat.get("log-triage").unwrap().origin, Origin::Bundled);
    assert_eq!(cat.get("only-extra").unwrap().origin, Origin::Extra);

    let shadowed: Vec<_> = cat
        .skills
        .iter()
        .filter_map(|s| {
            s.shadowed_by
                .as_ref()
                .map(|by| (s.name(), s.origin, by.origin))
        })
        .collect();
    assert_eq!(
        shadowed,
        vec![
            ("formatter", Origin::Extra, Origin::Managed),
            ("linter", Origin::Managed, Origin::Workspace),
            ("log-triage", Origin::Extra, Origin::Bundled),
        ]
    );
    let by = cat
        .skills
        .iter()
        .find(|s| s.name() == "linter" && s.origin == Origin::Managed)
        .unwrap()
        .shadowed_by
        .clone()
        .unwrap();
    assert_eq!(by.location, Location::Dir(ws_root.join("linter")));
}

#[test]
fn managed_overrides_bundled() {
    let e = env();
    write_skill(&e.data.skills_dir(), "safe-git", "my own git rules");
    let cat = index(&e, true).catalog();
    let s = cat.get("safe-git").unwrap();
    assert_eq!(s.origin, Origin::Managed);
    assert!(
        cat.skills.iter().any(|s| s.name() == "safe-git"
            && s.origin == Origin::Bundled
            && s.shadowed_by.is_some())
    );
}

#[test]
fn invalid_skills_are_reported_and_others_load() {
    let e = env();
    let root = e.data.skills_dir();
    write_skill(&root, "good", "fine");
    fs::create_dir_all(root.join("broken")).unwrap();
    fs::write(
        root.join("broken/SKILL.md"),
        "---\nname: broken\ndescription: [oops\n---\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("nameless")).unwrap();
    fs::write(root.join("nameless/SKILL.md"), "---\ndescription: x\n---\n").unwrap();
    let cat = index(&e, false).catalog();
    assert_eq!(cat.skills.len(), 1);
    assert_eq!(cat.invalid.len(), 2);
    assert!(
        cat.invalid
            .iter()
            .any(|i| i.file.ends_with("broken/SKILL.md") && i.reason.contains("YAML"))
    );
    assert!(cat.invalid.iter().any(|i| {
        i.to_string()
            .contains("nameless/SKILL.md:1: `name` is missing")
    }));
}

#[test]
fn refresh_reloads_only_on_change() {
    let e = env();
    write_skill(&e.data.skills_dir(), "one", "first");
    let idx = index(&e, false);
    assert!(!idx.refresh(), "nothing changed");
    assert_eq!(idx.catalog().skills.len(), 1);

    write_skill(&e.ws.join(".pryx/skills"), "two", "second");
    assert!(idx.refresh());
    assert_eq!(idx.catalog().skills.len(), 2);
    assert!(!idx.refresh());

    write_skill(&e.data.skills_dir(), "one", "first, edited text");
    assert!(idx.refresh());
    assert_eq!(
        idx.catalog().get("one").unwrap().manifest.description,
        "first, edited text"
    );

    Config::set_path(&e.data, "skills.entries.one.enabled", "false").unwrap();
    assert!(idx.refresh(), "config change is picked up");
    assert!(!idx.catalog().get("one").unwrap().eligibility.is_enabled());

    fs::remove_dir_all(e.ws.join(".pryx/skills/two")).unwrap();
    assert!(idx.refresh());
    assert!(idx.catalog().get("two").is_none());
}

#[test]
fn broken_config_is_a_note_not_a_failure() {
    let e = env();
    write_skill(&e.data.skills_dir(), "one", "first");
    fs::write(e.data.config_file(), "{ not json").unwrap();
    let cat = index(&e, false).catalog();
    assert_eq!(cat.skills.len(), 1);
    assert!(cat.notes[0].contains("not valid JSON"), "{:?}", cat.notes);
}

#[test]
fn relative_extra_dir_resolves_against_the_data_dir() {
    let e = env();
    write_skill(&e.data.root().join("team-skills"), "team", "shared");
    Config::set_path(
        &e.data,
        "skills.extraDirs",
        r#"["team-skills", "missing-dir"]"#,
    )
    .unwrap();
    let cat = index(&e, false).catalog();
    assert_eq!(cat.get("team").unwrap().origin, Origin::Extra);
    assert!(cat.notes.iter().any(|n| n.contains("missing-dir")));
}
