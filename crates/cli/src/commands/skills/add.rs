//! `pryx skills add SOURCE`: skills from a folder, an archive or a git repository, copied into
//! the data directory's `skills/` after they are checked (see `pryx_skills::add`).

use anyhow::Context;
use pryx_config::DataDir;
use pryx_skills::Host;
use pryx_skills::add::{self, AddOptions, Source};
use std::process::ExitCode;

pub fn run(dir: &DataDir, source: &str, opts: AddOptions) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let source = Source::parse(source, &cwd)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let added = rt.block_on(add::add(
        &source,
        &dir.skills_dir(),
        &opts,
        &Host::current(),
    ))?;
    for a in &added {
        let how = if a.replaced { "replaced" } else { "added" };
        println!("{how} skill `{}` in {}", a.name, a.path.display());
    }
    println!("see whether they can be used with `pryx skills list`");
    Ok(ExitCode::SUCCESS)
}
