//! What a `sed` script does, read from its text: its commands are found whatever separates them
//! and whatever their regular expressions hold, and what cannot be read for sure is not
//! understood (so it asks) rather than misread.

use super::facts::not_understood;
use pryx_policy::shell::{PathRole, ShellFacts, analyze};

fn sed(script: &str) -> ShellFacts {
    analyze(&format!("sed -n '{script}' in.txt"))
}

fn writes_out(f: &ShellFacts) -> bool {
    f.paths
        .iter()
        .any(|p| p.raw == "out" && p.role == PathRole::Write)
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
        assert!(not_understood(&f).is_none(), "{script}: {f:?}");
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
        assert!(not_understood(&f).is_some(), "{script:?}: {f:?}");
    }
}

#[test]
fn bracket_expressions_are_read_whole_in_regular_expressions_only() {
    for (script, why) in [
        // However the bracket starts, a `/` in it is found.
        ("s/[/]/w out/", "`/` inside a bracket expression"),
        ("/[]/]/w out", "`/` inside a bracket expression"),
        ("/[^]/]/w out", "`/` inside a bracket expression"),
        ("/[[:alpha:]/]/w out", "`/` inside a bracket expression"),
        ("/[[:a/]/w out", "unterminated character class"),
        // A backslash or a new line cannot delimit.
        ("s\\a\\b\\", "missing delimiter"),
        ("s\na\nb\n", "missing delimiter"),
    ] {
        let f = sed(script);
        assert!(
            not_understood(&f).unwrap_or_default().contains(why),
            "{script:?}: {f:?}"
        );
    }
    for script in [
        // `[` opens a bracket in a regular expression; in a replacement it is a character.
        "/[[a]/w out",
        "s/a/[/w out",
        "y/[/x/;w out",
        // Appended text ends at the end of its line, and so does the command.
        "a hello\nw out",
        "a\\\nhello\nw out",
        "1i hello\nw out",
    ] {
        let f = sed(script);
        assert!(writes_out(&f), "{script:?}: {f:?}");
        assert_eq!(not_understood(&f), None, "{script:?}");
    }
}

#[test]
fn text_continued_with_a_backslash_is_text() {
    let f = sed("a hello\\\nw out");
    assert!(!writes_out(&f), "{f:?}");
    assert_eq!(not_understood(&f), None);
}
