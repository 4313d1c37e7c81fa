//! `pryx dashboard`: a one-time login link for the web dashboard of the running core. The link
//! works once, for two minutes, and the browser trades it for a cookie; the API token never
//! reaches the browser.

use crate::setup;
use crate::term::{out, out_raw};
use anyhow::{Context, anyhow};
use pryx_client::{Client, ClientError};
use pryx_protocol::Surface;
use std::process::{ExitCode, Stdio};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Open the link in the default browser as well.
    #[arg(long)]
    open: bool,
    /// Print `{"url", "expires_at"}` as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (dir, _config) = setup::load_home()?;
        let client = match Client::discover(&dir).await {
            Ok(c) => c.with_surface(Surface::Cli),
            Err(ClientError::NotRunning { .. } | ClientError::Stale { .. }) => {
                return Err(anyhow!(
                    "no Pryx core runs for this data dir, so there is no dashboard to open; start one with `pryx serve` (or `pryx` for the terminal UI) and run `pryx dashboard` again"
                ));
            }
            Err(e) => {
                return Err(anyhow!(
                    "the core of this data dir runs but cannot be reached ({e}); run `pryx doctor`"
                ));
            }
        };
        let link = client.login_link().await?;
        if args.json {
            out_raw(&serde_json::to_string(&link)?);
        } else {
            out("Open this link in your browser (it works once, for 2 minutes):");
            out(&format!("  {}", link.url));
        }
        if args.open {
            open_in_browser(&link.url);
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Hands the URL to the desktop's opener; a machine without one gets a note, not an error.
fn open_in_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        crate::term::err(&format!(
            "cannot open a browser here ({opener}: {e}); open the link above by hand"
        ));
    }
}
