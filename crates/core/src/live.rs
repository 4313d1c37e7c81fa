//! The core's view of its data dir's settings, kept current while it runs: `config.json`, the MCP
//! servers file and the policy files are re-read when they change on disk (any writer: the API,
//! `pryx config set`, an editor), so a running core never needs a restart to see a change.

use pryx_catalog::Catalog;
use pryx_config::{Config, DataDir};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::SystemTime;

/// Choices made on the command line (`pryx serve -w/-m/--policy`, `pryx run`): they win over
/// config for the `main` profile and are never written to it.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub workspace: Option<PathBuf>,
    pub model: Option<String>,
    pub policy: Option<String>,
    pub max_steps: Option<u32>,
}

/// The settings as of one moment. `generation` changes whenever any watched file changed, so
/// whatever was built from an older snapshot (agents, MCP connections) is rebuilt.
pub struct Snapshot {
    pub config: Arc<Config>,
    pub generation: u64,
    /// The MCP servers file's identity, so MCP servers restart only when it changed.
    pub mcp_stamp: Option<FileStamp>,
    catalog: OnceLock<Result<Arc<Catalog>, String>>,
}

impl Snapshot {
    /// The catalog with this config's overrides, loaded on first use.
    pub fn catalog(&self, dir: &DataDir) -> Result<Arc<Catalog>, crate::setup::SetupError> {
        self.catalog
            .get_or_init(|| {
                crate::setup::load_catalog(dir, &self.config)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(crate::setup::SetupError::Failed)
    }
}

/// Identity of a file's content as far as `stat` tells (cheap enough to check every turn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        modified: m.modified().ok(),
        len: m.len(),
        inode: m.ino(),
    })
}

/// Every watched file's stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamps {
    config: Option<FileStamp>,
    mcp: Option<FileStamp>,
    policies: Vec<(PathBuf, Option<FileStamp>)>,
}

fn stamps(dir: &DataDir) -> Stamps {
    let mut policies: Vec<_> = std::fs::read_dir(dir.policies_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            let s = stamp(&p);
            (p, s)
        })
        .collect();
    policies.sort_by(|a, b| a.0.cmp(&b.0));
    Stamps {
        config: stamp(&dir.config_file()),
        mcp: stamp(&dir.mcp_servers_file()),
        policies,
    }
}

struct Current {
    stamps: Stamps,
    snapshot: Arc<Snapshot>,
}

/// Owner of the settings a core runs with.
pub struct Live {
    dir: DataDir,
    overrides: RwLock<Overrides>,
    current: Mutex<Current>,
}

impl Live {
    /// Starts from `config` (already validated by the caller, who reports problems to the user).
    pub fn new(dir: DataDir, config: Config, overrides: Overrides) -> Live {
        let stamps = stamps(&dir);
        let snapshot = Arc::new(Snapshot {
            config: Arc::new(config),
            generation: 1,
            mcp_stamp: stamps.mcp.clone(),
            catalog: OnceLock::new(),
        });
        Live {
            dir,
            overrides: RwLock::new(overrides),
            current: Mutex::new(Current { stamps, snapshot }),
        }
    }

    pub fn dir(&self) -> &DataDir {
        &self.dir
    }

    pub fn overrides(&self) -> Overrides {
        self.overrides
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Drops a command-line choice once the user changed the same setting while the core runs
    /// (the newer choice, persisted in config, wins).
    pub fn clear_override(&self, change: impl FnOnce(&mut Overrides)) {
        change(&mut self.overrides.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// The current settings, re-read first if a watched file changed. An invalid `config.json`
    /// keeps the last valid one in use and logs why.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let now = stamps(&self.dir);
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if now == cur.stamps {
            return cur.snapshot.clone();
        }
        let config = match Config::load(&self.dir) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                tracing::warn!(error = %e, "config.json changed but is invalid; keeping the previous settings");
                cur.snapshot.config.clone()
            }
        };
        let snapshot = Arc::new(Snapshot {
            config,
            generation: cur.snapshot.generation + 1,
            mcp_stamp: now.mcp.clone(),
            catalog: OnceLock::new(),
        });
        tracing::info!(
            generation = snapshot.generation,
            "settings changed on disk; new turns use them"
        );
        *cur = Current {
            stamps: now,
            snapshot: snapshot.clone(),
        };
        snapshot
    }
}
