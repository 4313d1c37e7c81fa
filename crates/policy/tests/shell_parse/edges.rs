//! The reader's edges, each named for what it protects: limits at their exact size, line
//! continuations, redirection operators and their targets, here-documents, assignments, and
//! which function definitions surely take effect. Written against mutants of the parser that
//! neither the other tests nor the fuzz test noticed.

use pryx_policy::shell::{RedirectKind, Script, parse};

fn words(s: &Script, n: usize) -> Vec<&str> {
    s.commands[n]
        .words
        .iter()
        .map(|w| w.text.as_str())
        .collect()
}

/// The names of the commands found, in order.
fn names(s: &Script) -> Vec<&str> {
    s.commands
        .iter()
        .filter_map(|c| c.words.first().map(|w| w.text.as_str()))
        .collect()
}

#[test]
fn a_line_of_exactly_the_limit_is_read_and_one_more_byte_is_not() {
    let limit = 64 * 1024;
    let line = format!("echo {}", "a".repeat(limit - 5));
    assert_eq!(line.len(), limit);
    let s = parse(&line);
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(names(&s), ["echo"]);
    let s = parse(&format!("{line}a"));
    assert_eq!(s.problems, ["command line is too long to analyse"]);
}

#[test]
fn nesting_up_to_the_limit_is_read_and_siblings_do_not_add_up() {
    let nested = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    let s = parse(&nested(32));
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(names(&s), ["a"]);
    let s = parse(&nested(33));
    assert!(
        s.problems
            .contains(&"command nests too deeply to analyse".to_string()),
        "{:?}",
        s.problems
    );
    // Forty groups one after another, of each kind that opens one, are forty levels of one.
    for one in ["(a)", "echo (b)", "f() (c)"] {
        let line = vec![one; 40].join("; ");
        let s = parse(&line);
        assert!(
            !s.problems.iter().any(|p| p.contains("nests too deeply")),
            "{one}: {:?}",
            s.problems
        );
    }
}

#[test]
fn a_backslash_newline_between_words_continues_the_command() {
    let s = parse("echo a \\\n b \\\n\tc");
    assert_eq!(s.commands.len(), 1);
    assert_eq!(words(&s, 0), ["echo", "a", "b", "c"]);
    assert!(s.problems.is_empty(), "{:?}", s.problems);
}

#[test]
fn comments_end_at_the_line_and_double_semicolons_are_refused_once() {
    let s = parse("a # b; c\nd\n# e\nf");
    assert_eq!(names(&s), ["a", "d", "f"]);
    let s = parse("a;; b;;; c");
    assert_eq!(names(&s), ["a", "b", "c"]);
    assert_eq!(s.problems, ["`;;` (case syntax) is not supported"]);
}

#[test]
fn a_parenthesis_inside_a_command_is_read_as_a_group_and_refused() {
    let s = parse("echo (b) ; c");
    // Inner commands are recorded as they end: `b` before the `echo` it is part of.
    assert_eq!(names(&s), ["b", "echo", "c"]);
    assert_eq!(s.problems, ["`(` inside a command is not supported"]);
}

#[test]
fn redirection_operators_and_their_targets() {
    let kinds = |line: &str| -> Vec<(RedirectKind, String)> {
        let s = parse(line);
        assert!(s.problems.is_empty(), "{line}: {:?}", s.problems);
        s.commands
            .iter()
            .flat_map(|c| &c.redirects)
            .map(|r| (r.kind, r.target.text.clone()))
            .collect()
    };
    use RedirectKind::{Descriptor, Read, Write};
    for (line, want) in [
        ("cmd >&out.txt", vec![(Write, "out.txt")]),
        ("cmd >&\"$X\"", vec![(Write, "$X")]),
        ("cmd 2>&1", vec![(Descriptor, "1")]),
        ("cmd >&-", vec![(Descriptor, "-")]),
        ("cmd <&3", vec![(Descriptor, "3")]),
        ("cmd <>f", vec![(Write, "f")]),
        ("cmd >|f", vec![(Write, "f")]),
        ("cmd >>f", vec![(Write, "f")]),
        ("cmd &>>f", vec![(Write, "f")]),
        ("cmd <f", vec![(Read, "f")]),
        // A process substitution is a target, not a missing one.
        ("cat < <(echo x)", vec![(Read, "<(…)")]),
        ("echo hi > >(cat)", vec![(Write, "<(…)")]),
    ] {
        let got = kinds(line);
        let want: Vec<_> = want.into_iter().map(|(k, t)| (k, t.to_string())).collect();
        assert_eq!(got, want, "{line}");
    }
    // Digits before `&>` are a word of their own.
    let s = parse("echo 2&>x");
    assert_eq!(words(&s, 0), ["echo", "2"]);
    assert_eq!(s.commands[0].redirects.len(), 1);
    assert_eq!(s.commands[0].redirects[0].target.text, "x");
    for line in ["echo >", "echo > ;", "echo > |", "echo > #x"] {
        let s = parse(line);
        assert!(
            s.problems
                .contains(&"redirection without a target".to_string()),
            "{line}: {:?}",
            s.problems
        );
    }
}

#[test]
fn here_documents_end_at_their_delimiter_or_are_refused() {
    let s = parse("cat <<EOF\nabc");
    assert!(
        s.problems
            .contains(&"here-document is not terminated".to_string()),
        "{:?}",
        s.problems
    );
    let s = parse("cat <<EOF\nabc\nEOF\necho after");
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(names(&s), ["cat", "echo"]);
    // An unquoted delimiter runs each kind of substitution in the body; a quoted one none.
    for body in ["$(id)", "`id`", "${X}"] {
        let s = parse(&format!("cat <<EOF\n{body}\nEOF"));
        assert_eq!(
            s.problems,
            ["here-document with an unquoted delimiter runs substitutions"],
            "{body}"
        );
        let s = parse(&format!("cat <<'EOF'\n{body}\nEOF"));
        assert!(s.problems.is_empty(), "{body}: {:?}", s.problems);
    }
}

#[test]
fn assignments_need_a_valid_name() {
    for (line, assignment) in [
        ("A_1=x cmd", true),
        ("_a=x cmd", true),
        ("A_B=x cmd", true),
        ("1A=x cmd", false),
        ("A-B=x cmd", false),
        ("A.B=x cmd", false),
        ("=x cmd", false),
    ] {
        let s = parse(line);
        assert_eq!(
            s.commands[0].assignments.len(),
            usize::from(assignment),
            "{line}"
        );
    }
}

#[test]
fn function_definitions_count_as_certain_only_at_the_top_level() {
    let defined = |line: &str| -> Vec<(String, bool)> {
        parse(line)
            .functions
            .into_iter()
            .map(|f| (f.name, f.unconditional))
            .collect()
    };
    let yes = |n: &str| vec![(n.to_string(), true)];
    // After a closed `if` or loop, and after a body in parentheses, the next one is certain.
    assert_eq!(defined("if a; then b; fi; f() { :; }"), yes("f"));
    assert_eq!(defined("while a; do b; done\nf() { :; }"), yes("f"));
    assert_eq!(
        defined("f() (a)\ng() { b; }"),
        vec![("f".to_string(), true), ("g".to_string(), true)]
    );
    // The `function` keyword, with or without `()`.
    for line in [
        "function f() { b; }",
        "function f ( ) { b; }",
        "function f { b; }",
    ] {
        let s = parse(line);
        assert_eq!(names(&s), ["b"], "{line}");
        assert!(s.problems.is_empty(), "{line}: {:?}", s.problems);
        assert_eq!(s.functions.len(), 1, "{line}");
    }
    // Not a name, or not alone: not a definition.
    for line in [
        "A=1 f() { :; }",
        ">x f() { :; }",
        "'f'() { :; }",
        "1f() { :; }",
        "-f() { :; }",
        "~f() { :; }",
        "{a,b}() { :; }",
        "f*() { :; }",
    ] {
        assert_eq!(defined(line), vec![], "{line}");
    }
    // `{` must be followed by a blank to open a body.
    let s = parse("f() {x; }");
    assert!(
        s.problems.contains(
            &"a function body other than `{ …; }` or `( … )` is not supported".to_string()
        ),
        "{:?}",
        s.problems
    );
}

/// A word as read: its text, and whether it is literal (no expansion), quoted, a `~` prefix
/// or a brace expansion.
fn word_of(line: &str, n: usize) -> (String, bool, bool, bool, bool) {
    let s = parse(line);
    assert!(s.problems.is_empty(), "{line}: {:?}", s.problems);
    let w = &s.commands.last().expect("a command").words[n];
    (w.text.clone(), w.literal, w.quoted, w.tilde, w.brace)
}

#[test]
fn words_read_as_the_shell_reads_them() {
    let plain = |t: &str| (t.to_string(), true, false, false, false);
    let computed = |t: &str| (t.to_string(), false, false, false, false);
    for (line, n, want) in [
        ("ec\\\nho x", 0, plain("echo")),
        ("echo a~b", 1, plain("a~b")),
        ("echo ~/x", 1, ("~/x".into(), true, false, true, false)),
        ("echo a,b", 1, plain("a,b")),
        ("echo {a,b}", 1, ("{a,b}".into(), true, false, false, true)),
        (
            "echo {1..3}",
            1,
            ("{1..3}".into(), true, false, false, true),
        ),
        ("echo {a.b}", 1, plain("{a.b}")),
        ("echo a..b", 1, plain("a..b")),
        (
            "echo \"a\\\nb\"",
            1,
            ("ab".into(), true, true, false, false),
        ),
        (
            "echo \"a\\$b\"",
            1,
            ("a$b".into(), true, true, false, false),
        ),
        (
            "echo \"a\\x\"",
            1,
            ("a\\x".into(), true, true, false, false),
        ),
        (
            "echo \"a`b`c\"",
            1,
            ("a`…`c".into(), false, true, false, false),
        ),
        ("echo ${x}y", 1, computed("${x}y")),
        ("echo ${x:-{a}} y", 1, computed("${x:-{a}}")),
        ("echo ${x:-{a}} y", 2, plain("y")),
        // Braces inside count, so a blank after an inner `}` is still inside.
        ("echo ${x:-{a} b} y", 1, computed("${x:-{a} b}")),
        ("echo ${x:-{a} b} y", 2, plain("y")),
        (
            "echo $'a\\'b' c",
            1,
            ("a'b".into(), false, true, false, false),
        ),
        ("echo $'ab' c", 1, ("ab".into(), true, true, false, false)),
        ("echo $'ab' c", 2, plain("c")),
        ("echo $\"ab\"", 1, ("ab".into(), true, true, false, false)),
        ("echo $_x", 1, computed("$_x")),
        ("echo $ab_c9.d", 1, computed("$ab_c9.d")),
        ("echo $.", 1, plain("$.")),
        ("echo $$", 1, computed("$$")),
        ("echo $?x", 1, computed("$?x")),
        ("echo $@", 1, computed("$@")),
        ("echo $#", 1, computed("$#")),
        ("echo $!", 1, computed("$!")),
        ("echo $-", 1, computed("$-")),
        ("echo $*", 1, computed("$*")),
    ] {
        assert_eq!(word_of(line, n), want, "{line} (word {n})");
    }
}

#[test]
fn substitutions_end_where_the_shell_ends_them() {
    for (line, want) in [
        ("echo $(( (1+2) * 3 )); id", vec!["echo", "id"]),
        ("echo $(( (1) )) x; id", vec!["echo", "id"]),
        ("echo \"$(a)\" `b`; c", vec!["a", "echo", "b", "c"]),
        // Escaped backticks and dollars inside backticks.
        ("a `b \\`c\\``", vec!["c", "b", "a"]),
        ("a `b \\$(c)`", vec!["c", "b", "a"]),
    ] {
        let s = parse(line);
        let mut got = names(&s);
        let mut want = want;
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{line}: {:?}", s.commands);
        let expected: &[&str] = if line.contains("$((") {
            &["arithmetic expansion `$((…))` is not supported"]
        } else {
            &[]
        };
        assert_eq!(s.problems, expected, "{line}");
    }
    for (line, problem) in [
        ("echo ${x", "unclosed `${`"),
        (
            "echo ${x:-$(id)}",
            "command substitution inside `${…}` is not supported",
        ),
        (
            "echo ${x:-`id`}",
            "command substitution inside `${…}` is not supported",
        ),
        ("echo $'ab", "unclosed `$'`"),
        ("echo `ab", "unclosed backtick"),
    ] {
        let s = parse(line);
        assert!(
            s.problems.contains(&problem.to_string()),
            "{line}: {:?}",
            s.problems
        );
    }
    // Forty substitutions one after another are forty levels of one; a backtick adds a level.
    let line = vec!["echo $(a)"; 40].join("; ");
    assert!(parse(&line).problems.is_empty());
    let deep = format!("{}`a`{}", "$(".repeat(32), ")".repeat(32));
    assert!(
        parse(&deep)
            .problems
            .contains(&"command nests too deeply to analyse".to_string()),
        "{deep}"
    );
    let shallow = format!("{}`a`{}", "$(".repeat(31), ")".repeat(31));
    assert!(parse(&shallow).problems.is_empty(), "{shallow}");
}
