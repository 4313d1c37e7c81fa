//! Editors and pagers that can run shell commands: vim, ex, ed, less, more, man.

use super::short;
use crate::shell::analyze::code::Capability::Exec;
use crate::shell::analyze::code::Then::{Can, WritesValue};
use crate::shell::analyze::code::When::{Always, OperandIf, Opt};
use crate::shell::analyze::code::checks::{less_plus, vim_plus};
use crate::shell::analyze::code::{Entry, PLAIN, Row, Syntax};

pub(super) static ENTRIES: &[Entry] = &[
    Entry {
        names: &[
            "vim",
            "vi",
            "nvim",
            "gvim",
            "view",
            "vimdiff",
            "gview",
            "nview",
            "vim.basic",
            "vim.tiny",
            "vim.nox",
            "vim.gtk3",
        ],
        syntax: Syntax {
            short_values: "cSsuUTiwWtl",
            short_optional: "VoOpr",
            long_values: &["--cmd", "--servername", "--startuptime", "--listen"],
            long_flags: &["--version", "--help", "--headless", "--clean", "--noplugin"],
            options_first: false,
            bundled_first: false,
        },
        rows: &[
            Row(
                Opt(&["-c", "--cmd", "-S", "-s", "-u", "-U", "-l"]),
                Can(
                    Exec,
                    "runs editor commands or scripts it is given, which can run shell commands (`{}`)",
                ),
            ),
            Row(
                Opt(&["-e", "-E"]),
                Can(Exec, "reads editor commands from its input (`{}`)"),
            ),
            Row(
                OperandIf(vim_plus),
                Can(Exec, "runs an editor command it is given (`{}`)"),
            ),
            Row(Opt(&["-w", "-W"]), WritesValue),
        ],
        inspect: None,
    },
    Entry {
        names: &["ex", "ed"],
        syntax: PLAIN,
        rows: &[Row(
            Always(&["--version", "-V", "-h", "--help"]),
            Can(
                Exec,
                "reads editing commands, which can run shell commands (`!`), from its input",
            ),
        )],
        inspect: None,
    },
    Entry {
        names: &["less", "more"],
        syntax: short(
            "bhjkoOpPtTxyz#",
            &[
                "--lesskey-file",
                "--lesskey-src",
                "--lesskey-content",
                "--log-file",
                "--LOG-FILE",
                "--pattern",
                "--prompt",
                "--tag",
                "--tag-file",
                "--tabs",
                "--window",
                "--shift",
                "--max-back-scroll",
                "--max-forw-scroll",
                "--buffers",
                "--jump-target",
            ],
        ),
        rows: &[
            Row(
                Opt(&["-k", "--lesskey-file", "--lesskey-src", "--lesskey-content"]),
                Can(
                    Exec,
                    "reads key bindings that can run shell commands (`{}`)",
                ),
            ),
            Row(
                OperandIf(less_plus),
                Can(
                    Exec,
                    "runs a command at start, which can run shell commands (`{}`)",
                ),
            ),
            Row(Opt(&["-o", "-O", "--log-file", "--LOG-FILE"]), WritesValue),
        ],
        inspect: None,
    },
    Entry {
        names: &["man"],
        syntax: Syntax {
            short_values: "PCMmSsLRpeErT",
            short_optional: "HX",
            long_values: &[
                "--pager",
                "--config-file",
                "--manpath",
                "--systems",
                "--sections",
                "--locale",
                "--recode",
                "--preprocessor",
                "--extension",
                "--encoding",
                "--prompt",
            ],
            long_flags: &[],
            options_first: false,
            bundled_first: false,
        },
        rows: &[
            Row(
                Opt(&["-P", "--pager", "-H", "--html"]),
                Can(Exec, "runs the program it is given to show the page (`{}`)"),
            ),
            Row(
                Opt(&["-C", "--config-file"]),
                Can(
                    Exec,
                    "reads a configuration file that names programs to run (`{}`)",
                ),
            ),
        ],
        inspect: None,
    },
];
