//! The data dir, its config and store, and the core the commands build on them. Model, provider
//! and policy resolution live in the core (`pryx_core::setup`), which every surface shares.

mod prepare;

pub use prepare::{UsageError, build_core, confirm_workspace, usage, workspace_root};
pub use pryx_core::setup::{
    auto_refresh_catalog, build_probe_provider, catalog_overrides, choose_model, load_catalog,
};

use anyhow::Context;
use pryx_config::{Config, DataDir};
use pryx_core::setup::AuditKeyUse;

/// The data dir (created on first use) and its validated config.
pub fn load_home() -> anyhow::Result<(DataDir, Config)> {
    let dir = DataDir::open().context("cannot open the data directory")?;
    let config = Config::load(&dir)?;
    Ok((dir, config))
}

/// Opens (and migrates) the database in the data dir, sealed with its audit key (created on
/// first need). Without the key the store still appends audit rows, unkeyed; that is said here
/// once, since `pryx audit verify` will report every such row.
pub fn open_store(dir: &DataDir) -> anyhow::Result<pryx_store::Store> {
    open_store_with(dir, AuditKeyUse::Append)
}

/// Opens the database with its audit key for `key_use`.
pub fn open_store_with(dir: &DataDir, key_use: AuditKeyUse) -> anyhow::Result<pryx_store::Store> {
    let store = pryx_store::Store::open(dir.database_file())
        .context("cannot open the database; run `pryx doctor`")?;
    let seal = pryx_core::setup::audit_seal(dir, &store, key_use);
    if key_use == AuditKeyUse::Append
        && let pryx_store::AuditKeyState::Unavailable(why) = &seal.key
    {
        crate::term::say_err!(
            "warning: the audit key is unavailable ({why}); audit rows are written without a MAC until it is back"
        );
    }
    store.set_audit_seal(seal);
    Ok(store)
}
