//! Entries of a `commands` constraint: a command name or word prefix (`git status`), or a command
//! and one capability it may show (`awk:exec`), and how they cover the commands of a shell line.

use crate::shell::{Capability, Power, ShellCommand};

/// One parsed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandEntry<'a> {
    pub words: Vec<&'a str>,
    /// `name:capability`: the command may show this capability.
    pub capability: Option<Capability>,
}

impl<'a> CommandEntry<'a> {
    pub fn parse(entry: &'a str) -> Result<Self, String> {
        let mut words: Vec<&str> = entry.split_whitespace().collect();
        let Some(first) = words.first_mut() else {
            return Err("empty command".to_string());
        };
        let mut capability = None;
        if let Some((name, cap)) = first.rsplit_once(':') {
            let Some(c) = Capability::parse(cap) else {
                return Err(format!(
                    "`{entry}`: `{cap}` is not a capability (write `exec`, `write` or `fetch`)"
                ));
            };
            if name.is_empty() {
                return Err(format!("`{entry}`: a capability needs a command name"));
            }
            *first = name;
            capability = Some(c);
        }
        if capability.is_some() && words.len() > 1 {
            return Err(format!(
                "`{entry}`: a capability goes on a command name alone, like `{}:{}`",
                words[0],
                capability.map_or("", Capability::as_str)
            ));
        }
        Ok(CommandEntry { words, capability })
    }

    /// Whether this entry names `cmd`. To allow, the name must match as written (so
    /// `/tmp/python` is not `python`); to deny or ask, the base name is enough. The other words
    /// must be a prefix of the command's.
    fn names(&self, cmd: &[String], allowing: bool) -> bool {
        let (Some(first), Some(name)) = (self.words.first(), cmd.first()) else {
            return false;
        };
        let name_ok = if allowing {
            name == first
        } else {
            let base = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
            base(name) == base(first)
        };
        name_ok
            && self.words.len() <= cmd.len()
            && self.words[1..].iter().zip(&cmd[1..]).all(|(w, c)| w == c)
    }

    /// Whether this entry lets a command it names show `power`: `name:capability` for that
    /// capability, or a word prefix that spells the word showing it (`python3 -c`).
    fn grants(&self, power: &Power) -> bool {
        match self.capability {
            Some(c) => c == power.capability,
            None => power.word >= 1 && power.word < self.words.len(),
        }
    }
}

/// How the entries of an `allowed` rule cover one command.
#[derive(Debug)]
pub(crate) enum Coverage<'c> {
    Allowed,
    /// No entry names the command.
    NotNamed,
    /// Named, but these capabilities are not granted.
    Missing(Vec<&'c Power>),
}

pub(crate) fn allow_coverage<'c>(entries: &[String], cmd: &'c ShellCommand) -> Coverage<'c> {
    let naming: Vec<CommandEntry<'_>> = entries
        .iter()
        .filter_map(|e| CommandEntry::parse(e).ok())
        .filter(|e| e.names(&cmd.words, true))
        .collect();
    if naming.is_empty() {
        return Coverage::NotNamed;
    }
    let missing: Vec<&Power> = cmd
        .powers
        .iter()
        .filter(|p| !naming.iter().any(|e| e.grants(p)))
        .collect();
    if missing.is_empty() {
        Coverage::Allowed
    } else {
        Coverage::Missing(missing)
    }
}

/// Whether an `ask`/`denied` entry list matches `cmd`: an entry names it and, for
/// `name:capability`, the command shows that capability.
pub(crate) fn triggers(entries: &[String], cmd: &ShellCommand) -> bool {
    entries
        .iter()
        .filter_map(|e| CommandEntry::parse(e).ok())
        .any(|e| {
            e.names(&cmd.words, false)
                && e.capability
                    .is_none_or(|c| cmd.powers.iter().any(|p| p.capability == c))
        })
}

/// One sentence per missing capability: what the command can do and how to allow it.
pub(crate) fn missing_reason(name: &str, missing: &[&Power]) -> String {
    missing
        .iter()
        .map(|p| {
            format!(
                "`{name}` {}; allow `{name}:{}` to let it pass",
                p.what, p.capability
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(words: &[&str], powers: &[(Capability, usize)]) -> ShellCommand {
        ShellCommand {
            words: words.iter().map(|w| w.to_string()).collect(),
            powers: powers
                .iter()
                .map(|(c, w)| Power {
                    capability: *c,
                    what: "does it".into(),
                    word: *w,
                })
                .collect(),
        }
    }

    fn list(e: &[&str]) -> Vec<String> {
        e.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn entries_parse() {
        let e = CommandEntry::parse("awk:exec").unwrap();
        assert_eq!(
            (e.words, e.capability),
            (vec!["awk"], Some(Capability::Exec))
        );
        let e = CommandEntry::parse("git status").unwrap();
        assert_eq!((e.words, e.capability), (vec!["git", "status"], None));
        assert!(CommandEntry::parse("awk:run").is_err());
        assert!(CommandEntry::parse(":exec").is_err());
        assert!(CommandEntry::parse("git:exec status").is_err());
        assert!(CommandEntry::parse("  ").is_err());
    }

    #[test]
    fn capabilities_must_be_named() {
        let exec = cmd(&["awk", "BEGIN{system(\"id\")}"], &[(Capability::Exec, 1)]);
        assert!(
            matches!(allow_coverage(&list(&["awk"]), &exec), Coverage::Missing(m) if m.len() == 1)
        );
        assert!(matches!(
            allow_coverage(&list(&["awk:exec"]), &exec),
            Coverage::Allowed
        ));
        assert!(matches!(
            allow_coverage(&list(&["awk", "awk:write"]), &exec),
            Coverage::Missing(_)
        ));
        assert!(matches!(
            allow_coverage(&list(&["sed:exec"]), &exec),
            Coverage::NotNamed
        ));
        assert!(matches!(
            allow_coverage(&list(&["/usr/bin/awk:exec"]), &exec),
            Coverage::NotNamed
        ));
        let inline = cmd(&["python3", "-c", "1"], &[(Capability::Exec, 1)]);
        assert!(matches!(
            allow_coverage(&list(&["python3 -c"]), &inline),
            Coverage::Allowed
        ));
        assert!(matches!(
            allow_coverage(&list(&["python3"]), &inline),
            Coverage::Missing(_)
        ));
        let make = cmd(&["make", "all"], &[(Capability::Exec, 0)]);
        assert!(matches!(
            allow_coverage(&list(&["make all"]), &make),
            Coverage::Missing(_)
        ));
        assert!(matches!(
            allow_coverage(&list(&["make:exec"]), &make),
            Coverage::Allowed
        ));
        let plain = cmd(&["awk", "{print}"], &[]);
        assert!(matches!(
            allow_coverage(&list(&["awk:exec"]), &plain),
            Coverage::Allowed
        ));
    }

    #[test]
    fn ask_and_deny_entries() {
        let exec = cmd(&["/usr/bin/awk", "x"], &[(Capability::Exec, 1)]);
        let plain = cmd(&["awk", "x"], &[]);
        assert!(triggers(&list(&["awk"]), &plain));
        assert!(triggers(&list(&["awk:exec"]), &exec));
        assert!(!triggers(&list(&["awk:exec"]), &plain));
        assert!(!triggers(&list(&["awk:fetch"]), &exec));
    }
}
