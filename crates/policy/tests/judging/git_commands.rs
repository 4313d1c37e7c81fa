//! What a `git` command line can do beyond its name: global options that set configuration
//! (which can name commands to run) or a directory of git programs, and the subcommands that
//! run commands, read through every spelling of the global options before them.

use pryx_policy::shell::{Capability, ShellFacts, analyze};

fn can_exec(f: &ShellFacts) -> bool {
    f.commands
        .iter()
        .flat_map(|c| &c.powers)
        .any(|p| p.capability == Capability::Exec)
}

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
        assert!(can_exec(&analyze(line)), "{line}");
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
        assert!(!can_exec(&analyze(line)), "{line}");
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
        assert!(can_exec(&analyze(line)), "{line}");
    }
}
