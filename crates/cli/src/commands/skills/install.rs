//! `pryx skills install`: show the exact steps, get approval, run them, check again.

use anyhow::Context;
use pryx_config::DataDir;
use pryx_skills::{Host, SkillIndex, install};
use pryx_tools::SandboxLauncher;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    workspace: &Path,
    dir: DataDir,
    name: &str,
    id: Option<&str>,
    yes: bool,
    replace: bool,
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
        .map(|l| format!(" - {}", one_line(l)))
        .unwrap_or_default();
    crate::term::say!(
        "Installing dependencies of `{name}` with installer `{}` ({}){label}:",
        one_line(&spec.id),
        spec.kind.as_str()
    );
    for step in &plan.steps {
        crate::term::say!("  $ {}", one_line(&step.to_string()));
    }
    let sandbox = SandboxLauncher::current_exe(crate::SANDBOX_ARG).ok();
    let has_package = plan
        .steps
        .iter()
        .any(|s| matches!(s, install::Step::Package { .. }));
    if has_package {
        if let Some(gap) = pryx_tools::containment_gap(sandbox.as_ref()) {
            crate::term::say!(
                "note: this machine cannot contain commands ({gap}); the package manager runs with a cleared environment only"
            );
        }
        if plan.runs_package_code() {
            crate::term::say!(
                "note: code from the package itself will run while it installs (see above)"
            );
        }
    }
    if plan.dest.exists() {
        let what = if replace {
            "it will be replaced"
        } else {
            "it is kept unless you pass --replace"
        };
        crate::term::say!("note: {} already exists; {what}", plan.dest.display());
    }
    if !yes && !confirm()? {
        crate::term::say!("cancelled; nothing was run");
        return Ok(ExitCode::FAILURE);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let runner = install::Runner { sandbox };
    let output = rt.block_on(install::execute(&plan, &runner, replace))?;
    for line in output.lines() {
        crate::term::say!("  | {line}");
    }
    crate::term::say!("done.");
    if let Some(tools) = &plan.tools_dir {
        crate::term::say!(
            "installed programs are in {}; add it to PATH if the skill needs them there",
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

/// Untrusted text (URLs, package names, labels) on one line: terminal controls, bidi and
/// zero-width characters are shown escaped by the printer, and line breaks and tabs here, so
/// a plan line cannot pose as another.
pub(super) fn one_line(text: &str) -> String {
    text.replace('\n', "\u{240a}").replace('\t', "\u{2409}")
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
