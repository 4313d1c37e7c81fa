//! What a `sed` script does, read from its text: its commands are found whatever separates them
//! and whatever their regular expressions hold, and what cannot be read for sure is not
//! understood (so it asks) rather than misread.

use pryx_policy::shell::{Capability, PathRole, ShellFacts, analyze};

fn sed(script: &str) -> ShellFacts {
    analyze(&format!("sed -n '{script}' in.txt"))
}

fn writes_out(f: &ShellFacts) -> bool {
    f.paths
        .iter()
        .any(|p| p.raw == "out" && p.role == PathRole::Write)
}

fn not_understood(f: &ShellFacts) -> bool {
    f.commands
        .iter()
        .flat_map(|c| &c.powers)
        .any(|p| p.capability == Capability::Exec && p.what.contains("not understood"))
}

#[test]
fn a_write_command_is_found_after_any_regular_expression_and_separator() {
    for script in [
        "w out",
        "p\nw out",
        "p;w out",
        "/a[]x]b/w out",
        "/a[^]x]b/w out",
        "/a[[:digit:]]b/w out",
        r"/a\/b/w out",
        "s/[x]/y/w out",
        "s|a|b|w out",
        "s,a\\,b,c,w out",
        r"\%a%w out",
    ] {
        let f = sed(script);
        assert!(writes_out(&f), "{script}: {f:?}");
        assert!(!not_understood(&f), "{script}: {f:?}");
    }
}

#[test]
fn what_seds_read_differently_is_not_understood() {
    for script in [
        // The delimiter inside a bracket expression: seds disagree on where it ends.
        "s/[/]/x/w out",
        "/[/]/w out",
        // No delimiter, a newline or a backslash as one.
        "s",
        "s\\a\\b\\",
        "/unterminated",
        "s/a/b",
    ] {
        let f = sed(script);
        assert!(not_understood(&f), "{script:?}: {f:?}");
    }
}
