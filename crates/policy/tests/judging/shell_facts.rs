//! What the shell analysis reports for a command line: the commands that run, the paths they
//! touch and how, and the doubts that make a person look. Each test names the behaviour it
//! protects; they were written against mutants of `shell/analyze.rs` that no test noticed.

use super::facts::{asks_with, paths};
use pryx_policy::shell::{PathRole, ShellFacts, analyze};

/// The roles `raw` is recorded with (the sed and sort tables may record a path again).
fn roles(f: &ShellFacts, raw: &str) -> Vec<PathRole> {
    let mut r: Vec<PathRole> = Vec::new();
    for p in f.paths.iter().filter(|p| p.raw == raw) {
        if !r.contains(&p.role) {
            r.push(p.role);
        }
    }
    r
}

#[test]
fn an_environment_assignment_says_whether_it_changes_this_command_or_later_ones() {
    let prefix = analyze("PATH=/opt/evil ls");
    assert!(
        asks_with(&prefix, "changes what the command loads or runs"),
        "{prefix:?}"
    );
    let alone = analyze("PATH=/opt/evil");
    assert!(
        asks_with(&alone, "changes what later commands load or run"),
        "{alone:?}"
    );
}

#[test]
fn a_redirection_target_computed_at_run_time_asks() {
    for line in ["date > $OUT", "date > out{1,2}", "wc < $IN"] {
        let f = analyze(line);
        assert!(asks_with(&f, "redirection target"), "{line}: {:?}", f.asks);
        assert!(f.paths.is_empty(), "{line}: {:?}", f.paths);
    }
}

#[test]
fn only_the_standard_streams_are_harmless_redirection_targets() {
    // Reading standard input or writing to /dev/null touches no file.
    assert!(analyze("wc < /dev/stdin").paths.is_empty());
    assert!(analyze("date > /dev/null 2> /dev/stderr").paths.is_empty());
    // Reading from an output stream, or writing to the input one, is a path like any other.
    assert_eq!(
        paths(&analyze("wc < /dev/stdout")),
        [("/dev/stdout", PathRole::Read)]
    );
    assert_eq!(
        paths(&analyze("date > /dev/stdin")),
        [("/dev/stdin", PathRole::Write)]
    );
}

/// `eval` nested `levels` deep around `touch deep`.
fn nested_eval(levels: usize) -> String {
    let mut line = "touch deep".to_string();
    for _ in 0..levels {
        line = format!("eval '{}'", line.replace('\'', r"'\''"));
    }
    line
}

#[test]
fn commands_nested_up_to_the_limit_are_analysed_and_one_more_asks() {
    // `eval` is analysed at depth 0 and each level adds one; the limit is 8.
    let within = analyze(&nested_eval(8));
    assert!(!asks_with(&within, "nest too deeply"), "{within:?}");
    assert_eq!(paths(&within), [("deep", PathRole::Write)]);
    let beyond = analyze(&nested_eval(9));
    assert!(asks_with(&beyond, "nest too deeply"), "{beyond:?}");
}

#[test]
fn trap_and_alias_bodies_count_towards_the_nesting_limit() {
    for (word, tail) in [("trap", " EXIT"), ("alias", "")] {
        let mut line = "touch deep".to_string();
        for _ in 0..9 {
            line = if word == "trap" {
                format!("trap '{}'{tail}", line.replace('\'', r"'\''"))
            } else {
                format!("alias a='{}'", line.replace('\'', r"'\''"))
            };
        }
        let f = analyze(&line);
        assert!(asks_with(&f, "nest too deeply"), "{word}: {f:?}");
    }
}

#[test]
fn an_awk_program_reads_the_files_it_names_and_asks_about_computed_ones() {
    let f = analyze("awk 'BEGIN { getline x < \"/etc/hosts\" }'");
    assert_eq!(paths(&f), [("/etc/hosts", PathRole::Read)]);
    let f = analyze("awk 'BEGIN { getline x < \"/dev/stdin\" }'");
    assert!(f.paths.is_empty(), "{f:?}");
    let f = analyze("awk 'BEGIN { getline x < ENVIRON[\"F\"] }'");
    assert!(asks_with(&f, "reads a file named at run time"), "{f:?}");
}

#[test]
fn a_capability_is_listed_once_for_each_thing_that_shows_it() {
    let twice = analyze("awk 'BEGIN { system(\"a\"); system(\"b\") }'");
    assert_eq!(twice.commands[0].powers.len(), 1, "{twice:?}");
    let two_ways = analyze("awk 'BEGIN { system(\"a\"); print > \"out\" }'");
    assert_eq!(two_ways.commands[0].powers.len(), 2, "{two_ways:?}");
    // The same option twice shows the same thing once.
    let find = analyze("find . -exec true {} \\; -exec false {} \\;");
    let find_powers = &find
        .commands
        .iter()
        .find(|c| c.words[0] == "find")
        .unwrap()
        .powers;
    assert_eq!(find_powers.len(), 1, "{find:?}");
}

#[test]
fn a_trap_whose_first_operand_is_a_number_only_resets_signals() {
    for line in ["trap 1 INT", "trap 0 15", "trap - INT"] {
        let f = analyze(line);
        assert!(f.commands.is_empty(), "{line}: {:?}", f.commands);
        assert!(f.asks.is_empty(), "{line}: {:?}", f.asks);
    }
    // A command as the action is analysed.
    let f = analyze("trap 'rm victim' INT");
    assert_eq!(paths(&f), [("victim", PathRole::Write)]);
}

#[test]
fn xargs_chains_count_towards_the_nesting_limit() {
    let chain = format!("{}rm victim", "xargs ".repeat(12));
    let f = analyze(&chain);
    assert!(asks_with(&f, "nest too deeply"), "{f:?}");
}

#[test]
fn xargs_asks_and_the_command_it_runs_is_analysed() {
    let f = analyze("find . -name '*.o' | xargs rm -f");
    assert!(
        asks_with(&f, "`xargs` runs a command on arguments read at run time"),
        "{f:?}"
    );
    let names: Vec<&str> = f
        .commands
        .iter()
        .filter_map(|c| c.words.first().map(String::as_str))
        .collect();
    assert!(
        names.contains(&"xargs") && names.contains(&"rm"),
        "{names:?}"
    );
}

#[test]
fn a_command_name_computed_at_run_time_asks() {
    for line in [
        "$TOOL --go",
        "/usr/bin/e*o hi",
        "{rm,x} victim",
        "~/bin/tool run",
    ] {
        let f = analyze(line);
        assert!(asks_with(&f, "is computed at run time"), "{line}: {f:?}");
    }
    assert!(analyze("echo hi").asks.is_empty());
}

#[test]
fn sourcing_a_script_asks_both_ways_it_is_spelled() {
    for line in ["source ./env.sh", ". ./env.sh"] {
        let f = analyze(line);
        assert!(asks_with(&f, "sourcing a script"), "{line}: {f:?}");
    }
}

#[test]
fn only_sed_with_in_place_editing_writes_the_files_it_reads() {
    for line in [
        "sed -i s/a/b/ notes.txt",
        "sed --in-place=.bak s/a/b/ notes.txt",
    ] {
        assert_eq!(
            roles(&analyze(line), "notes.txt"),
            [PathRole::Write],
            "{line}"
        );
    }
    assert_eq!(
        roles(&analyze("sed s/a/b/ notes.txt"), "notes.txt"),
        [PathRole::Read]
    );
    // `-i` means something else to other readers.
    assert_eq!(
        paths(&analyze("grep -i todo notes.txt")),
        [("todo", PathRole::Read), ("notes.txt", PathRole::Read)]
    );
}

#[test]
fn a_reader_after_a_writer_leaves_the_writers_paths_written() {
    assert_eq!(
        paths(&analyze("cp a b; cat c")),
        [
            ("a", PathRole::Write),
            ("b", PathRole::Write),
            ("c", PathRole::Read)
        ]
    );
}

#[test]
fn empty_arguments_and_a_lone_dash_are_not_paths() {
    assert!(analyze("cat '' -").paths.is_empty());
}

#[test]
fn options_are_not_paths_until_a_double_dash() {
    assert_eq!(
        paths(&analyze("rm -f notes.txt")),
        [("notes.txt", PathRole::Write)]
    );
    assert_eq!(paths(&analyze("rm -- -f")), [("-f", PathRole::Write)]);
}

#[test]
fn an_option_value_that_names_a_path_is_a_path() {
    // Attached to a short option, after `=` of a long one; a long option alone is no value.
    assert_eq!(
        paths(&analyze("tool -o/etc/out")),
        [("/etc/out", PathRole::Write)]
    );
    assert_eq!(
        paths(&analyze("tool --out=/etc/out")),
        [("/etc/out", PathRole::Write)]
    );
    assert!(analyze("tool --a/b").paths.is_empty());
    // `.` and `..` name directories as much as anything with a slash does.
    assert_eq!(
        paths(&analyze("tool --from=.. --to=.")),
        [("..", PathRole::Write), (".", PathRole::Write)]
    );
}

#[test]
fn a_key_value_argument_is_judged_by_its_value_unless_the_key_is_a_path() {
    assert_eq!(
        paths(&analyze("tool out=/etc/out")),
        [("/etc/out", PathRole::Write)]
    );
    // `dir/a=b/c` is a file name with `=` in it.
    assert_eq!(
        paths(&analyze("cat dir/a=b/c")),
        [("dir/a=b/c", PathRole::Read)]
    );
    // A value that is neither a path nor a code-bearing name leaves the whole word a path.
    assert_eq!(
        paths(&analyze("cp key=value dest")),
        [("key=value", PathRole::Write), ("dest", PathRole::Write)]
    );
    // For a command that is not a file command, a code-bearing name alone is not a path.
    assert_eq!(
        paths(&analyze("tool target=Makefile")),
        [("target=Makefile", PathRole::Write)]
    );
}

/// What the command named `name` can do, in order.
fn whats<'f>(f: &'f ShellFacts, name: &str) -> Vec<&'f str> {
    f.commands
        .iter()
        .filter(|c| c.words.first().is_some_and(|w| w == name))
        .flat_map(|c| &c.powers)
        .map(|p| p.what.as_str())
        .collect()
}

#[test]
fn two_reasons_for_the_same_capability_are_both_listed() {
    let f = analyze("git -c core.pager=less --exec-path=/opt/git status");
    let w = whats(&f, "git");
    assert_eq!(w.len(), 2, "{f:?}");
    assert!(w[0].contains("(`-c`)"), "{w:?}");
    assert!(w[1].contains("(`--exec-path`)"), "{w:?}");
}

#[test]
fn an_option_is_named_in_messages_as_it_was_given() {
    let f = analyze("node --eval 'x()'");
    assert_eq!(whats(&f, "node"), ["runs inline code (`--eval`)"], "{f:?}");
    // Each option by its own name, not the first of its row that was given.
    let f = analyze("node -p 1 --eval 2");
    assert_eq!(
        whats(&f, "node"),
        ["runs inline code (`-p`)", "runs inline code (`--eval`)"],
        "{f:?}"
    );
}

#[test]
fn a_long_option_s_separate_value_is_judged_as_its_own_word() {
    let f = analyze("curl --output out/*.html https://example.com");
    let out: Vec<_> = f.paths.iter().filter(|p| p.raw == "out/*.html").collect();
    assert!(!out.is_empty(), "{f:?}");
    assert!(
        out.iter().all(|p| p.role == PathRole::Write && p.glob),
        "{out:?}"
    );
    // A computed value is not a file name the table can judge.
    let f = analyze("curl --output \"$F\" https://example.com");
    assert!(!f.paths.iter().any(|p| p.raw.contains("$F")), "{f:?}");
}

/// The files curl sends are read: `-d @file`, `-F name=@file;type=…`, `-F name=<file`,
/// `--data-urlencode name@file`, and cookies from `-b file` (a value with `=` is a cookie).
#[test]
fn curl_reads_the_files_it_sends() {
    for (line, want) in [
        ("curl -d @body.json https://x", vec!["body.json"]),
        ("curl -F upload=@notes.txt https://x", vec!["notes.txt"]),
        (
            "curl -F 'upload=@notes.txt;type=text/plain' https://x",
            vec!["notes.txt"],
        ),
        ("curl -F 'text=<notes.txt' https://x", vec!["notes.txt"]),
        (
            "curl --data-urlencode name@notes.txt https://x",
            vec!["notes.txt"],
        ),
        ("curl -b cookies.txt https://x", vec!["cookies.txt"]),
        ("curl -b a=b https://x", vec![]),
        ("curl -d a=b https://x", vec![]),
    ] {
        let f = analyze(line);
        let read: Vec<_> = f
            .paths
            .iter()
            .filter(|p| p.command == "curl" && p.role == PathRole::Read)
            .map(|p| p.raw.as_str())
            .collect();
        assert_eq!(read, want, "{line}: {f:?}");
    }
}

/// A long option of a command whose short options are a list takes its value from the next
/// word (`wget --output-document FILE`).
#[test]
fn a_separate_long_option_value_is_found_for_short_option_commands() {
    let f = analyze("wget --output-document page.html https://example.com/x");
    assert!(
        f.paths
            .iter()
            .any(|p| p.raw == "page.html" && p.role == PathRole::Write),
        "{f:?}"
    );
}
