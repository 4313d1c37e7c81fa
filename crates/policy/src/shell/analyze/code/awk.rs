//! awk programs: what they run (`system()`, pipes), write (`print > file`) and read
//! (`getline < file`). The program is split into tokens the way awk does, so strings and regular
//! expressions are not mistaken for code; what cannot be read that way counts as running code.

use super::{Args, Capability, Found, STREAMS};
use crate::shell::PathRole;

/// What an awk program does besides reading its input and printing.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Program {
    /// How it runs commands: "`system()`", "`| getline`", "`print |`", "`|&`", "`@load`"…
    pub runs: Vec<&'static str>,
    /// Files written by `print >`/`>>`: the name, or `None` if computed at run time.
    pub writes: Vec<Option<String>>,
    /// Files read by `getline <`: the name, or `None` if computed at run time.
    pub reads: Vec<Option<String>>,
    /// Uses gawk's network special files (`/inet/…`).
    pub network: bool,
    /// Why the program could not be read, if it could not.
    pub unreadable: Option<String>,
}

/// The program texts: `-e`/`--source` values, or else the first operand unless the program
/// comes from a file (which the table counts).
fn programs<'w>(args: &Args<'w>) -> Vec<(&'w str, usize)> {
    let mut programs: Vec<(&str, usize)> = args
        .opt(&["-e", "--source"])
        .into_iter()
        .filter_map(|(v, _)| v)
        .collect();
    if programs.is_empty()
        && !args.has(&["-f", "--file", "-E", "--exec"])
        && let Some(first) = args.operands().next()
    {
        programs.push(first);
    }
    programs
}

/// Words that are not file names: the programs, `-v` assignments, `-F` separators, `-W` options.
pub(super) fn program_words(args: &Args<'_>) -> Vec<usize> {
    let values = args
        .opt(&["-v", "--assign", "-F", "--field-separator", "-W"])
        .into_iter()
        .filter_map(|(v, _)| v.map(|(_, at)| at));
    programs(args)
        .into_iter()
        .map(|(_, at)| at)
        .chain(values)
        .collect()
}

/// awk, gawk, mawk: what the programs run, write and read.
pub(super) fn inspect(name: &str, args: &Args<'_>, found: &mut Found) {
    for (text, at) in programs(args) {
        if !args.literal(at) {
            continue; // a computed argument asks already
        }
        apply(&scan(text), at, found);
    }
    // gawk's sandbox turns off system(), redirections and extensions; other awks would ignore
    // or refuse the option, so only gawk by name counts.
    if name == "gawk" && args.has(&["-S", "--sandbox"]) {
        found.powers.clear();
    }
}

fn apply(p: &Program, at: usize, found: &mut Found) {
    let at = Some(at);
    if !p.runs.is_empty() {
        let how = p.runs.join(", ");
        found.can(
            Capability::Exec,
            format!("program can run commands ({how})"),
            at,
        );
    }
    if let Some(why) = &p.unreadable {
        found.can(
            Capability::Exec,
            format!("program is not understood ({why}), so it may run commands"),
            at,
        );
    }
    if p.network {
        found.can(
            Capability::Fetch,
            "program reaches the network (`/inet`)",
            at,
        );
    }
    let mut writes = false;
    for w in &p.writes {
        match w {
            Some(f) if STREAMS.contains(&f.as_str()) => {}
            Some(f) if f.starts_with("/inet") => {}
            Some(f) => {
                writes = true;
                found.file(f, PathRole::Write, false);
            }
            None => writes = true,
        }
    }
    if writes {
        found.can(Capability::Write, "program writes files (`print >`)", at);
    }
    for r in &p.reads {
        match r {
            Some(f) if f.starts_with("/inet") => {}
            Some(f) => found.file(f, PathRole::Read, false),
            None => found.ask("`awk` program reads a file named at run time (`getline <`)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Num,
    /// A string constant; `None` if it has escapes other than `\"`, `\\`, `\/`.
    Str(Option<String>),
    Regex,
    Punct(&'static str),
    Newline,
}

const PUNCT2: &[&str] = &[
    "||", "&&", "|&", ">>", "<=", ">=", "==", "!=", "!~", "++", "--", "+=", "-=", "*=", "/=", "%=",
    "^=", "**",
];
const PUNCT1: &[&str] = &[
    "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "|", "!", "~", "+", "-", "*", "/", "%", "^",
    "?", ":", "=", "$", "@", "&",
];

/// Reads an awk program: what it runs, writes and reads.
pub(super) fn scan(src: &str) -> Program {
    let mut p = Program::default();
    let toks = match lex(src) {
        Ok(t) => t,
        Err(e) => {
            p.unreadable = Some(e);
            return p;
        }
    };
    let mut in_print = false;
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate() {
        let next = toks.get(k + 1);
        match t {
            Tok::Ident(n) if n == "system" => push(&mut p.runs, "`system()`"),
            Tok::Punct("|") => match next {
                Some(Tok::Ident(g)) if g == "getline" => push(&mut p.runs, "`| getline`"),
                _ => push(&mut p.runs, "`print |`"),
            },
            Tok::Punct("|&") => push(&mut p.runs, "`|&`"),
            Tok::Punct("@") => match next {
                Some(Tok::Ident(d)) if d == "include" => push(&mut p.runs, "`@include`"),
                Some(Tok::Ident(d)) if d == "load" => push(&mut p.runs, "`@load`"),
                _ => {}
            },
            Tok::Ident(n) if n == "print" || n == "printf" => {
                in_print = true;
                depth = 0;
            }
            // Nesting is counted everywhere; `print` starts it again from zero.
            Tok::Punct("(" | "[") => depth += 1,
            Tok::Punct(")" | "]") => depth -= 1,
            Tok::Punct(";" | "{" | "}") | Tok::Newline => in_print = false,
            Tok::Punct(">" | ">>") if in_print && depth <= 0 => {
                let target = target(&toks, k + 1);
                p.network |= target.as_deref().is_some_and(|f| f.starts_with("/inet"));
                p.writes.push(target);
                in_print = false;
            }
            Tok::Ident(n) if n == "getline" => {
                if let Some(j) = input_redirect(&toks, k + 1) {
                    match toks.get(j) {
                        // The file operands, already judged.
                        Some(Tok::Ident(v)) if v == "FILENAME" || v == "ARGV" => {}
                        _ => {
                            let target = target(&toks, j);
                            p.network |= target.as_deref().is_some_and(|f| f.starts_with("/inet"));
                            p.reads.push(target);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    p
}

fn push(v: &mut Vec<&'static str>, s: &'static str) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// After `getline [var]`: the index of the token after `<`, if input is redirected.
fn input_redirect(toks: &[Tok], mut j: usize) -> Option<usize> {
    match toks.get(j) {
        Some(Tok::Ident(_)) => {
            j += 1;
            if toks.get(j) == Some(&Tok::Punct("[")) {
                let mut depth = 0;
                while let Some(t) = toks.get(j) {
                    j += 1;
                    match t {
                        Tok::Punct("[") => depth += 1,
                        Tok::Punct("]") => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        Some(Tok::Punct("$")) => j += 2,
        _ => {}
    }
    (toks.get(j) == Some(&Tok::Punct("<"))).then_some(j + 1)
}

/// A redirection target: a string constant not joined to more text, or else computed (`None`).
fn target(toks: &[Tok], j: usize) -> Option<String> {
    let Some(Tok::Str(Some(s))) = toks.get(j) else {
        return None;
    };
    let joined = matches!(
        toks.get(j + 1),
        Some(Tok::Str(_) | Tok::Num | Tok::Ident(_) | Tok::Regex | Tok::Punct("$" | "(" | "!"))
    );
    (!joined).then(|| s.clone())
}

/// Words after which `/` starts a regular expression rather than a division.
const KEYWORDS: &[&str] = &[
    "print",
    "printf",
    "return",
    "case",
    "do",
    "else",
    "in",
    "if",
    "while",
    "for",
    "delete",
    "exit",
    "next",
    "nextfile",
    "function",
    "func",
    "BEGIN",
    "END",
    "BEGINFILE",
    "ENDFILE",
];

fn regex_may_start(prev: Option<&Tok>) -> bool {
    match prev {
        None | Some(Tok::Newline) => true,
        Some(Tok::Punct(p)) => !matches!(*p, ")" | "]" | "$" | "++" | "--"),
        Some(Tok::Ident(k)) => KEYWORDS.contains(&k.as_str()),
        Some(Tok::Num | Tok::Str(_) | Tok::Regex) => false,
    }
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let s: Vec<char> = src.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        match c {
            ' ' | '\t' | '\r' => i += 1,
            '\\' if matches!(s.get(i + 1), Some('\n' | '\r')) => i += 2,
            '\n' => {
                out.push(Tok::Newline);
                i += 1;
            }
            '#' => {
                while s.get(i).is_some_and(|&c| c != '\n') {
                    i += 1;
                }
            }
            '"' => {
                let (tok, end) = string(&s, i + 1)?;
                out.push(tok);
                i = end;
            }
            '/' if regex_may_start(out.last()) => {
                i = regex(&s, i + 1)?;
                out.push(Tok::Regex);
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while s
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                out.push(Tok::Ident(s[start..i].iter().collect()));
            }
            c if c.is_ascii_digit()
                || (c == '.' && s.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                while s
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '.')
                {
                    i += 1;
                }
                out.push(Tok::Num);
            }
            _ => {
                let two: String = s[i..(i + 2).min(s.len())].iter().collect();
                if let Some(p) = PUNCT2.iter().find(|p| **p == two) {
                    out.push(Tok::Punct(p));
                    i += 2;
                } else if let Some(p) = PUNCT1.iter().find(|p| p.starts_with(c)) {
                    out.push(Tok::Punct(p));
                    i += 1;
                } else {
                    return Err(format!("unexpected `{c}`"));
                }
            }
        }
    }
    Ok(out)
}

/// A string from just after its `"`: the token and the index after its closing `"`.
fn string(s: &[char], mut i: usize) -> Result<(Tok, usize), String> {
    let mut text = String::new();
    let mut plain = true;
    loop {
        match s.get(i) {
            None => return Err("unterminated string".into()),
            Some('"') => break,
            Some('\n') => return Err("newline in a string".into()),
            Some('\\') => {
                match s.get(i + 1) {
                    Some(&e @ ('"' | '\\' | '/')) => text.push(e),
                    Some('\n') => {}
                    Some(_) => plain = false,
                    None => return Err("unterminated string".into()),
                }
                i += 2;
                continue;
            }
            Some(&c) => text.push(c),
        }
        i += 1;
    }
    Ok((Tok::Str(plain.then_some(text)), i + 1))
}

/// A regular expression from just after its `/`: the index after its closing `/`. A `/` inside
/// a bracket expression is read differently by different awks, so it is refused.
fn regex(s: &[char], mut i: usize) -> Result<usize, String> {
    loop {
        match s.get(i) {
            None | Some('\n') => return Err("unterminated regular expression".into()),
            Some('/') => return Ok(i + 1),
            Some('\\') => i += 2,
            Some('[') => {
                i += 1;
                if s.get(i) == Some(&'^') {
                    i += 1;
                }
                if s.get(i) == Some(&']') {
                    i += 1;
                }
                loop {
                    match s.get(i) {
                        None | Some('\n') => return Err("unterminated bracket expression".into()),
                        Some('/') => return Err("`/` inside a bracket expression".into()),
                        Some(']') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => i += 2,
                        Some('[') if matches!(s.get(i + 1), Some(':' | '.' | '=')) => {
                            let close = s[i + 1..].iter().position(|&c| c == ']');
                            match close {
                                Some(n) => i += n + 2,
                                None => return Err("unterminated character class".into()),
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            Some(_) => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(src: &str) -> Vec<&'static str> {
        scan(src).runs
    }

    #[test]
    fn plain_programs_do_nothing_else() {
        for src in [
            "{print $1}",
            "$3 > 10 { n++ } END { print n }",
            "/a|b/ { print }",
            "BEGIN { FS = \":\" } { print $1 | x }",
            "{ s = s \"|\" $0 } END { print s }",
            "{ print length($0) / 2 }",
            "{ x = $1 / 2; y = $2 / 3 }",
            "{ print (a > b) }",
            "# system(\"id\")\n{ print }",
            "{ gsub(/[[:space:]]+/, \" \"); print }",
            "{ print > \"/dev/stderr\" }",
            "{ printf \"%s\\n\", $1 > \"/dev/stdout\" }",
            "{ while ((getline line < FILENAME) > 0) n++ }",
        ] {
            let p = scan(src);
            let writes: Vec<_> = p
                .writes
                .iter()
                .filter(|w| !w.as_deref().is_some_and(|f| STREAMS.contains(&f)))
                .collect();
            assert!(
                p.unreadable.is_none() && p.reads.is_empty() && writes.is_empty(),
                "{src}: {p:?}"
            );
            if src.contains("| x") {
                assert_eq!(p.runs, ["`print |`"], "{src}");
            } else {
                assert!(p.runs.is_empty(), "{src}: {p:?}");
            }
        }
    }

    #[test]
    fn commands_pipes_and_extensions() {
        assert_eq!(runs("BEGIN{system(\"id\")}"), ["`system()`"]);
        assert_eq!(runs("BEGIN { system (\"id\") }"), ["`system()`"]);
        assert_eq!(runs("BEGIN{\"id\" | getline x; print x}"), ["`| getline`"]);
        assert_eq!(runs("{ print | \"sort\" }"), ["`print |`"]);
        assert_eq!(runs("BEGIN { print \"x\" |& \"cat\" }"), ["`|&`"]);
        assert_eq!(runs("@load \"filefuncs\"\nBEGIN{}"), ["`@load`"]);
        assert_eq!(runs("@include \"x.awk\""), ["`@include`"]);
        // A regular expression or a division never hides code.
        assert_eq!(runs("$1 / 2; system(\"id\"); x = 3 / 1"), ["`system()`"]);
        assert_eq!(runs("/x/ { system(\"id\") }"), ["`system()`"]);
    }

    #[test]
    fn writes_and_reads() {
        let p = scan("{ print > \"out.txt\" }");
        assert_eq!(p.writes, [Some("out.txt".to_string())]);
        let p = scan("{ printf(\"%s\", $0) >> \".git/config\" }");
        assert_eq!(p.writes, [Some(".git/config".to_string())]);
        let p = scan("{ print > $1 \".txt\" }");
        assert_eq!(p.writes, [None]);
        // In a print statement `>` redirects, even to a number.
        let p = scan("{ print $1, $2 > 0 }");
        assert_eq!(p.writes, [None]);
        let p = scan("{ print > \"a\" \"b\" }");
        assert_eq!(p.writes, [None]);
        let p = scan("{ print > \"\\057etc\\057passwd\" }");
        assert_eq!(p.writes, [None]);
        let p = scan("BEGIN { while ((getline l < \"/etc/shadow\") > 0) print l }");
        assert_eq!(p.reads, [Some("/etc/shadow".to_string())]);
        let p = scan("BEGIN { getline l < f }");
        assert_eq!(p.reads, [None]);
        let p = scan("BEGIN { print \"GET /\" |& \"/inet/tcp/0/example.com/80\" }");
        assert_eq!(p.runs, ["`|&`"]);
        let p = scan("BEGIN { print \"x\" > \"/inet/tcp/0/example.com/80\" }");
        assert!(p.network);
    }

    #[test]
    fn what_cannot_be_read_is_refused() {
        for src in [
            "{ print \"x }",
            "/abc",
            "/[/]\"/ ; system(\"id\") ; x=\"",
            "{ print \"a\nb\" }",
            "{ x = `id` }",
        ] {
            assert!(scan(src).unreadable.is_some(), "{src}");
        }
    }
}
