//! sed scripts: commands that run (`e`, `s///e`), write (`w`, `W`, `s///w`) and read (`r`,
//! `R`). The script is read command by command as GNU sed does; what cannot be read that way
//! counts as running code.

use super::{Args, Capability, Found, STREAMS};
use crate::shell::PathRole;

/// What a sed script does besides editing its input.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Script {
    /// How it runs commands: "`e`", "`s///e`".
    pub runs: Vec<&'static str>,
    /// Files written by `w`, `W` and `s///w`.
    pub writes: Vec<String>,
    /// Files read by `r` and `R`.
    pub reads: Vec<String>,
    /// Why the script could not be read, if it could not.
    pub unreadable: Option<String>,
}

/// The scripts (`-e`/`--expression` values, or else the first operand unless `-f` gives a file,
/// which the table counts) and the file operands.
#[allow(clippy::type_complexity)]
fn scripts_and_files<'w>(args: &Args<'w>) -> (Vec<(&'w str, usize)>, Vec<(&'w str, usize)>) {
    let mut scripts: Vec<(&str, usize)> = args
        .opt(&["-e", "--expression"])
        .into_iter()
        .filter_map(|(v, _)| v)
        .collect();
    // BSD sed: `-l` takes no value and `-i ''` gives an empty suffix as its own word; such a
    // word may be the script, so it is read as one too.
    scripts.extend(
        args.opt(&["-l", "--line-length"])
            .into_iter()
            .filter_map(|(v, _)| v)
            .filter(|(v, _)| !v.chars().all(|c| c.is_ascii_digit())),
    );
    let mut operands = args.operands().peekable();
    if scripts.is_empty()
        && !args.has(&["-f", "--file"])
        && let Some(first) = operands.next()
    {
        scripts.push(first);
        if first.0.is_empty()
            && args.has(&["-i"])
            && let Some(second) = operands.next()
        {
            scripts.push(second);
        }
    }
    (scripts, operands.collect())
}

/// Words that are not file names: the scripts and the `-l` line length.
pub(super) fn program_words(args: &Args<'_>) -> Vec<usize> {
    let values = args
        .opt(&["-l", "--line-length"])
        .into_iter()
        .filter_map(|(v, _)| v.map(|(_, at)| at));
    let mut words: Vec<usize> = scripts_and_files(args)
        .0
        .into_iter()
        .map(|(_, at)| at)
        .chain(values)
        .collect();
    words.dedup();
    words
}

/// sed: what the scripts run, write and read, and the files `-i` edits in place.
pub(super) fn inspect(_: &str, args: &Args<'_>, found: &mut Found) {
    let (scripts, files) = scripts_and_files(args);
    if args.has(&["-i", "--in-place"]) {
        for (file, at) in files {
            if args.literal(at) {
                let glob = args.words.get(at).is_some_and(|w| w.glob);
                found.file(file, PathRole::Write, glob);
            }
        }
    }
    for (text, at) in scripts {
        if !args.literal(at) {
            continue; // a computed argument asks already
        }
        let s = scan(text);
        let at = Some(at);
        if !s.runs.is_empty() {
            let how = s.runs.join(", ");
            found.can(
                Capability::Exec,
                format!("script can run commands ({how})"),
                at,
            );
        }
        if let Some(why) = &s.unreadable {
            found.can(
                Capability::Exec,
                format!("script is not understood ({why}), so it may run commands"),
                at,
            );
        }
        if s.writes.iter().any(|f| !STREAMS.contains(&f.as_str())) {
            found.can(Capability::Write, "script writes files (`w`)", at);
        }
        for f in &s.writes {
            found.file(f, PathRole::Write, false);
        }
        for f in &s.reads {
            found.file(f, PathRole::Read, false);
        }
    }
    // GNU sed refuses `e`, `r` and `w` in its sandbox; other seds refuse the option.
    if args.has(&["--sandbox"]) {
        found.powers.clear();
    }
}

/// Reads a sed script: what it runs, writes and reads.
pub(super) fn scan(src: &str) -> Script {
    let mut r = Reader {
        s: src.chars().collect(),
        i: 0,
        out: Script::default(),
    };
    if let Err(e) = r.commands() {
        r.out.unreadable = Some(e);
    }
    r.out
}

struct Reader {
    s: Vec<char>,
    i: usize,
    out: Script,
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.i += 1;
        }
        c
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.i += 1;
        }
    }

    /// The rest of the line (a file name, a command for `e`).
    fn rest_of_line(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|&c| c != '\n') {
            out.push(c);
            self.i += 1;
        }
        out
    }

    fn commands(&mut self) -> Result<(), String> {
        loop {
            while self.peek().is_some_and(|c| c.is_whitespace() || c == ';') {
                self.i += 1;
            }
            let Some(c) = self.peek() else {
                return Ok(());
            };
            if c == '#' {
                self.rest_of_line();
                continue;
            }
            self.address(false)?;
            self.blanks();
            if self.peek() == Some(',') {
                self.i += 1;
                self.blanks();
                self.address(true)?;
            }
            self.blanks();
            while self.peek() == Some('!') {
                self.i += 1;
                self.blanks();
            }
            let cmd = self.next().ok_or("address without a command")?;
            if cmd == '{' {
                continue;
            }
            self.command(cmd)?;
            self.blanks();
            match self.peek() {
                None | Some(';' | '\n' | '}' | '#') => {}
                Some(c) => return Err(format!("`{c}` after a command")),
            }
        }
    }

    fn command(&mut self, cmd: char) -> Result<(), String> {
        match cmd {
            '}' | '=' | 'd' | 'D' | 'g' | 'G' | 'h' | 'H' | 'n' | 'N' | 'p' | 'P' | 'x' | 'z'
            | 'F' => {}
            'l' | 'L' | 'q' | 'Q' => {
                self.blanks();
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
            }
            ':' | 'b' | 't' | 'T' | 'v' => {
                self.blanks();
                // A label ends at a blank, `;` or newline (GNU sed stops at `;` too).
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, ' ' | '\t' | '\n' | ';' | '}'))
                {
                    self.i += 1;
                }
            }
            'a' | 'i' | 'c' => {
                // Text to the end of the line (which then ends the command); a backslash
                // continues it onto the next.
                while let Some(c) = self.peek().filter(|&c| c != '\n') {
                    self.i += 1;
                    if c == '\\' {
                        self.next();
                    }
                }
            }
            'r' | 'R' => {
                self.blanks();
                let f = self.rest_of_line();
                if f.is_empty() {
                    return Err("`r` without a file name".into());
                }
                self.out.reads.push(f);
            }
            'w' | 'W' => self.write_file()?,
            'e' => {
                push(&mut self.out.runs, "`e`");
                self.rest_of_line();
            }
            's' => self.substitute()?,
            'y' => {
                let d = self.delimiter()?;
                self.part(d, false)?;
                self.part(d, false)?;
            }
            c => return Err(format!("unknown command `{c}`")),
        }
        Ok(())
    }

    fn write_file(&mut self) -> Result<(), String> {
        self.blanks();
        let f = self.rest_of_line();
        if f.is_empty() {
            return Err("`w` without a file name".into());
        }
        self.out.writes.push(f);
        Ok(())
    }

    /// A line number, `$`, `first~step`, `/regex/` or `\cregexc` with flags; after a comma also
    /// `+N` and `~N`. Nothing is fine too.
    fn address(&mut self, second: bool) -> Result<(), String> {
        match self.peek() {
            Some(c) if c.is_ascii_digit() || (second && (c == '+' || c == '~')) => {
                self.i += 1;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || (!second && c == '~'))
                {
                    self.i += 1;
                }
            }
            Some('$') => self.i += 1,
            Some('/') => {
                self.i += 1;
                self.part('/', true)?;
                self.regex_flags();
            }
            Some('\\') => {
                self.i += 1;
                let d = self.next().ok_or("`\\` at the end")?;
                self.part(d, true)?;
                self.regex_flags();
            }
            _ => {}
        }
        Ok(())
    }

    fn regex_flags(&mut self) {
        while matches!(self.peek(), Some('I' | 'M')) {
            self.i += 1;
        }
    }

    fn delimiter(&mut self) -> Result<char, String> {
        match self.next() {
            Some(d) if d != '\n' && d != '\\' => Ok(d),
            _ => Err("missing delimiter".into()),
        }
    }

    /// Up to and past the unescaped delimiter `d`. In a regular expression, a bracket
    /// expression holding `d` is refused (seds disagree on where it ends).
    fn part(&mut self, d: char, regex: bool) -> Result<(), String> {
        loop {
            match self.next() {
                None => return Err("unterminated command".into()),
                Some('\\') => {
                    if self.next().is_none() {
                        return Err("unterminated command".into());
                    }
                }
                Some('\n') => return Err("newline inside a command".into()),
                Some(c) if c == d => return Ok(()),
                Some('[') if regex => self.bracket(d)?,
                Some(_) => {}
            }
        }
    }

    fn bracket(&mut self, d: char) -> Result<(), String> {
        if self.peek() == Some('^') {
            self.i += 1;
        }
        if self.peek() == Some(']') {
            self.i += 1;
        }
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated bracket expression".into()),
                Some(']') => return Ok(()),
                Some(c) if c == d => {
                    return Err(format!("`{d}` inside a bracket expression"));
                }
                Some('[') if matches!(self.peek(), Some(':' | '.' | '=')) => {
                    while let Some(c) = self.next() {
                        if c == ']' {
                            break;
                        }
                        if c == '\n' || c == d {
                            return Err("unterminated character class".into());
                        }
                    }
                }
                Some(_) => {}
            }
        }
    }

    fn substitute(&mut self) -> Result<(), String> {
        let d = self.delimiter()?;
        self.part(d, true)?;
        self.part(d, false)?;
        loop {
            match self.peek() {
                Some('g' | 'p' | 'i' | 'I' | 'm' | 'M') => self.i += 1,
                Some(c) if c.is_ascii_digit() => self.i += 1,
                Some('e') => {
                    self.i += 1;
                    push(&mut self.out.runs, "`s///e`");
                }
                Some('w') => {
                    self.i += 1;
                    return self.write_file();
                }
                _ => return Ok(()),
            }
        }
    }
}

fn push(v: &mut Vec<&'static str>, s: &'static str) {
    if !v.contains(&s) {
        v.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scripts_do_nothing_else() {
        for src in [
            "s/a/b/g",
            "s|/usr|/opt|2",
            "1d;$d",
            "/^#/d",
            "/start/,/end/{s/x/y/;p}",
            "0,/re/s//X/",
            "1~2p",
            "/x/I,+3!d",
            "\\%a/b%d",
            "y/abc/xyz/",
            ":a;N;$!ba;s/\\n/ /g",
            "1i\\\nheader",
            "1a foo;e echo no",
            "$a\\",
            "s/[[:space:]]*$//",
            "s/\\//|/g",
            "# e id\np",
            "w /dev/stdout",
            "l 5;q",
        ] {
            let s = scan(src);
            let writes: Vec<_> = s
                .writes
                .iter()
                .filter(|f| !STREAMS.contains(&f.as_str()))
                .collect();
            assert!(
                s.runs.is_empty() && writes.is_empty() && s.unreadable.is_none(),
                "{src}: {s:?}"
            );
        }
    }

    #[test]
    fn commands_writes_and_reads() {
        assert_eq!(scan("1e id").runs, ["`e`"]);
        assert_eq!(scan("e").runs, ["`e`"]);
        assert_eq!(scan(":a;e echo x").runs, ["`e`"]);
        assert_eq!(scan("s/.*/id/e").runs, ["`s///e`"]);
        assert_eq!(scan("s/x/y/ge").runs, ["`s///e`"]);
        assert_eq!(scan("/x/{\ne id\n}").runs, ["`e`"]);
        let s = scan("s/x/y/w /tmp/out");
        assert_eq!(s.writes, ["/tmp/out"]);
        let s = scan("w out; e id");
        assert_eq!(s.writes, ["out; e id"]);
        assert!(s.runs.is_empty());
        let s = scan("1W .git/config\n2r /etc/shadow");
        assert_eq!(s.writes, [".git/config"]);
        assert_eq!(s.reads, ["/etc/shadow"]);
    }

    #[test]
    fn what_cannot_be_read_is_refused() {
        for src in [
            "s/a/b",
            "s/[/]/x/",
            "k",
            "p x",
            "w",
            "s/a/b/q",
            "/unterminated",
        ] {
            assert!(scan(src).unreadable.is_some(), "{src}");
        }
    }
}
