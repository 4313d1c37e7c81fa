//! Text tools with a program language or an output file: awk, sed, find, sort, dd, uniq, xxd…

use super::short;
use crate::shell::analyze::code::Capability::{Exec, Write};
use crate::shell::analyze::code::Then::{Can, ReadsValue, WritesValue};
use crate::shell::analyze::code::When::{NthOperand, Operand, Opt, OptValue, Word};
use crate::shell::analyze::code::{Entry, PLAIN, Row, Syntax, awk, sed};

pub(super) static ENTRIES: &[Entry] = &[
    Entry {
        names: &["awk", "gawk", "mawk", "nawk", "original-awk"],
        syntax: Syntax {
            short_values: "fvFEilWe",
            short_optional: "opdDL",
            long_values: &[
                "--file",
                "--assign",
                "--field-separator",
                "--exec",
                "--include",
                "--load",
                "--source",
            ],
            long_flags: &["--sandbox", "--version", "--help", "--lint", "--posix"],
            options_first: true,
            bundled_first: false,
        },
        rows: &[
            Row(
                Opt(&["-f", "--file", "-E", "--exec"]),
                Can(Exec, "runs a program file the policy cannot see (`{}`)"),
            ),
            Row(
                Opt(&["-i", "--include"]),
                Can(Exec, "includes a program file the policy cannot see (`{}`)"),
            ),
            Row(
                Opt(&["-l", "--load"]),
                Can(Exec, "loads a compiled extension (`{}`)"),
            ),
            Row(
                Opt(&["-D", "--debug"]),
                Can(
                    Exec,
                    "starts its debugger, which reads commands from its input (`{}`)",
                ),
            ),
            Row(
                OptValue(&["-W"], |v| v.starts_with('e')),
                Can(
                    Exec,
                    "runs a program file the policy cannot see (`-W exec`)",
                ),
            ),
            Row(
                Opt(&[
                    "-o",
                    "-p",
                    "-d",
                    "--pretty-print",
                    "--profile",
                    "--dump-variables",
                ]),
                WritesValue,
            ),
        ],
        inspect: Some(awk::inspect),
    },
    Entry {
        names: &["sed", "gsed"],
        syntax: Syntax {
            short_values: "efl",
            short_optional: "i",
            long_values: &["--expression", "--file", "--line-length"],
            long_flags: &[
                "--in-place",
                "--sandbox",
                "--separate",
                "--silent",
                "--quiet",
            ],
            options_first: false,
            bundled_first: false,
        },
        rows: &[Row(
            Opt(&["-f", "--file"]),
            Can(Exec, "runs a script file the policy cannot see (`{}`)"),
        )],
        inspect: Some(sed::inspect),
    },
    Entry {
        names: &["find"],
        syntax: PLAIN,
        rows: &[
            Row(
                Word(&["-exec", "-execdir", "-ok", "-okdir"]),
                Can(Exec, "runs a command on every match (`{}`)"),
            ),
            Row(
                Word(&["-delete"]),
                Can(Write, "removes every match (`-delete`)"),
            ),
            Row(
                Word(&["-fprint", "-fprint0", "-fprintf", "-fls"]),
                WritesValue,
            ),
        ],
        inspect: None,
    },
    Entry {
        names: &["sort"],
        syntax: short(
            "kotST",
            &[
                "--key",
                "--output",
                "--field-separator",
                "--buffer-size",
                "--temporary-directory",
                "--files0-from",
                "--parallel",
                "--batch-size",
                "--compress-program",
                "--random-source",
                "--sort",
            ],
        ),
        rows: &[
            Row(
                Opt(&["-o", "--output", "-T", "--temporary-directory"]),
                WritesValue,
            ),
            Row(
                Opt(&["--compress-program"]),
                Can(Exec, "runs the compression program it is given (`{}`)"),
            ),
            Row(Opt(&["--files0-from", "--random-source"]), ReadsValue),
        ],
        inspect: None,
    },
    Entry {
        names: &["dd"],
        syntax: PLAIN,
        rows: &[
            Row(Operand(&["of="]), WritesValue),
            Row(Operand(&["if="]), ReadsValue),
        ],
        inspect: None,
    },
    // Readers whose second operand, or an option, names a file they write.
    Entry {
        names: &["uniq"],
        syntax: short(
            "fsw",
            &["--skip-fields", "--skip-chars", "--check-chars", "--group"],
        ),
        rows: &[Row(NthOperand(1), WritesValue)],
        inspect: None,
    },
    Entry {
        names: &["xxd"],
        syntax: short(
            "cglnoRs",
            &["--cols", "--groupsize", "--len", "--name", "--seek"],
        ),
        rows: &[Row(NthOperand(1), WritesValue)],
        inspect: None,
    },
    Entry {
        names: &["tree", "shuf", "base64"],
        syntax: short(
            "oLPIinr",
            &[
                "--output",
                "--input-range",
                "--head-count",
                "--random-source",
            ],
        ),
        rows: &[Row(Opt(&["-o", "--output"]), WritesValue)],
        inspect: None,
    },
];
