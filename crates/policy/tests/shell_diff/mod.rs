//! Our shell parser against `brush-parser` (the parser of the brush shell), with `bash -n` as the
//! oracle for whether a line is valid syntax at all.
//!
//! Both sides are reduced to the same form: every simple command (including those in
//! subshells, groups, compound commands, function bodies and substitutions) as its assignment
//! names, its words after quote removal, and its redirections; a word that expands at run time
//! is [`DYNAMIC`]. The lists are compared as sorted lists, since the two walk nested commands in
//! different orders.

pub mod brush;
pub mod corpus;

use std::io::Write;
use std::process::{Command, Stdio};

use pryx_policy::shell::{RedirectKind, parse};

/// A word whose value is only known at run time.
pub const DYNAMIC: &str = "<dynamic>";

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cmd {
    pub assigns: Vec<String>,
    pub words: Vec<String>,
    /// (`r` read, `w` write, `d` descriptor, `h` here-doc delimiter, `s` here-string, target).
    pub redirects: Vec<(char, String)>,
}

/// Our parser's commands and the problems it reported.
pub fn ours(src: &str) -> (Vec<Cmd>, Vec<String>) {
    let script = parse(src);
    let word = |w: &pryx_policy::shell::Word| {
        if w.literal {
            w.text.clone()
        } else {
            DYNAMIC.to_string()
        }
    };
    let cmds = script
        .commands
        .iter()
        .map(|c| Cmd {
            assigns: c
                .assignments
                .iter()
                .map(|a| {
                    a.text
                        .split(['=', '+', '['])
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .collect(),
            words: c.words.iter().map(word).collect(),
            redirects: c
                .redirects
                .iter()
                .map(|r| {
                    let kind = match r.kind {
                        RedirectKind::Read => 'r',
                        RedirectKind::Write => 'w',
                        RedirectKind::Descriptor => 'd',
                        RedirectKind::HereDoc => 'h',
                        RedirectKind::HereString => 's',
                    };
                    (kind, word(&r.target))
                })
                .collect(),
        })
        .collect();
    (cmds, script.problems)
}

/// How the two parsers' answers for one line relate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same commands, or both refuse.
    Agree,
    /// Different, but ours reported a problem: the policy asks a person (the safe answer).
    OursAsks,
    /// `bash -n` refuses the line and so does ours (problem) or brush; nothing to compare.
    Invalid,
    /// brush cannot parse a line bash accepts; ours answered without a problem.
    BrushFails(String),
    /// Ours finds every command brush finds, and more (text bash reads as arithmetic, say):
    /// the extra commands can only make the policy stricter.
    OursFindsMore,
    /// Different commands and ours reported no problem: a possible policy bypass.
    Differ { ours: Vec<Cmd>, brush: Vec<Cmd> },
}

/// Drops what the policy does not judge: descriptor duplications (`2>&1`, and the one brush
/// adds for `|&`) touch no file.
fn judged(mut cmds: Vec<Cmd>) -> Vec<Cmd> {
    for c in &mut cmds {
        c.redirects.retain(|(kind, _)| *kind != 'd');
    }
    cmds.retain(|c| !(c.words.is_empty() && c.assigns.is_empty() && c.redirects.is_empty()));
    cmds.sort();
    cmds
}

pub fn judge(src: &str, bash_ok: bool) -> Verdict {
    let (mine, problems) = ours(src);
    let mine = judged(mine);
    let theirs = brush::commands(src).map(judged);
    match theirs {
        Ok(theirs) => {
            if theirs == mine && (problems.is_empty() || !bash_ok) {
                Verdict::Agree
            } else if !problems.is_empty() {
                Verdict::OursAsks
            } else if !bash_ok {
                Verdict::Invalid
            } else if contains_all(&mine, &theirs) {
                Verdict::OursFindsMore
            } else {
                Verdict::Differ {
                    ours: mine,
                    brush: theirs,
                }
            }
        }
        Err(e) => {
            if !problems.is_empty() {
                Verdict::OursAsks
            } else if !bash_ok {
                Verdict::Invalid
            } else {
                Verdict::BrushFails(e)
            }
        }
    }
}

/// Every command of `part` (a sorted list) is in `whole` (a sorted list), counting repeats.
fn contains_all(whole: &[Cmd], part: &[Cmd]) -> bool {
    let mut rest = whole.iter();
    part.iter().all(|c| rest.by_ref().any(|w| w == c))
}

/// `bash -n` on each line, in one bash process (a function per line keeps errors apart).
pub fn bash_accepts(lines: &[String]) -> Vec<bool> {
    let mut script = String::new();
    for (i, line) in lines.iter().enumerate() {
        // Each line is checked by a child `bash -n` reading it from a here-document with a
        // delimiter no line contains.
        script.push_str(&format!(
            "bash -n <<'PRYX_END_OF_LINE_{i}' 2>/dev/null && echo {i}\n{line}\nPRYX_END_OF_LINE_{i}\n"
        ));
    }
    let mut child = Command::new("bash")
        .arg("-s")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("bash is the syntax oracle");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(script.as_bytes());
    });
    let out = child.wait_with_output().expect("bash -n runs");
    let _ = writer.join();
    let mut ok = vec![false; lines.len()];
    for n in String::from_utf8_lossy(&out.stdout).lines() {
        if let Ok(i) = n.trim().parse::<usize>()
            && i < ok.len()
        {
            ok[i] = true;
        }
    }
    ok
}
