use super::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn skill_md(name: &str) -> String {
    format!("---\nname: {name}\ndescription: The {name} skill\n---\nDo {name} things.\n")
}

fn write_skill(dir: &Path, name: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("SKILL.md"), skill_md(name)).unwrap();
}

/// Names in `dir`, hidden ones included: a leftover staging folder would show.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn add_from(
    src: &str,
    base: &Path,
    skills: &Path,
    opts: AddOptions,
) -> Result<Vec<Added>, AddError> {
    let source = Source::parse(src, base)?;
    add(&source, skills, &opts, &Host::current()).await
}

fn run(dir: &Path, program: &str, args: &[&str]) {
    let st = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(st.success(), "{program} {args:?}");
}

/// Git with a fixed author and none of the machine's config.
fn git(repo: &Path, args: &[&str]) {
    let mut all = vec!["-c", "user.name=t", "-c", "user.email=t@example.org"];
    all.extend_from_slice(args);
    run(repo, "git", &all);
}

#[tokio::test]
async fn a_folder_with_one_skill_is_added_once_and_replaced_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_skill(&src, "log-triage");
    fs::create_dir_all(src.join("scripts")).unwrap();
    fs::write(src.join("scripts/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(
        src.join("scripts/run.sh"),
        fs::Permissions::from_mode(0o4777),
    )
    .unwrap();
    fs::create_dir_all(src.join(".git")).unwrap();
    fs::write(src.join(".git/config"), "x").unwrap();
    let skills = tmp.path().join("home/skills");

    let added = add_from("src", tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap();
    assert_eq!(
        added,
        vec![Added {
            name: "log-triage".into(),
            path: skills.join("log-triage"),
            replaced: false
        }]
    );
    assert_eq!(listing(&skills), ["log-triage"]);
    assert_eq!(listing(&skills.join("log-triage")), ["SKILL.md", "scripts"]);
    let mode = fs::metadata(skills.join("log-triage/scripts/run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o7777,
        0o755,
        "set-id bits and others' write are dropped"
    );

    let again = add_from("src", tmp.path(), &skills, AddOptions::default()).await;
    assert!(matches!(again, Err(AddError::Exists { .. })), "{again:?}");
    assert_eq!(listing(&skills), ["log-triage"]);

    fs::write(
        src.join("SKILL.md"),
        skill_md("log-triage") + "Version 2.\n",
    )
    .unwrap();
    let opts = AddOptions {
        replace: true,
        ..AddOptions::default()
    };
    let added = add_from("src", tmp.path(), &skills, opts).await.unwrap();
    assert!(added[0].replaced);
    let text = fs::read_to_string(skills.join("log-triage/SKILL.md")).unwrap();
    assert!(text.contains("Version 2."));
    assert_eq!(listing(&skills), ["log-triage"]);
}

#[tokio::test]
async fn a_collection_adds_all_or_the_chosen_skills() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("collection");
    write_skill(&src.join("skills/alpha"), "alpha");
    write_skill(&src.join("skills/beta"), "beta");
    write_skill(&src.join("other/gamma"), "gamma");
    fs::write(src.join("README.md"), "three skills").unwrap();

    let skills = tmp.path().join("one");
    let opts = AddOptions {
        skills: vec!["beta".into()],
        ..AddOptions::default()
    };
    let added = add_from("collection", tmp.path(), &skills, opts)
        .await
        .unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(listing(&skills), ["beta"]);

    let opts = AddOptions {
        skills: vec!["delta".into()],
        ..AddOptions::default()
    };
    let e = add_from("collection", tmp.path(), &skills, opts)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{} has no skill named delta; it holds: alpha, beta, gamma",
            src.display()
        )
    );

    let skills = tmp.path().join("all");
    let added = add_from("collection", tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap();
    assert_eq!(added.len(), 3);
    assert_eq!(listing(&skills), ["alpha", "beta", "gamma"]);
}

#[tokio::test]
async fn links_broken_skills_and_empty_sources_are_refused_and_nothing_is_placed() {
    let tmp = tempfile::tempdir().unwrap();
    let skills = tmp.path().join("skills");

    let linked = tmp.path().join("linked");
    write_skill(&linked, "linked");
    std::os::unix::fs::symlink("/etc/passwd", linked.join("data")).unwrap();
    let e = add_from("linked", tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("`data` is a symbolic link"), "{e}");

    let broken = tmp.path().join("broken");
    write_skill(&broken.join("good"), "good");
    fs::create_dir_all(broken.join("bad")).unwrap();
    fs::write(
        broken.join("bad/SKILL.md"),
        "---\ndescription: no name\n---\n",
    )
    .unwrap();
    let e = add_from("broken", tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, AddError::Invalid { .. }), "{e}");
    assert!(
        e.to_string().contains("bad/SKILL.md:1: `name` is missing"),
        "{e}"
    );

    let empty = tmp.path().join("empty");
    fs::create_dir_all(empty.join("docs")).unwrap();
    let e = add_from("empty", tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, AddError::NoSkills { .. }), "{e}");

    let twice = tmp.path().join("twice");
    write_skill(&twice.join("a"), "same");
    write_skill(&twice.join("b"), "same");
    let e = add_from("twice", tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, AddError::Duplicate { .. }), "{e}");

    assert!(listing(&skills).is_empty(), "{:?}", listing(&skills));
}

#[tokio::test]
async fn archives_are_unpacked_and_links_in_them_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    write_skill(&work.join("repo-main/pdf-tools"), "pdf-tools");
    run(&work, "tar", &["-czf", "../skills.tgz", "repo-main"]);
    let skills = tmp.path().join("skills");
    let added = add_from("skills.tgz", tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap();
    assert_eq!(added[0].name, "pdf-tools");
    assert_eq!(listing(&skills), ["pdf-tools"]);

    std::os::unix::fs::symlink("/etc/shadow", work.join("repo-main/pdf-tools/leak")).unwrap();
    run(&work, "tar", &["-czf", "../evil.tar.gz", "repo-main"]);
    let opts = AddOptions {
        replace: true,
        ..AddOptions::default()
    };
    let e = add_from("evil.tar.gz", tmp.path(), &skills, opts)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(listing(&skills), ["pdf-tools"]);
    assert_eq!(listing(&skills.join("pdf-tools")), ["SKILL.md"]);
}

#[tokio::test]
async fn a_git_repository_is_cloned_at_its_branch_without_its_history() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write_skill(&repo, "from-git");
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "one"]);
    git(&repo, &["checkout", "-qb", "next"]);
    fs::write(repo.join("SKILL.md"), skill_md("from-git") + "On next.\n").unwrap();
    git(&repo, &["commit", "-qam", "two"]);

    let url = format!("file://{}", repo.display());
    let skills = tmp.path().join("skills");
    let opts = AddOptions {
        git_ref: Some("main".into()),
        ..AddOptions::default()
    };
    add_from(&url, tmp.path(), &skills, opts).await.unwrap();
    assert_eq!(listing(&skills.join("from-git")), ["SKILL.md"]);
    let text = fs::read_to_string(skills.join("from-git/SKILL.md")).unwrap();
    assert!(!text.contains("On next."));

    let opts = AddOptions {
        git_ref: Some("--upload-pack=x".into()),
        ..AddOptions::default()
    };
    let e = add_from(&url, tmp.path(), &skills, opts).await.unwrap_err();
    assert!(matches!(e, AddError::BadRef { .. }), "{e}");

    let missing = format!("file://{}/nope", tmp.path().display());
    let e = add_from(&missing, tmp.path(), &skills, AddOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("git clone failed"), "{e}");
    assert_eq!(listing(&skills), ["from-git"]);
}
