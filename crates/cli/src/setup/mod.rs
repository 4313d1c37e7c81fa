//! Turning config, secrets and the catalog into the live parts a command needs: the provider
//! client, the model's catalog figures, the store, the policy and the tools.

mod extensions;
mod model;
mod policy;
mod prepare;

pub use extensions::{Extensions, extensions};
pub use model::{
    ModelChoice, auto_refresh_catalog, build_provider, catalog_overrides, choose_model,
    load_catalog,
};
pub use policy::load_policy;
pub use prepare::{Choices, Prepared, UsageError, prepare, usage, workspace_root};

use anyhow::Context;
use pryx_config::{Config, DataDir};

/// The data dir (created on first use) and its validated config.
pub fn load_home() -> anyhow::Result<(DataDir, Config)> {
    let dir = DataDir::open().context("cannot open the data directory")?;
    let config = Config::load(&dir)?;
    Ok((dir, config))
}

/// Opens (and migrates) the database in the data dir.
pub fn open_store(dir: &DataDir) -> anyhow::Result<pryx_store::Store> {
    pryx_store::Store::open(dir.database_file())
        .context("cannot open the database; run `pryx doctor`")
}
