//! Commands that run other commands, or their build files: xargs, git, watch, schedulers, build tools.

use super::short;
use crate::shell::analyze::code::Capability::Exec;
use crate::shell::analyze::code::Then::{Can, WritesValue};
use crate::shell::analyze::code::When::{Always, Opt};
use crate::shell::analyze::code::{Entry, PLAIN, Row, git};

pub(super) static ENTRIES: &[Entry] = &[
    Entry {
        names: &["xargs", "parallel"],
        syntax: PLAIN,
        rows: &[Row(
            Always(&[]),
            Can(Exec, "runs a command on arguments read at run time"),
        )],
        inspect: None,
    },
    Entry {
        names: &["git"],
        syntax: PLAIN,
        rows: &[],
        inspect: Some(git::inspect),
    },
    Entry {
        names: &["watch"],
        syntax: PLAIN,
        rows: &[Row(
            Always(&["-v", "--version", "-h", "--help"]),
            Can(Exec, "runs its command through `sh -c`, again and again"),
        )],
        inspect: None,
    },
    Entry {
        names: &[
            "flock",
            "script",
            "systemd-run",
            "valgrind",
            "gdb",
            "lldb",
            "taskset",
            "chrt",
            "prlimit",
            "numactl",
            "firejail",
            "bwrap",
            "fakeroot",
            "eatmydata",
            "proxychains",
            "proxychains4",
            "torsocks",
            "xvfb-run",
            "dbus-run-session",
        ],
        syntax: PLAIN,
        rows: &[Row(
            Always(&["-V", "--version", "-h", "--help"]),
            Can(Exec, "runs the command or debugger commands it is given"),
        )],
        inspect: None,
    },
    Entry {
        names: &["strace", "ltrace"],
        syntax: short(
            "eoOpPsSuEIbXU",
            &[
                "--output", "--attach", "--user", "--env", "--trace", "--inject",
            ],
        ),
        rows: &[
            Row(
                Always(&["-V", "--version", "-h", "--help"]),
                Can(
                    Exec,
                    "runs the command it is given, or changes a running process",
                ),
            ),
            Row(Opt(&["-o", "--output"]), WritesValue),
        ],
        inspect: None,
    },
    Entry {
        names: &["crontab"],
        syntax: short("u", &[]),
        rows: &[Row(
            Always(&["-l", "-r"]),
            Can(Exec, "installs commands that run on a schedule"),
        )],
        inspect: None,
    },
    Entry {
        names: &["at", "batch"],
        syntax: short("qfMmtT", &[]),
        rows: &[Row(
            Always(&["-l", "-r", "-d", "-c", "-V"]),
            Can(Exec, "schedules commands to run later"),
        )],
        inspect: None,
    },
    Entry {
        names: &["make", "gmake", "bmake", "pmake"],
        syntax: short(
            "CfIijlLoW",
            &[
                "--directory",
                "--file",
                "--makefile",
                "--include-dir",
                "--jobs",
                "--load-average",
                "--old-file",
                "--what-if",
                "--assume-old",
                "--assume-new",
            ],
        ),
        rows: &[Row(
            Always(&["-v", "--version", "-h", "--help"]),
            Can(Exec, "runs the recipes of its makefile"),
        )],
        inspect: None,
    },
    Entry {
        names: &["ninja", "ninja-build"],
        syntax: short("Cfjkldtw", &[]),
        rows: &[Row(
            Always(&["--version", "-h", "--help", "-n", "-t"]),
            Can(Exec, "runs the commands of its build file"),
        )],
        inspect: None,
    },
    Entry {
        names: &["cmake", "ctest", "just", "meson"],
        syntax: PLAIN,
        rows: &[Row(
            Always(&["--version", "--help"]),
            Can(Exec, "runs the project's build scripts and commands"),
        )],
        inspect: None,
    },
];
