//! Archives and patches: extraction writes files named inside the archive.

use super::short;
use crate::shell::analyze::code::Capability::{Exec, Fetch, Write};
use crate::shell::analyze::code::Then::{Can, WritesValue};
use crate::shell::analyze::code::When::{Always, Opt, OptValue, WordPrefix};
use crate::shell::analyze::code::checks::remote;
use crate::shell::analyze::code::{Entry, Row, Syntax};

pub(super) static ENTRIES: &[Entry] = &[
    Entry {
        names: &["tar", "gtar", "bsdtar"],
        syntax: Syntax {
            short_values: "fCIFbgHKLNTVX",
            short_optional: "",
            long_values: &[
                "--file",
                "--directory",
                "--use-compress-program",
                "--info-script",
                "--new-volume-script",
                "--to-command",
                "--checkpoint-action",
                "--rsh-command",
                "--rmt-command",
                "--files-from",
                "--exclude-from",
                "--exclude",
                "--transform",
                "--xform",
                "--owner",
                "--group",
                "--mode",
                "--format",
                "--label",
                "--newer",
                "--after-date",
                "--newer-mtime",
                "--starting-file",
                "--tape-length",
                "--blocking-factor",
                "--record-size",
                "--listed-incremental",
                "--volno-file",
                "--index-file",
                "--strip-components",
            ],
            long_flags: &["--checkpoint", "--to-stdout", "--totals", "--touch"],
            options_first: false,
            bundled_first: true,
        },
        rows: &[
            Row(
                Opt(&["--to-command"]),
                Can(Exec, "runs a command for every file it extracts (`{}`)"),
            ),
            Row(
                OptValue(&["--checkpoint-action"], |v| v.starts_with("exec")),
                Can(Exec, "runs a command at checkpoints (`{}=exec`)"),
            ),
            Row(
                Opt(&["-I", "--use-compress-program"]),
                Can(Exec, "runs the compression program it is given (`{}`)"),
            ),
            Row(
                Opt(&["-F", "--info-script", "--new-volume-script"]),
                Can(Exec, "runs a script at the end of each volume (`{}`)"),
            ),
            Row(
                Opt(&["--rsh-command", "--rmt-command"]),
                Can(Exec, "runs the remote shell program it is given (`{}`)"),
            ),
            Row(
                OptValue(&["-f", "--file"], remote),
                Can(Fetch, "reads or writes an archive on another host (`{}`)"),
            ),
            Row(
                Opt(&["-f", "--file", "--index-file", "-g", "--listed-incremental"]),
                WritesValue,
            ),
            Row(
                Opt(&["-x", "--extract", "--get"]),
                Can(Write, "extracts files named inside the archive (`{}`)"),
            ),
        ],
        inspect: None,
    },
    Entry {
        names: &["unzip"],
        syntax: short("dP", &[]),
        rows: &[Row(
            Always(&["-l", "-t", "-v", "-Z", "-p", "-c", "-z"]),
            Can(Write, "extracts files named inside the archive"),
        )],
        inspect: None,
    },
    Entry {
        names: &["zip"],
        syntax: short(
            "bnOPtZ",
            &["--unzip-command", "--output-file", "--temp-path"],
        ),
        rows: &[
            Row(
                WordPrefix(&["-TT"]),
                Can(
                    Exec,
                    "runs the command it is given to test the archive (`-TT`)",
                ),
            ),
            Row(
                Opt(&["--unzip-command"]),
                Can(
                    Exec,
                    "runs the command it is given to test the archive (`{}`)",
                ),
            ),
            Row(Opt(&["-O", "--output-file"]), WritesValue),
        ],
        inspect: None,
    },
    Entry {
        names: &["cpio"],
        syntax: short("EFHIMOR", &["--rsh-command", "--file"]),
        rows: &[
            Row(
                Opt(&["-i", "--extract"]),
                Can(Write, "extracts files named inside the archive (`{}`)"),
            ),
            Row(
                Opt(&["--rsh-command", "--rmt-command"]),
                Can(Exec, "runs the remote shell program it is given (`{}`)"),
            ),
        ],
        inspect: None,
    },
    Entry {
        names: &["patch"],
        syntax: short(
            "BDFiopPrVYz",
            &[
                "--input",
                "--output",
                "--reject-file",
                "--directory",
                "--strip",
                "--prefix",
                "--suffix",
            ],
        ),
        rows: &[
            Row(
                Always(&["--dry-run", "--version", "--help"]),
                Can(Write, "patches files named inside the patch"),
            ),
            Row(Opt(&["-o", "--output", "-r", "--reject-file"]), WritesValue),
        ],
        inspect: None,
    },
];
