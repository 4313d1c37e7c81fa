//! Commands that run other commands (`nice`, `ionice`, `stdbuf`, `timeout`, `exec`, `env`,
//! `sh -c`): the analysis looks through each spelling of their options to the command they run,
//! asks when it cannot, and counts each wrapper towards the nesting limit.

use super::facts::{asks_with, paths};
use pryx_policy::shell::{PathRole, ShellFacts, analyze};

fn names(f: &ShellFacts) -> Vec<&str> {
    f.commands
        .iter()
        .map(|c| c.words.first().map_or("", String::as_str))
        .collect()
}

#[test]
fn every_spelling_of_a_wrappers_options_leads_to_the_command_it_runs() {
    for line in [
        "nice -n 5 rm victim",
        "nice -- rm victim",
        "ionice -c 3 rm victim",
        "ionice -c3 rm victim",
        "ionice --class 3 rm victim",
        "stdbuf -o L rm victim",
        "stdbuf -oL rm victim",
        "timeout 5 rm victim",
        "timeout -s KILL 5 rm victim",
        "exec rm victim",
        "exec -a name rm victim",
        "command rm victim",
        "env rm victim",
        "env -i rm victim",
        "env -u HOME rm victim",
        "env --unset HOME rm victim",
        "env --unset=HOME rm victim",
        "env -uHOME rm victim",
        "env -- rm victim",
        "env A=1 rm victim",
        "sh -c 'rm victim'",
        "bash -xc 'rm victim'",
        "sh -e -c 'rm victim'",
        "bash -o errexit -c 'rm victim'",
        "bash +o posix -c 'rm victim'",
        "bash -O extglob -c 'rm victim'",
        "bash +O extglob -c 'rm victim'",
        "bash --rcfile x -c 'rm victim'",
        "bash --init-file x -c 'rm victim'",
        "bash -c -- 'rm victim'",
    ] {
        let f = analyze(line);
        assert_eq!(names(&f), ["rm"], "{line}: {f:?}");
        assert!(
            f.paths
                .iter()
                .any(|p| p.raw == "victim" && p.role == PathRole::Write),
            "{line}: {f:?}"
        );
        assert!(f.asks.is_empty(), "{line}: {:?}", f.asks);
    }
}

#[test]
fn a_wrapper_without_a_command_runs_only_itself() {
    for (line, name) in [
        ("nice", "nice"),
        ("nice -n 5", "nice"),
        ("timeout 5", "timeout"),
        ("stdbuf -o L", "stdbuf"),
        ("env", "env"),
        ("env -i", "env"),
        ("env -u HOME", "env"),
    ] {
        let f = analyze(line);
        assert_eq!(names(&f), [name], "{line}: {f:?}");
    }
    assert_eq!(names(&analyze("command -v rm")), ["command"]);
}

#[test]
fn what_a_wrapper_cannot_follow_asks() {
    for (line, why) in [
        ("ionice -p 1", "on other processes"),
        ("ionice -c 3 -u 0", "on other processes"),
        ("env -x rm victim", "is not supported"),
        ("env $OPTS rm victim", "computed at run time"),
        ("sh -c \"$CMD\"", "computed at run time"),
        ("bash $FLAGS -c 'rm victim'", "computed at run time"),
        ("sh -c", "without a command"),
        ("sh -c -- \"$CMD\"", "`sh -c` of text computed at run time"),
    ] {
        let f = analyze(line);
        assert!(asks_with(&f, why), "{line}: {:?}", f.asks);
    }
}

#[test]
fn each_wrapper_counts_towards_the_nesting_limit() {
    for wrapper in ["nice ", "env ", "exec ", "timeout 5 "] {
        let f = analyze(&format!("{}rm victim", wrapper.repeat(12)));
        assert!(asks_with(&f, "nest too deeply"), "{wrapper}: {f:?}");
    }
    let mut line = "rm victim".to_string();
    for _ in 0..9 {
        line = format!("sh -c '{}'", line.replace('\'', r"'\''"));
    }
    let f = analyze(&line);
    assert!(asks_with(&f, "nest too deeply"), "{f:?}");
}

#[test]
fn find_reads_its_starting_points_and_writes_them_with_delete() {
    for (line, want) in [
        ("find", vec![(".", PathRole::Read)]),
        ("find -name x", vec![(".", PathRole::Read)]),
        ("find '(' -name x ')'", vec![(".", PathRole::Read)]),
        ("find ! -name x", vec![(".", PathRole::Read)]),
        ("find . -name '*.rs'", vec![(".", PathRole::Read)]),
        (
            "find a b -type f",
            vec![("a", PathRole::Read), ("b", PathRole::Read)],
        ),
        (
            "find src -newer ref/x.txt",
            vec![("src", PathRole::Read), ("ref/x.txt", PathRole::Read)],
        ),
        ("find src -delete", vec![("src", PathRole::Write)]),
        // What `-exec` runs ends at `;`; an action after it still counts.
        (
            "find src -exec true {} \\; -delete",
            vec![("src", PathRole::Write)],
        ),
    ] {
        let f = analyze(line);
        assert_eq!(paths(&f), want, "{line}: {f:?}");
    }
    let f = analyze("find . -exec rm victim \\;");
    assert!(names(&f).contains(&"rm"), "{f:?}");
    assert!(paths(&f).contains(&("victim", PathRole::Write)), "{f:?}");
    // The file `-fprint` writes is the table's to judge, not a path find reads.
    let f = analyze("find . -fprint out/list.txt");
    assert!(
        !paths(&f).contains(&("out/list.txt", PathRole::Read)),
        "{f:?}"
    );
    let written: Vec<_> = f
        .paths
        .iter()
        .filter(|p| p.role == PathRole::Write)
        .map(|p| p.raw.as_str())
        .collect();
    assert_eq!(written, ["out/list.txt"], "{f:?}");
    // A computed file name is not judged as a name (the computed word asks), and a wildcard
    // in it is seen.
    let f = analyze("find . -fprint \"$OUT\"");
    assert!(f.paths.iter().all(|p| !p.raw.contains("OUT")), "{f:?}");
    let f = analyze("find . -fprint out/*.txt");
    assert!(
        f.paths
            .iter()
            .any(|p| p.raw == "out/*.txt" && p.role == PathRole::Write && p.glob),
        "{f:?}"
    );
    for line in ["find $DIR -name x", "find . -name $X"] {
        let f = analyze(line);
        assert!(
            asks_with(&f, "computed at run time"),
            "{line}: {:?}",
            f.asks
        );
    }
}

#[test]
fn cd_goes_where_it_says_or_asks() {
    for (line, want) in [
        ("cd src", "src"),
        ("cd -P src", "src"),
        ("cd -L -- src", "src"),
        ("cd", "~"),
        ("pushd src", "src"),
    ] {
        let f = analyze(line);
        assert_eq!(paths(&f), [(want, PathRole::Cd)], "{line}: {f:?}");
        assert!(f.asks.is_empty(), "{line}: {:?}", f.asks);
    }
    for (line, why) in [
        ("cd $DIR", "computed at run time"),
        ("cd {a,b}", "computed at run time"),
        ("cd -", "returns to a directory"),
        ("popd", "returns to a directory"),
    ] {
        let f = analyze(line);
        assert!(asks_with(&f, why), "{line}: {:?}", f.asks);
        assert!(f.paths.is_empty(), "{line}: {:?}", f.paths);
    }
}

#[test]
fn a_shell_s_options_end_where_its_script_begins() {
    for (line, script) in [
        ("sh job.sh", "job.sh"),
        // A lone `-` ends the options, as `--` does.
        ("sh - job.sh", "job.sh"),
        // Options without `c`, short or long, do not make the script a command line.
        ("sh -e job.sh", "job.sh"),
        ("bash --norc job.sh", "job.sh"),
        ("bash --noprofile job.sh", "job.sh"),
        // A lone `+` is a file name.
        ("sh +", "+"),
    ] {
        let f = analyze(line);
        assert_eq!(
            names(&f),
            [line.split(' ').next().unwrap()],
            "{line}: {f:?}"
        );
        assert_eq!(paths(&f), [(script, PathRole::Read)], "{line}: {f:?}");
        assert!(
            asks_with(&f, "runs a script file the policy cannot see"),
            "{line}: {f:?}"
        );
    }
    // With nothing after `-` it reads its input.
    let f = analyze("sh -");
    assert!(asks_with(&f, "reads commands from its input"), "{f:?}");
}

#[test]
fn find_exec_counts_towards_the_nesting_limit_and_ends_at_its_terminator() {
    let line = format!("{}rm victim", "find . -exec ".repeat(12));
    let f = analyze(&line);
    assert!(asks_with(&f, "nest too deeply"), "{f:?}");
    // The words of the command `-exec` runs are not find's own.
    let f = analyze("find . -exec cat x/y \\; -name z");
    let own: Vec<_> = f
        .paths
        .iter()
        .filter(|p| p.command == "find")
        .map(|p| p.raw.as_str())
        .collect();
    assert_eq!(own, ["."], "{f:?}");
}
