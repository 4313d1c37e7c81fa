//! What an `awk` program does, read from its text: the files it writes and reads (`print >`,
//! `getline <`), the network it reaches (`/inet/…`), the commands it runs — and where a `>` is
//! a comparison rather than a redirection.

use super::facts::{can, not_understood};
use pryx_policy::shell::{Capability, PathRole, ShellFacts, analyze};

fn awk(program: &str) -> ShellFacts {
    analyze(&format!("awk '{program}' in.txt"))
}

fn paths(f: &ShellFacts) -> Vec<(&str, PathRole)> {
    f.paths
        .iter()
        .filter(|p| p.raw != "in.txt")
        .map(|p| (p.raw.as_str(), p.role))
        .collect()
}

#[test]
fn redirections_in_print_name_the_files_written_and_comparisons_do_not() {
    for (program, want) in [
        (r#"{ print $1 > "out" }"#, vec![("out", PathRole::Write)]),
        (r#"{ print ($1) > "out" }"#, vec![("out", PathRole::Write)]),
        (r#"{ print a[1] >> "out" }"#, vec![("out", PathRole::Write)]),
        // A line continued with a backslash is still the same `print`.
        (
            "{ print $1 \\\n > \"out\" }",
            vec![("out", PathRole::Write)],
        ),
        // After `;` or a new statement a `>` compares.
        (r#"BEGIN { print "a"; if (x > "b") y = 1 }"#, vec![]),
        ("BEGIN { print \"a\"\nif (x > \"b\") y = 1 }", vec![]),
        // Also at the top level of the next statement: `;`, a new line and `}` end a `print`.
        (r#"BEGIN { print "a"; y = x > "b" }"#, vec![]),
        ("BEGIN { print \"a\"\ny = x > \"b\" }", vec![]),
        (r#"{ print "a" } END { y = x > "b" }"#, vec![]),
        (r#"BEGIN { print ("a" > "b") }"#, vec![]),
        (r#"BEGIN { if ((x) > "b") print "c" }"#, vec![]),
    ] {
        let f = awk(program);
        assert_eq!(paths(&f), want, "{program}: {f:?}");
    }
}

#[test]
fn getline_reads_the_file_it_names() {
    for program in [
        r#"BEGIN { getline < "f2" }"#,
        r#"BEGIN { getline line < "f2" }"#,
        r#"BEGIN { getline a[k] < "f2" }"#,
        r#"BEGIN { getline a[b[1]] < "f2" }"#,
        r#"BEGIN { getline $0 < "f2" }"#,
    ] {
        let f = awk(program);
        assert_eq!(paths(&f), [("f2", PathRole::Read)], "{program}: {f:?}");
    }
    // The file operands are judged already; a comparison after `getline` reads nothing.
    for program in [
        "BEGIN { getline x < FILENAME }",
        "BEGIN { getline x < ARGV[1] }",
        r#"{ while ((getline line) > 0) n++ }"#,
    ] {
        let f = awk(program);
        assert!(paths(&f).is_empty(), "{program}: {f:?}");
        assert!(f.asks.is_empty(), "{program}: {:?}", f.asks);
    }
}

#[test]
fn inet_files_are_the_network_not_paths() {
    for program in [
        r#"BEGIN { getline x < "/inet/tcp/0/example.com/80" }"#,
        r#"BEGIN { print "GET /" > "/inet/tcp/0/example.com/80" }"#,
    ] {
        let f = awk(program);
        assert!(can(&f, Capability::Fetch), "{program}: {f:?}");
        assert!(paths(&f).is_empty(), "{program}: {f:?}");
    }
    assert!(!can(
        &awk(r#"BEGIN { getline x < "f2" }"#),
        Capability::Fetch
    ));
}

#[test]
fn include_and_load_run_code_and_other_directives_do_not() {
    for program in [r#"@include "lib.awk""#, r#"@load "ext""#] {
        assert!(can(&awk(program), Capability::Exec), "{program}");
    }
    assert!(!can(&awk(r#"@namespace "x""#), Capability::Exec));
}

/// Numbers, strings with escapes and regular expressions with bracket expressions are read
/// whole: what follows them is still seen (here a write), and the program is understood.
#[test]
fn tricky_tokens_are_read_whole_so_what_follows_them_is_seen() {
    for token in [
        r#"BEGIN { x = .5 + 1.5e3 }"#,
        r#"BEGIN { s = "a\"b\\c\/d\td" }"#,
        "BEGIN { s = \"a\\\nb\" }",
        r#"/[^]a]/ { n++ }"#,
        r#"/[]a]/ { n++ }"#,
        r#"/[[:digit:]]+/ { n++ }"#,
        r#"/[[.a.][=e=]]/ { n++ }"#,
        r#"/a\/b/ { n++ }"#,
        r#"/[\]x]/ { n++ }"#,
    ] {
        let f = awk(&format!("{token}\n{{ print > \"out\" }}"));
        assert_eq!(paths(&f), [("out", PathRole::Write)], "{token}: {f:?}");
        assert!(f.asks.is_empty(), "{token}: {:?}", f.asks);
        // A program not understood may run anything; these are understood.
        assert!(!can(&f, Capability::Exec), "{token}: {f:?}");
    }
    // A `/` inside a bracket expression is read differently by different awks: not understood.
    let f = awk(r#"/[/]/ { n++ }"#);
    assert!(can(&f, Capability::Exec), "{f:?}");
}

/// A regular expression ends at its closing `/` — after escapes, bracket expressions (whose
/// first `]` and `^` are plain), classes and collating elements — and what follows it is read
/// as awk reads it; wherever this is in the program.
#[test]
fn regular_expressions_end_where_awk_ends_them() {
    for pattern in [
        r"/abc[de]f/",
        r"/abcdef\/g/",
        r"/abcdef[\]x]/",
        r"/abc[^]x]/",
        r"/abc[]x]/",
        r"/x[[:alpha:]]y/",
        r"/[[a]/",
        r"/[a[]/",
        // A division after a regular expression is not another one.
        r"/a/ / 2",
    ] {
        let f = awk(&format!("{pattern} {{ n++ }}\n{{ print > \"out\" }}"));
        assert_eq!(paths(&f), [("out", PathRole::Write)], "{pattern}: {f:?}");
        assert_eq!(not_understood(&f), None, "{pattern}");
    }
    // A `/` inside a bracket expression, however the bracket starts.
    for pattern in [r"/[/x]/", r"/abc[]/]/", r"/[^]/]/", r"/[[:alpha:]/]/"] {
        let f = awk(&format!("{pattern} {{ n++ }}"));
        let why = not_understood(&f).unwrap_or_default();
        assert!(
            why.contains("`/` inside a bracket expression"),
            "{pattern}: {f:?}"
        );
    }
}

#[test]
fn a_string_s_escaped_quote_is_part_of_the_file_name() {
    let f = awk(r#"{ print > "a\"b" }"#);
    assert_eq!(paths(&f), [("a\"b", PathRole::Write)], "{f:?}");
}

#[test]
fn a_backslash_outside_strings_only_continues_a_line() {
    let f = awk(r"BEGIN { x = 1 \ 2 }");
    let why = not_understood(&f).unwrap_or_default();
    assert!(why.contains("unexpected `\\`"), "{f:?}");
}
