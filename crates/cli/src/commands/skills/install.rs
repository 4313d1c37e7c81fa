//! `pryx skills install`: show the exact steps, get approval, run them, check again.

use anyhow::Context;
use pryx_config::DataDir;
use pryx_skills::{Host, SkillIndex, install};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    workspace: &Path,
    dir: DataDir,
    name: &str,
    id: Option<&str>,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    let index = SkillIndex::open(workspace, dir.clone());
    let catalog = index.catalog();
    let skill = catalog
        .get(name)
        .with_context(|| format!("no skill named `{name}`; see `pryx skills list`"))?;
    let host = Host::current();
    let spec = install::choose(skill, id, &host)?;
    let plan = install::plan(skill, spec, &host, &dir)?;

    let label = spec
        .label
        .as_deref()
        .map(|l| format!(" - {l}"))
        .unwrap_or_default();
    crate::term::say!(
        "Installing dependencies of `{name}` with installer `{}` ({}){label}:",
        spec.id,
        spec.kind.as_str()
    );
    for step in &plan.steps {
        crate::term::say!("  $ {step}");
    }
    if !yes && !confirm()? {
        crate::term::say!("cancelled; nothing was run");
        return Ok(ExitCode::FAILURE);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(install::execute(&plan))?;
    crate::term::say!("done.");
    if let Some(tools) = &plan.tools_dir {
        crate::term::say!(
            "downloaded tools are in {}; add it to PATH if the skill needs them there",
            tools.display()
        );
    }

    index.reload();
    let catalog = index.catalog();
    match catalog.get(name) {
        Some(s) if s.eligibility.is_eligible() => {
            crate::term::say!("skill `{name}` is now eligible")
        }
        Some(s) => {
            crate::term::say!("skill `{name}` still cannot be used:");
            for r in &s.eligibility.reasons {
                crate::term::say!("  - {r}");
            }
        }
        None => crate::term::say!("skill `{name}` is no longer found"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; without one, refuses rather than assuming consent.
fn confirm() -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "refusing to run installers without confirmation: stdin is not a terminal; re-run with --yes to approve the commands above"
        );
    }
    print!("Run these commands? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
