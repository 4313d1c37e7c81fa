//! The commands and options that run code, write files the path rules do not see, or reach the
//! network (after GTFOBins). Each row: when it holds, and what it shows.

use super::{Entry, PLAIN, Syntax};

mod archives;
mod editors;
mod interpreters;
mod network;
mod run;
mod text;

const INLINE: &str = "runs inline code (`{}`)";
const STDIN: &str = "runs code read from its input";
const SSH_OPTION: &str = "runs a local command named in an option (`-o ProxyCommand` and the like)";
const SSH_CONFIG: &str = "reads a configuration file that can run commands (`{}`)";

/// Python-like interpreters: options first, then the script and its arguments.
const fn interpreter(
    short_values: &'static str,
    short_optional: &'static str,
    long_values: &'static [&'static str],
    long_flags: &'static [&'static str],
) -> Syntax {
    Syntax {
        short_values,
        short_optional,
        long_values,
        long_flags,
        options_first: true,
        bundled_first: false,
    }
}

const fn short(short_values: &'static str, long_values: &'static [&'static str]) -> Syntax {
    Syntax {
        short_values,
        long_values,
        ..PLAIN
    }
}

/// Every entry, by kind of command.
pub(super) static TABLE: &[&[Entry]] = &[
    text::ENTRIES,
    run::ENTRIES,
    interpreters::ENTRIES,
    editors::ENTRIES,
    archives::ENTRIES,
    network::ENTRIES,
];
