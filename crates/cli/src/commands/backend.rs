//! Where a management command goes: the running core over its API when there is one (its live
//! state included), otherwise a core on the data dir in this process.

use crate::setup;
use anyhow::{Context, anyhow};
use pryx_agent::AgentSettings;
use pryx_client::{Client, ClientError};
use pryx_core::{Core, Overrides};
use pryx_protocol::Surface;

/// The running core over its API, or a core on the data dir in this process.
pub(crate) enum Backend {
    Remote(Client),
    Local(Core),
}

impl Backend {
    pub(crate) async fn open() -> anyhow::Result<Backend> {
        let (dir, config) = setup::load_home()?;
        match Client::discover(&dir).await {
            Ok(c) => Ok(Backend::Remote(c.with_surface(Surface::Cli))),
            Err(ClientError::NotRunning { .. } | ClientError::Stale { .. }) => {
                let settings = AgentSettings {
                    surface: Surface::Cli,
                    interactive: false,
                    ..AgentSettings::default()
                };
                Ok(Backend::Local(setup::build_core(
                    &dir,
                    &config,
                    settings,
                    Overrides::default(),
                )?))
            }
            Err(e) => Err(anyhow!(
                "the core of this data dir runs but cannot be reached ({e}); stop it or run `pryx doctor`"
            )),
        }
    }
}

/// Runs a core call off the async thread (it reads the store).
pub(crate) async fn local<T: Send + 'static>(
    core: &Core,
    f: impl FnOnce(&Core) -> Result<T, pryx_core::CoreError> + Send + 'static,
) -> anyhow::Result<T> {
    let core = core.clone();
    Ok(tokio::task::spawn_blocking(move || f(&core))
        .await
        .context("the command stopped early")??)
}
