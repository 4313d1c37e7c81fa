//! POSIX sh command lines, split into every simple command they would run (pipelines, lists,
//! subshells, command and process substitution, here-docs) with their redirections, and then
//! analysed into commands, paths and doubts for the policy engine.

mod analyze;
mod parser;
mod word;

pub use analyze::{Capability, PathRole, PathUse, Power, ShellCommand, ShellFacts, analyze};
pub use parser::parse;
pub use word::{FunctionDef, Redirect, RedirectKind, Script, SimpleCommand, Word};
