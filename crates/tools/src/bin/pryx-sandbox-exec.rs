//! Standalone sandbox helper: `pryx-sandbox-exec <workspace> <command>`. The `pryx` binary
//! offers the same through a hidden subcommand; this one lets the crate's tests run commands
//! under Landlock without it.

fn main() {
    pryx_tools::sandbox_exec_main(std::env::args_os().skip(1))
}
