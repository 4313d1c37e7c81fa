//! Turning config, secrets and the catalog into live parts: which model through which provider
//! with which key, the policy by name, a probe of a provider. Shared by the core (which resolves
//! every session's agent this way) and the commands that inspect the same settings.

mod audit;
mod error;
mod model;
mod policy;
mod probe;
mod secrets;

pub use audit::{AuditKeyUse, audit_key, audit_seal};
pub use error::SetupError;
pub use model::{
    ModelChoice, auto_refresh_catalog, build_probe_provider, build_provider, catalog_overrides,
    choose_model, is_local_url, load_catalog,
};
pub use policy::load_policy;
pub use probe::{Probe, probe};
pub use secrets::stored_secrets;
