#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Discovery time for 500 skills spread over the workspace, managed and extra directories.
//! Run with `cargo bench -p pryx-skills --bench discovery`. Prints figures; asserts nothing.

use pryx_config::{Config, DataDir};
use pryx_skills::{EnvSource, Host, IndexSettings, SkillIndex, prompt_block};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

const SKILLS: usize = 500;
const RUNS: usize = 15;

fn write_skill(root: &Path, i: usize) {
    let name = format!("skill-{i:04}");
    let dir = root.join(&name);
    fs::create_dir_all(dir.join("references")).unwrap();
    fs::create_dir_all(dir.join("scripts")).unwrap();
    let meta = match i % 3 {
        0 => "metadata:\n  pryx:\n    emoji: \"*\"\n    requires:\n      bins: [sh]\n      env: [HOME]\n".to_string(),
        1 => "metadata: {\"openclaw\":{\"requires\":{\"anyBins\":[\"sh\",\"bash\"]},\"install\":[{\"id\":\"brew\",\"kind\":\"brew\",\"formula\":\"x\"}]}}\n".to_string(),
        _ => "metadata:\n  author: bench\n  version: \"1.0\"\n".to_string(),
    };
    let body = "Step one: read the input.\n".repeat(60);
    fs::write(
        dir.join("SKILL.md"),
        format!("---\nname: {name}\ndescription: Benchmark skill number {i}; use when measuring discovery.\nlicense: MIT\n{meta}---\n# {name}\n\n{body}"),
    )
    .unwrap();
    fs::write(dir.join("references/guide.md"), "guide").unwrap();
    fs::write(dir.join("scripts/run.sh"), "echo run").unwrap();
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let data = DataDir::at(tmp.path().join("home"));
    let extra = tmp.path().join("extra");
    let roots = [ws.join(".pryx/skills"), data.skills_dir(), extra.clone()];
    for i in 0..SKILLS {
        write_skill(&roots[i % 3], i);
    }
    Config::set_path(
        &data,
        "skills.extraDirs",
        &serde_json::to_string(&[extra.display().to_string()]).unwrap(),
    )
    .unwrap();
    let settings = IndexSettings {
        workspace: Some(ws),
        data_dir: Some(data),
        bundled: true,
        host: Host {
            env: EnvSource::Process,
            ..Host::current()
        },
    };

    let mut cold = Vec::new();
    let mut count = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let index = SkillIndex::with_settings(settings.clone());
        cold.push(t.elapsed());
        count = index.catalog().skills.len();
    }
    let index = SkillIndex::with_settings(settings);
    let mut warm = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let changed = index.refresh();
        warm.push(t.elapsed());
        assert!(!changed);
    }
    let catalog = index.catalog();
    let t = Instant::now();
    let block = prompt_block(&catalog.skills).unwrap_or_default();
    let prompt_time = t.elapsed();

    let (min, med, max) = stats(cold);
    println!("discovery of {count} skills (incl. bundled) over 3 locations, {RUNS} runs:");
    println!("  full load:          min {min:?}  median {med:?}  max {max:?}  (goal < 100ms)");
    let (min, med, max) = stats(warm);
    println!("  refresh, unchanged: min {min:?}  median {med:?}  max {max:?}");
    println!(
        "  prompt block:       {prompt_time:?}, {} chars",
        block.chars().count()
    );
}
