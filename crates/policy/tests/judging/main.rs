//! How calls are judged: built-in policies and rule precedence, what decides besides the
//! rules, the hard checks on paths, shell lines and foreign tools' arguments, command
//! capabilities, escape attempts, and resolving paths the way the kernel will. One test binary,
//! so a mutation run (scripts/mutants.sh) rebuilds one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod after_rules;
mod awk_programs;
mod capabilities;
mod escape_suite;
mod evaluate;
mod facts;
mod git_commands;
mod hard_checks;
mod path_props;
mod resolve_path;
mod sed_scripts;
mod shell_facts;
mod tool_reads;
mod wrappers;
