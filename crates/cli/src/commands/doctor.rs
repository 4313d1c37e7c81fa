//! `pryx doctor`: checks the data directory, config, database, audit log, secret store, disk
//! space, the default model (`--online`: a real call), sandbox, the running core (API token, exposure) and telemetry, printing one line per check. It never repairs anything: a bad config,
//! a damaged database or loose permissions are reported with a fix and left as they are. The
//! only write is first-use creation of a missing data directory and database. A data dir or
//! database it cannot write (read-only mount, permissions) is checked read-only and reported as
//! such, never as damaged.

mod channels;
mod database;
mod db_file;
mod files;
mod gateway;
mod model;
mod report;
mod system;
mod telemetry;
mod updates;
mod workspace;

use pryx_config::DataDir;
use report::Check;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array of {name, status: ok|warn|fail, message, hint}.
    #[arg(long)]
    json: bool,
    /// Also make one tiny real call to the default model's provider.
    #[arg(long)]
    online: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let checks = run_checks(args.online);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        print!("{}", report::render_text(&checks));
    }
    Ok(if report::any_failed(&checks) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Every check, in report order.
fn run_checks(online: bool) -> Vec<Check> {
    let dir = match DataDir::locate() {
        Ok(dir) => dir,
        Err(e) => {
            return vec![Check::fail(
                "data_dir",
                e.to_string(),
                "set PRYX_HOME to a writable directory",
            )];
        }
    };
    let mut checks = vec![files::data_dir(&dir), files::permissions(&dir)];
    let (config_check, config) = files::config(&dir);
    checks.push(config_check);
    checks.extend(database::check(&dir));
    checks.push(files::secrets(&dir, config.as_ref()));
    checks.push(model::check(&dir, config.as_ref(), online));
    checks.push(workspace::check(&dir, config.as_ref()));
    checks.push(system::disk(dir.root()));
    checks.push(system::sandbox());
    checks.extend(gateway::checks(&dir));
    checks.push(channels::check(&dir, config.as_ref()));
    checks.push(updates::check(&dir, config.as_ref()));
    checks.push(telemetry::check(&dir, config.as_ref()));
    checks
}
