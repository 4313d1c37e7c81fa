//! Pryx's on-disk state that is not the database: the data directory and its lock files,
//! `config.json`, and the secret store (OS keychain or an encrypted fallback file).

mod config;
mod datadir;
mod fsutil;
mod lock;
mod perms;
mod secrets;

pub use config::*;
pub use datadir::{DataDir, DataDirError, HOME_ENV};
pub use fsutil::{FsError, atomic_write, create_private_dir};
pub use lock::{LockError, LockGuard, try_lock, try_lock_path};
pub use perms::{PermissionProblem, check_permissions};
pub use secrets::*;
