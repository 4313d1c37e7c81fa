#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The fixture set (Agent Skills and OpenClaw style skills with scripts and references) loads,
//! is judged and is served through the skill tools as expected.

use pryx_config::DataDir;
use pryx_skills::{
    EnvSource, Host, IndexSettings, InstallKind, Origin, SkillIndex, prompt_block, tools,
};
use pryx_tools::ToolContext;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn open_index(bins: &[&str]) -> (tempfile::TempDir, Arc<SkillIndex>) {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for b in bins {
        let p = bin.join(b);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let index = SkillIndex::with_settings(IndexSettings {
        workspace: Some(PathBuf::from(FIXTURES).join("workspace")),
        data_dir: Some(DataDir::at(PathBuf::from(FIXTURES).join("home"))),
        bundled: true,
        host: Host {
            path: Some(bin.into_os_string()),
            os: "linux".into(),
            env: EnvSource::Fixed(Default::default()),
        },
    });
    (tmp, Arc::new(index))
}

#[test]
fn fixture_set_loads_with_expected_metadata() {
    let (_tmp, index) = open_index(&["git", "curl"]);
    let cat = index.catalog();
    assert!(cat.invalid.is_empty(), "{:?}", cat.invalid);

    let pdf = cat.get("pdf-forms").unwrap();
    assert_eq!(pdf.origin, Origin::Workspace);
    assert_eq!(pdf.manifest.metadata["author"], "example-org");
    assert_eq!(pdf.manifest.namespace, None);
    assert!(pdf.is_usable());

    let gemini = cat.get("gemini").unwrap();
    assert_eq!(gemini.manifest.namespace, Some("openclaw"));
    let kinds: Vec<_> = gemini
        .manifest
        .requirements
        .install
        .iter()
        .map(|s| s.kind)
        .collect();
    assert_eq!(kinds, vec![InstallKind::Brew, InstallKind::Node]);
    assert_eq!(
        gemini.manifest.homepage.as_deref(),
        Some("https://example.org/gemini-cli")
    );
    assert!(!gemini.is_usable());

    let weather = cat.get("weather").unwrap();
    assert_eq!(weather.manifest.namespace, Some("clawdbot"));
    assert!(weather.is_usable());

    let notes = cat.get("release-notes").unwrap();
    assert_eq!(notes.manifest.requirements.bins, vec!["git"]);
    assert!(notes.manifest.disable_model_invocation);
    assert!(notes.warnings.iter().any(|w| w.contains("not valid YAML")));

    assert_eq!(cat.get("linter").unwrap().origin, Origin::Workspace);
}

#[test]
fn prompt_lists_usable_skills_only() {
    let (_tmp, index) = open_index(&["git", "curl", "rg"]);
    let block = prompt_block(&index.catalog().skills).unwrap();
    for name in [
        "pdf-forms",
        "weather",
        "linter",
        "log-triage",
        "safe-git",
        "skill-authoring",
    ] {
        assert!(
            block.contains(&format!("- {name}: ")),
            "{name} missing:\n{block}"
        );
    }
    for name in ["gemini", "image-lab", "release-notes"] {
        assert!(
            !block.contains(&format!("- {name}: ")),
            "{name} present:\n{block}"
        );
    }
    assert!(
        block.contains("- linter: Project-specific"),
        "workspace copy wins"
    );
}

#[test]
fn eligibility_follows_the_path() {
    let (_tmp, index) = open_index(&["git", "wget", "gemini"]);
    let cat = index.catalog();
    assert!(cat.get("gemini").unwrap().is_usable());
    assert!(
        cat.get("weather").unwrap().is_usable(),
        "wget is one of anyBins"
    );
    let (_tmp2, bare) = open_index(&[]);
    let cat = bare.catalog();
    let why: Vec<String> = cat
        .get("weather")
        .unwrap()
        .eligibility
        .reasons
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(why, vec!["none of curl, wget is on PATH"]);
    assert!(!cat.get("safe-git").unwrap().is_usable());
}

#[tokio::test]
async fn tools_load_bodies_and_read_references() {
    let (tmp, index) = open_index(&["git", "curl"]);
    let ctx = ToolContext::new(tmp.path()).unwrap();
    let all = tools(index);
    let load = all.iter().find(|t| t.name() == "skills.load").unwrap();
    let read = all.iter().find(|t| t.name() == "skills.read").unwrap();

    let out = load
        .execute(json!({"name": "pdf-forms"}), ctx.clone())
        .await
        .unwrap();
    let dir = Path::new(FIXTURES).join("workspace/.pryx/skills/pdf-forms");
    assert!(
        out.content
            .contains(&format!("python3 {}/scripts/list_fields.py", dir.display()))
    );
    assert!(out.content.contains("- references/field-types.md"));
    assert!(out.content.contains("- scripts/fill.py"));

    let out = read
        .execute(
            json!({"name": "release-notes", "path": "references/style.md"}),
            ctx.clone(),
        )
        .await
        .unwrap();
    assert!(out.content.contains("Added, Changed, Fixed"));
    let out = read
        .execute(
            json!({"name": "pdf-forms", "path": "../linter/SKILL.md"}),
            ctx,
        )
        .await;
    assert!(out.is_err());
}
