//! What a `git` command line can do beyond its name: global options that set configuration
//! (which can name commands to run) or a directory of git programs, and the subcommands that
//! run commands, read through every spelling of the global options before them.

use super::facts::can;
use pryx_policy::shell::{Capability, PathRole, analyze};

#[test]
fn global_options_that_set_configuration_or_programs_run_code() {
    for line in [
        "git -c core.pager=id log",
        "git -ccore.pager=id log",
        "git --config-env core.pager=P log",
        "git --config-env=core.pager=P log",
        "git --exec-path=/tmp/x status",
        "git -C src -c core.pager=id log",
    ] {
        assert!(can(&analyze(line), Capability::Exec), "{line}");
    }
    // Options that take a value skip it: the value is not the subcommand.
    for line in [
        "git status",
        "git -C src status",
        "git --git-dir .git status",
        "git --work-tree src status",
        "git --namespace ns log",
        "git -p log",
    ] {
        assert!(!can(&analyze(line), Capability::Exec), "{line}");
    }
}

#[test]
fn subcommands_that_run_commands_are_found_after_any_global_options() {
    for line in [
        "git instaweb",
        "git web--browse http://x",
        "git -C src instaweb",
        "git --git-dir .git difftool",
        "git --work-tree src mergetool",
        "git --namespace ns filter-branch --tree-filter 'rm x'",
        "git --super-prefix p/ submodule foreach id",
        "git --list-cmds main bisect run ./t.sh",
        "git --attr-source HEAD rebase --exec id main",
        "git -c x.y=1 --no-pager instaweb",
    ] {
        assert!(can(&analyze(line), Capability::Exec), "{line}");
    }
}

#[test]
fn config_changes_run_code_and_config_reads_do_not() {
    for line in [
        "git config set core.pager id",
        "git config unset core.pager",
        "git config core.pager id",
        "git config --add core.pager id",
        "git config --unset core.pager",
        "git config --file .gitconfig core.pager id",
        "git config -f x core.pager id",
        "git config edit",
    ] {
        assert!(can(&analyze(line), Capability::Exec), "{line}");
    }
    for line in [
        "git config get core.pager",
        "git config list",
        "git config core.pager",
        "git config --get core.pager",
        "git config --get=core.pager x",
        // A value pattern after the name is a second operand, still a read.
        "git config --get core.pager 'l.*'",
        "git config --get-all core.pager 'l.*'",
        "git config --list",
        "git config --file .gitconfig core.pager",
    ] {
        assert!(!can(&analyze(line), Capability::Exec), "{line}");
    }
}

#[test]
fn rebase_exec_is_found_in_every_spelling() {
    for line in [
        "git rebase --exec id main",
        "git rebase --exec=id main",
        "git rebase --ex id main",
        "git rebase -x id main",
        "git rebase -ix id main",
    ] {
        assert!(can(&analyze(line), Capability::Exec), "{line}");
    }
    for line in [
        "git rebase main",
        "git rebase -i main",
        "git rebase --e main",
    ] {
        assert!(!can(&analyze(line), Capability::Exec), "{line}");
    }
}

#[test]
fn submodules_that_fetch_and_outputs_that_write() {
    for line in [
        "git submodule update --init",
        "git submodule add https://x/y",
        "git submodule sync",
    ] {
        assert!(can(&analyze(line), Capability::Fetch), "{line}");
    }
    assert!(!can(&analyze("git submodule status"), Capability::Fetch));
    for line in [
        "git diff --output=out.patch",
        "git diff --output out.patch",
        "git log -o out.patch",
        "git format-patch -o out.patch HEAD~1",
    ] {
        let f = analyze(line);
        assert!(
            f.paths
                .iter()
                .any(|p| p.raw == "out.patch" && p.role == pryx_policy::shell::PathRole::Write),
            "{line}: {f:?}"
        );
    }
}

/// A capability names the word that shows it: an allow-list prefix grants it only when it
/// includes that word. Global options and flags before it shift it.
#[test]
fn a_capability_points_at_the_word_that_shows_it() {
    for (line, word, capability) in [
        (
            "git -C sub submodule --quiet foreach id",
            "foreach",
            Capability::Exec,
        ),
        (
            "git -C sub submodule --quiet update",
            "update",
            Capability::Fetch,
        ),
        (
            "git -C sub archive -v --remote=origin HEAD",
            "--remote=origin",
            Capability::Fetch,
        ),
        (
            "git -C sub archive -v --exec=x --remote=o HEAD",
            "--exec=x",
            Capability::Exec,
        ),
        ("git -C sub remote -v update", "update", Capability::Fetch),
        ("git -C sub fetch -q ext::sh", "ext::sh", Capability::Exec),
    ] {
        let f = analyze(line);
        let git = &f.commands[0];
        assert!(
            git.powers.iter().any(|p| p.capability == capability
                && git.words.get(p.word).map(String::as_str) == Some(word)),
            "{line}: {:?}",
            git.powers
        );
    }
}

#[test]
fn an_output_option_writes_its_value_and_nothing_else() {
    for line in [
        "git diff --output out.patch HEAD",
        "git diff --output=out.patch HEAD",
        "git log -o out.patch HEAD",
    ] {
        let f = analyze(line);
        let written: Vec<_> = f
            .paths
            .iter()
            .filter(|p| p.strict && p.role == PathRole::Write)
            .map(|p| p.raw.as_str())
            .collect();
        assert_eq!(written, ["out.patch"], "{line}: {f:?}");
    }
    let f = analyze("git diff HEAD x.txt");
    assert!(
        f.paths
            .iter()
            .all(|p| !p.strict || p.role != PathRole::Write),
        "{f:?}"
    );
}
