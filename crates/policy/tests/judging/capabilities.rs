//! Commands that run code, write files the path rules do not see, or reach the network pass an
//! allow-list only when it names that capability (`awk:exec`); writes to files that make other
//! commands run code ask unless the allowing rule names them.

use std::path::{Path, PathBuf};

use pryx_policy::{Action, CallContext, Decision, Policy, evaluate, parse_policy};
use pryx_protocol::ToolKind;
use serde_json::json;

/// The allow-list of a user who lets the agent use everyday tools.
const EVERYDAY: &str = "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [awk, sed, sort, find, xargs, git, tar, env, nice, timeout, python3, node, deno, perl, ruby, bash, make, vim, less, man, echo, tee, cp, mv, dd, uniq, xxd]}\n";

fn ws() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(root.join("w/src")).unwrap();
    std::fs::create_dir_all(root.join("w/.git/hooks")).unwrap();
    std::fs::write(root.join("w/src/main.rs"), "").unwrap();
    std::fs::write(root.join("w/f"), "").unwrap();
    (dir, root.join("w"))
}

fn policy(yaml: &str) -> Policy {
    parse_policy(yaml, Path::new("t.yaml")).unwrap()
}

fn shell(p: &Policy, ws: &Path, cmd: &str) -> Decision {
    let args = json!({ "command": cmd });
    evaluate(
        p,
        &CallContext::new("shell.exec", ToolKind::Exec, &args, ws, None),
    )
}

fn write(p: &Policy, ws: &Path, path: &str) -> Decision {
    let args = json!({ "path": path, "content": "" });
    evaluate(
        p,
        &CallContext::new("fs.write", ToolKind::Write, &args, ws, None),
    )
}

/// Every example runs code, writes where the rules cannot see, or reaches the network.
const RUN_CODE: &[&str] = &[
    "awk 'BEGIN{system(\"id\")}'",
    "awk '{print | \"sh\"}' f",
    "awk 'BEGIN{\"id\" | getline x; print x}'",
    "awk '{print > \"out\"}' f",
    "awk -f prog.awk f",
    "awk -- 'BEGIN{system(\"id\")}'",
    "deno eval 'Deno.exit()'",
    "deno repl",
    "awk \"$PROG\" f",
    "sed -n '1e id' f",
    "sed --expression 's/x/y/w out' f",
    "sed 's/.*/id/e' f",
    "sed 's/x/y/w out' f",
    "sed -n 'w out' f",
    "sed -f script.sed f",
    "find . -exec sh -c id \\;",
    "find . -execdir sed -n p {} +",
    "find . -ok sort {} \\;",
    "find . -name x -delete",
    "echo f | xargs sort",
    "sort -o .git/config f",
    "sort --compress-program=id f",
    "git -c core.pager='sh -c id' log",
    "git -c alias.x='!id' x",
    "git --config-env=core.pager=EVIL log",
    "git --exec-path=/tmp log",
    "git ls-remote --upload-pack='sh -c id' origin",
    "git fetch --upload-pack='sh -c id' origin",
    "git push --receive-pack='sh -c id' origin",
    "git clone -u 'sh -c id' https://example.com/r",
    "git config core.fsmonitor 'sh -c id'",
    "git config --global core.pager id",
    "git submodule foreach id",
    "git bisect run id",
    "git rebase --exec id main",
    "git rebase -x id main",
    "git filter-branch --tree-filter id",
    "git difftool",
    "git mergetool",
    "git diff --ext-diff",
    "git pull",
    "tar --to-command=id -xf a.tar",
    "tar -cf a.tar --checkpoint=1 --checkpoint-action=exec=id f",
    "tar -I 'sh -c id' -cf a.tar f",
    "tar -xf a.tar",
    "python3 -c 'import os'",
    "python3 -",
    "python3 <<'EOF'\nimport os\nEOF",
    "python3 <(echo 'import os')",
    "node -e 'require(\"child_process\")'",
    "node -p 1",
    "node --eval 1",
    "perl -e 'system(\"id\")'",
    "perl -ne 'print' f",
    "ruby -e 'system(\"id\")'",
    "bash -c id",
    "make",
    "make -C src all",
    "vim -c '!id'",
    "vim +'!id' f",
    "vim -S session.vim",
    "less '+!id' f",
    "less -k keys f",
    "LESSOPEN='|id %s' less f",
    "man -P 'sh -c id' ls",
    "man --pager=id ls",
    "man -H ls",
    "trap 'id' EXIT",
    "trap 'awk \"BEGIN{system(1)}\"' EXIT",
    "f() { id; }; f",
    "function f { sort f; }; f",
    "(f() { sort f; }); f",
    "sort() { :; }; unset -f sort; sort f",
    "alias x='id'",
    "eval 'awk \"BEGIN{system(1)}\"'",
    "env python3 -c 1",
    "nice make",
    "timeout 5 node -e 1",
    "env PAGER=id git log",
    "GIT_CONFIG_PARAMETERS=\"'core.pager'='id'\" git log",
];

#[test]
fn commands_that_run_code_ask() {
    let (_d, w) = ws();
    let p = policy(EVERYDAY);
    let mut wrong = Vec::new();
    for cmd in RUN_CODE {
        let d = shell(&p, &w, cmd);
        println!("{cmd:<60} {:<5} {}", d.action.as_str(), d.reason);
        if d.action != Action::Ask {
            wrong.push(format!("{cmd}: {d:?}"));
        }
    }
    assert!(wrong.is_empty(), "not asked:\n{}", wrong.join("\n"));
}

#[test]
fn harmless_uses_still_pass() {
    let (_d, w) = ws();
    let p = policy(EVERYDAY);
    for cmd in [
        "awk '{print $1}' f",
        "awk -F: '{ print $1 > \"/dev/stderr\" }' f",
        "awk '$1 > 3 { n++ } END { print n }' f",
        "awk '/^#/ { print $2 }' f",
        "awk -F/ -v x=/etc '{ print $NF }' f",
        "awk -- '{ print $1 }' f",
        "deno run main.ts",
        "sed -n '/^#/p' f",
        "sed --expression 's/a/b/' f",
        "sed -e '/x/d' -e 's|/usr|/opt|' f",
        "sed -n 1p f",
        "sed -i s/a/b/ src/main.rs",
        "sort f",
        "sort -o out.txt f",
        "find . -name '*.rs'",
        "find src -type f -newer f",
        "git status",
        "git log --oneline -5",
        "git diff HEAD~1",
        "git config --get user.name",
        "git -C src status",
        "tar -tf a.tar",
        "tar -czf a.tgz src",
        "env A=1 sort f",
        "nice -n 5 sort f",
        "timeout 5 sort f",
        "python3 script.py -c x",
        "python3 -m pytest",
        "node app.js",
        "perl script.pl",
        "ruby script.rb",
        "bash -c 'sort f'",
        "vim --version",
        "less f",
        "less +G f",
        "man ls",
        "make --version",
        "trap 'sort f' EXIT",
        "f() { sort f; }; f; f",
        "echo x > out.txt",
        "echo x | tee out.txt",
        "cp f g",
        "dd if=f of=g",
    ] {
        let d = shell(&p, &w, cmd);
        assert_eq!(d.action, Action::Allow, "{cmd}: {d:?}");
    }
}

#[test]
fn a_named_capability_lets_it_pass_and_the_reason_says_how() {
    let (_d, w) = ws();
    let p = policy(EVERYDAY);
    let d = shell(&p, &w, "awk 'BEGIN{system(\"id\")}'");
    assert_eq!(d.rule, "t: tools.allowed[shell.exec]");
    assert_eq!(
        d.reason,
        "`awk` program can run commands (`system()`); allow `awk:exec` to let it pass"
    );
    assert_eq!(d.details["capabilities"], json!(["awk:exec"]));
    let d = shell(&p, &w, "find . -exec sed -n p {} +");
    assert!(d.reason.contains("allow `find:exec`"), "{}", d.reason);
    let d = shell(&p, &w, "python3 -c 1 && make");
    assert!(
        d.reason.contains("`python3:exec`") && d.reason.contains("`make:exec`"),
        "{}",
        d.reason
    );

    let granted = policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [awk, 'awk:exec', 'find:exec', 'sed:write', sed, 'python3 -c', 'make:exec', 'curl:fetch', 'git:fetch', git]}\n",
    );
    for cmd in [
        "awk 'BEGIN{system(\"id\")}'",
        "find . -exec sed -n p {} +",
        "sed 's/x/y/w out' f",
        "python3 -c 1",
        "make",
        "curl https://example.com",
        "git pull",
    ] {
        let d = shell(&granted, &w, cmd);
        assert_eq!(d.action, Action::Allow, "{cmd}: {d:?}");
    }
    // Granting one capability grants nothing else.
    for cmd in [
        "awk '{print > \"out\"}' f",
        "python3 -",
        "curl -O https://example.com/x",
        "sed -n '1e id' f",
    ] {
        let d = shell(&granted, &w, cmd);
        assert_eq!(d.action, Action::Ask, "{cmd}: {d:?}");
    }
    // A capability never lifts the path rules: the file written is still judged.
    let d = shell(&granted, &w, "sed 's/x/y/w /etc/x' f");
    assert_eq!(d.action, Action::Deny, "{d:?}");
    let d = shell(
        &granted,
        &w,
        "awk 'BEGIN{while((getline l < \"/etc/shadow\")>0) print l}'",
    );
    assert_eq!(d.action, Action::Deny, "{d:?}");
}

#[test]
fn deny_and_ask_rules_still_win() {
    let (_d, w) = ws();
    let p = policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [awk, 'awk:exec', python3, 'python3:exec']}\n  denied:\n    - shell.exec: {commands: ['awk:exec']}\n  ask:\n    - shell.exec: {commands: ['python3:exec']}\n",
    );
    assert_eq!(shell(&p, &w, "awk '{print}' f").action, Action::Allow);
    let d = shell(&p, &w, "awk 'BEGIN{system(\"id\")}'");
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Deny, "t: tools.denied[shell.exec]")
    );
    assert_eq!(shell(&p, &w, "python3 x.py").action, Action::Allow);
    let d = shell(&p, &w, "python3 -c 1");
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Ask, "t: tools.ask[shell.exec]")
    );
}

#[test]
fn writing_code_bearing_files_asks_unless_named() {
    let (_d, w) = ws();
    let p = policy(EVERYDAY);
    for cmd in [
        "echo x > .git/hooks/pre-commit",
        "echo '[core] fsmonitor = id' >> .git/config",
        "echo x | tee .envrc",
        "cp f package.json",
        "mv f .github/workflows/ci.yml",
        "sed -i s/a/b/ Makefile",
        "sed -ni p Makefile",
        "awk '{print > \"build.rs\"}' f",
        "sort -o .gitattributes f",
        "dd if=f of=.gitmodules",
        "cp f .git/hooks/*",
        "echo x > sub/GNUmakefile",
        "echo x > .pre-commit-config.yaml",
        "cp --target-directory=.git f",
        "uniq f Makefile",
        "xxd -r f build.rs",
    ] {
        let d = shell(&p, &w, cmd);
        assert_eq!(d.action, Action::Ask, "{cmd}: {d:?}");
        assert_eq!(d.rule, "t: code-bearing file", "{cmd}: {d:?}");
        assert!(
            d.reason.contains("makes other commands run code"),
            "{cmd}: {}",
            d.reason
        );
    }
    // A link that leads to a code-bearing file counts as that file, also behind a wildcard.
    std::os::unix::fs::symlink(w.join(".git/config"), w.join("cfg")).unwrap();
    for cmd in ["echo x > cfg", "echo x > c?g"] {
        let d = shell(&p, &w, cmd);
        assert_eq!(d.action, Action::Ask, "{cmd}: {d:?}");
    }
    let anywhere = policy("name: t\ntools:\n  allowed:\n    - fs.write: {paths: ['**']}\n");
    for path in [
        "Makefile",
        ".github/workflows/ci.yml",
        ".git/config",
        "a/package.json",
    ] {
        let d = write(&anywhere, &w, path);
        assert_eq!(d.action, Action::Ask, "{path}: {d:?}");
    }
    assert_eq!(write(&anywhere, &w, "src/lib.rs").action, Action::Allow);
    let named = policy(
        "name: t\ntools:\n  allowed:\n    - fs.write: {paths: ['**', Makefile, '.github/workflows/*']}\n",
    );
    assert_eq!(write(&named, &w, "Makefile").action, Action::Allow);
    assert_eq!(
        write(&named, &w, ".github/workflows/ci.yml").action,
        Action::Allow
    );
    assert_eq!(write(&named, &w, "package.json").action, Action::Ask);
    let shell_named = policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [echo], paths: ['**', Makefile]}\n",
    );
    assert_eq!(
        shell(&shell_named, &w, "echo 'all:' > Makefile").action,
        Action::Allow
    );
    assert_eq!(
        shell(&shell_named, &w, "echo x > .envrc").action,
        Action::Ask
    );
}
