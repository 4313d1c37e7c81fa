//! Parsed shell structures.

/// One shell word after quote removal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Word {
    /// The text with quotes removed; expansions appear as written (e.g. `$X`).
    pub text: String,
    /// False if any part is expanded at run time (`$X`, `${X}`, `$(…)`, backticks, `$'\…'`).
    pub literal: bool,
    /// Some part was quoted or escaped (so `{`, `~`, `*` may be plain characters).
    pub quoted: bool,
    /// Starts with an unquoted `~`.
    pub tilde: bool,
    /// Has an unquoted `*`, `?` or `[` (pathname expansion).
    pub glob: bool,
    /// Has an unquoted brace expansion (`{a,b}`, `{1..3}`).
    pub brace: bool,
    /// Is a process substitution `<(…)` / `>(…)`.
    pub process_substitution: bool,
}

/// What a redirection does with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `<`: reads a file.
    Read,
    /// `>`, `>>`, `>|`, `<>`, `&>`, `&>>`, `>&file`: writes (creates) a file.
    Write,
    /// `>&2`, `<&0`, `>&-`: duplicates or closes a descriptor; no file.
    Descriptor,
    /// `<<` / `<<-`: here-document; the target is the delimiter.
    HereDoc,
    /// `<<<`: here-string; the target is data.
    HereString,
}

/// A redirection of one simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: Word,
}

/// One simple command: assignments, words, redirections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    /// `NAME=value` prefixes, as written.
    pub assignments: Vec<Word>,
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
}

/// A function definition (`name() { …; }`). Its body's commands are in [`Script::commands`] like
/// any others, from index `at` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDef {
    pub name: String,
    /// Index in [`Script::commands`] of the first command after the definition started.
    pub at: usize,
    /// Defined in the shell that runs the rest of the line for certain: the POSIX `name()` form
    /// at the top level, not in a subshell, substitution, group, loop, condition, pipeline,
    /// background job or after `&&`/`||`. Only such a name may be taken for the function when
    /// it is called later; otherwise a call may run a program of that name.
    pub unconditional: bool,
}

/// Every simple command in a line (including those inside substitutions and function bodies),
/// the functions it defines, and anything the parser did not understand. A non-empty
/// `problems` means the line must not be allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub commands: Vec<SimpleCommand>,
    pub functions: Vec<FunctionDef>,
    pub problems: Vec<String>,
}
