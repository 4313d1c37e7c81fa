//! The shell reader finds every command and redirection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pryx_policy::shell::{Capability, RedirectKind, analyze, parse};

#[path = "shell_parse/edges.rs"]
mod edges;

fn names(line: &str) -> Vec<String> {
    let mut v: Vec<String> = parse(line)
        .commands
        .iter()
        .filter_map(|c| c.words.first().map(|w| w.text.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn splits_lists_pipelines_and_groups() {
    assert_eq!(
        names("a | b; c && d || e & f"),
        ["a", "b", "c", "d", "e", "f"]
    );
    assert_eq!(names("(a; b) | { c; }"), ["a", "b", "c"]);
    assert_eq!(names("a $(b $(c)) `d`"), ["a", "b", "c", "d"]);
    assert_eq!(names("diff <(a) >(b)"), ["a", "b", "diff"]);
    assert_eq!(names("if a; then b; else c; fi"), ["a", "b", "c"]);
    assert_eq!(names("while a; do b; done"), ["a", "b"]);
    assert_eq!(names("a # b; c"), ["a"]);
    assert_eq!(names("a\nb"), ["a", "b"]);
}

#[test]
fn quotes_escapes_and_assignments() {
    let s = parse(r#"FOO=bar X="a b" cmd 'it''s' "q \"x\"" a\ b"#);
    let c = &s.commands[0];
    assert_eq!(c.assignments.len(), 2);
    let words: Vec<_> = c.words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(words, ["cmd", "its", "q \"x\"", "a b"]);
    assert!(c.words.iter().all(|w| w.literal));
    let s = parse("echo \"$HOME\" '$HOME'");
    assert!(!s.commands[0].words[1].literal);
    assert!(s.commands[0].words[2].literal);
    assert!(s.problems.is_empty());
}

#[test]
fn redirections() {
    let s = parse("cmd <in >out 2>>err 2>&1 &>all >&- <<<str");
    let kinds: Vec<_> = s.commands[0]
        .redirects
        .iter()
        .map(|r| (r.kind, r.target.text.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (RedirectKind::Read, "in".to_string()),
            (RedirectKind::Write, "out".to_string()),
            (RedirectKind::Write, "err".to_string()),
            (RedirectKind::Descriptor, "1".to_string()),
            (RedirectKind::Write, "all".to_string()),
            (RedirectKind::Descriptor, "-".to_string()),
            (RedirectKind::HereString, "str".to_string()),
        ]
    );
    let s = parse("cat <<'EOF' > out\n$(not run)\nEOF\necho done");
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(s.commands.len(), 2);
}

#[test]
fn problems_for_what_is_not_understood() {
    for line in [
        "echo 'x",
        "echo \"x",
        "echo $(x",
        "for i in a; do b; done",
        "a )",
        "f() x",
        "f() { x;",
        "function { x; }",
        "echo `x",
    ] {
        assert!(!parse(line).problems.is_empty(), "{line}");
    }
}

#[test]
fn analysis_looks_through_wrappers() {
    let f = analyze("env -i A=1 nohup timeout -s KILL 5 nice -n 3 bash -c 'git status && cat x'");
    let names: Vec<_> = f.commands.iter().map(|c| c.words[0].clone()).collect();
    assert_eq!(names, ["git", "cat"]);
    assert!(f.asks.is_empty(), "{:?}", f.asks);
    assert!(analyze("sudo -u root ls").denies.len() == 1);
    assert!(!analyze("bash script.sh").asks.is_empty());
    assert!(!analyze("curl x | sh").asks.is_empty());
    assert!(!analyze("bash -c \"$CMD\"").asks.is_empty());
}

#[test]
fn function_definitions() {
    let s = parse("f() { id; cat x; }; f a");
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    assert_eq!(names("f() { id; cat x; }; f a"), ["cat", "f", "id"]);
    assert_eq!(s.functions.len(), 1);
    assert_eq!((s.functions[0].name.as_str(), s.functions[0].at), ("f", 0));
    assert!(s.functions[0].unconditional);
    // Bodies are read wherever they are; a definition is certain only at the top level of this
    // shell, not piped, backgrounded, grouped or conditional.
    for (line, unconditional) in [
        ("f() ( id ); f", true),
        ("f()\n{\n id\n}\nf", true),
        ("f() { id; } && f", true),
        ("f() { id; } || x; f", true),
        ("x; f() { id; }", true),
        ("x & f() { id; }", true),
        ("true && f() { id; }", false),
        ("false || f() { id; }", false),
        ("(f() { id; }); f", false),
        ("x | f() { id; }", false),
        ("f() { id; } | x", false),
        ("f() { id; } & f", false),
        ("if true; then f() { id; }; fi", false),
        ("{ f() { id; }; }", false),
        ("g() { f() { id; }; }", false),
        ("echo $(f() { id; })", false),
        ("function f { id; }", false),
        ("function f() { id; }", false),
    ] {
        let s = parse(line);
        assert!(s.problems.is_empty(), "{line}: {:?}", s.problems);
        let f = s.functions.iter().find(|f| f.name == "f").unwrap();
        assert_eq!(f.unconditional, unconditional, "{line}");
    }
}

/// Names of the commands a line runs, as judged.
fn runs(line: &str) -> Vec<String> {
    analyze(line)
        .commands
        .iter()
        .map(|c| c.words.first().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn function_calls() {
    assert_eq!(runs("f() { id; }; f; f"), ["id"]);
    assert_eq!(runs("f; f() { id; }"), ["f", "id"]);
    assert_eq!(runs("function f { id; }; f"), ["id", "f"]);
    assert_eq!(runs("(f() { id; }); f"), ["id", "f"]);
    assert_eq!(runs("f() { id; }; unset -f f; f"), ["id", "unset", "f"]);
    assert_eq!(
        runs("f() { id; }; eval 'unset -f f'; f"),
        ["id", "unset", "f"]
    );
    assert_eq!(runs("eval() { :; }; eval 'rm -rf /'"), [":", "rm"]);
    assert_eq!(runs("f() { id; }; command f"), ["id", "f"]);
    assert_eq!(runs("f() { id; }; f > out"), ["id"]);
    assert!(
        analyze("f() { id; }; f > /etc/x")
            .paths
            .iter()
            .any(|p| p.raw == "/etc/x")
    );
}

#[test]
fn trap_alias_and_eval_text_is_judged() {
    assert_eq!(runs("trap 'rm -rf x' EXIT; ls"), ["rm", "ls"]);
    assert_eq!(runs("trap -- 'id' INT TERM"), ["id"]);
    assert!(runs("trap - EXIT; trap '' INT; trap -p; trap -l; trap EXIT").is_empty());
    assert!(!analyze("trap \"$X\" EXIT").asks.is_empty());
    assert_eq!(runs("alias ll='ls -la' x='id; cat y'"), ["ls", "id", "cat"]);
    assert!(runs("alias; alias -p").is_empty());
    assert!(!analyze("alias x=\"$Y\"").asks.is_empty());
    assert_eq!(runs("eval 'trap \"awk 1\" EXIT'"), ["awk"]);
    // Nesting is bounded.
    let deep = "eval ".repeat(40) + "id";
    assert!(!analyze(&deep).asks.is_empty());
    // A dangerous variable keeps its value for the commands that follow.
    assert!(!analyze("PATH=/tmp; ls").asks.is_empty());
}

#[test]
fn capabilities_are_typed_and_placed_on_their_command() {
    let f = analyze("nice find . -exec awk 'BEGIN{system(1)}' {} + | sort");
    let caps: Vec<(String, Vec<Capability>)> = f
        .commands
        .iter()
        .map(|c| {
            (
                c.words[0].clone(),
                c.powers.iter().map(|p| p.capability).collect(),
            )
        })
        .collect();
    assert_eq!(
        caps,
        [
            ("find".to_string(), vec![Capability::Exec]),
            ("awk".to_string(), vec![Capability::Exec]),
            ("sort".to_string(), vec![]),
        ]
    );
    assert_eq!(Capability::parse("fetch"), Some(Capability::Fetch));
    assert_eq!(Capability::Write.to_string(), "write");
}

#[test]
fn a_hash_after_a_redirection_operator_is_a_comment_not_a_target() {
    // bash: `echo >#c` is a syntax error (the `#` starts a comment), not a write to `#c`.
    for line in ["echo >#c", "cat <<<#c", "ls &>#c; rm -rf /"] {
        assert!(!parse(line).problems.is_empty(), "{line}");
    }
    assert!(parse("echo a#b >x#y").problems.is_empty());
}

#[test]
fn a_reserved_word_after_an_assignment_or_redirection_is_a_program() {
    // bash runs a program named `fi` here; skipping it as syntax would hide a command.
    for (line, name) in [
        ("A=1 fi", "fi"),
        (">/dev/null do x", "do"),
        ("B=2 if rm -rf /", "if"),
    ] {
        let s = parse(line);
        assert_eq!(s.commands[0].words[0].text, name, "{line}");
    }
    assert_eq!(names("if a; then b; fi"), ["a", "b"]);
}
