//! The simple commands `brush-parser` finds in a line, in the comparison form.

use brush_parser::ast::{
    Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Program, RedirectList,
};
use brush_parser::word::WordPiece;
use brush_parser::{Parser, ParserOptions};

use super::{Cmd, DYNAMIC};

/// Substitutions nest at most this deep before we stop following them (as our parser does).
const MAX_DEPTH: usize = 32;

/// Every simple command of `src`, or why brush cannot parse it.
pub fn commands(src: &str) -> Result<Vec<Cmd>, String> {
    let mut out = Vec::new();
    walk_source(src, &mut out, 0)?;
    Ok(out)
}

fn options() -> ParserOptions {
    ParserOptions {
        // Extended globs change how `!(…)` and `@(…)` tokenize; bash has them off in `-c`.
        enable_extended_globbing: false,
        ..ParserOptions::default()
    }
}

fn walk_source(src: &str, out: &mut Vec<Cmd>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("nests too deeply".into());
    }
    let mut parser = Parser::new(std::io::BufReader::new(src.as_bytes()), &options());
    let program: Program = parser.parse_program().map_err(|e| e.to_string())?;
    for list in &program.complete_commands {
        compound_list(list, out, depth)?;
    }
    Ok(())
}

fn compound_list(list: &CompoundList, out: &mut Vec<Cmd>, depth: usize) -> Result<(), String> {
    for item in &list.0 {
        for (_, pipeline) in &item.0 {
            for cmd in &pipeline.seq {
                command(cmd, out, depth)?;
            }
        }
    }
    Ok(())
}

fn command(cmd: &Command, out: &mut Vec<Cmd>, depth: usize) -> Result<(), String> {
    match cmd {
        Command::Simple(sc) => {
            let mut c = Cmd::default();
            let mut words = Vec::new();
            for item in sc.prefix.iter().flat_map(|p| p.0.iter()) {
                prefix_item(item, &mut c, &mut words, out, depth)?;
            }
            if let Some(w) = &sc.word_or_name {
                words.push(word(&w.value, out, depth)?);
            }
            for item in sc.suffix.iter().flat_map(|s| s.0.iter()) {
                prefix_item(item, &mut c, &mut words, out, depth)?;
            }
            c.words = words;
            out.push(c);
        }
        Command::Compound(cc, redirects) => {
            compound(cc, out, depth)?;
            redirect_only(redirects.as_ref(), out, depth)?;
        }
        Command::Function(f) => {
            compound(&f.body.0, out, depth)?;
            redirect_only(f.body.1.as_ref(), out, depth)?;
        }
        Command::ExtendedTest(..) => return Err("`[[ … ]]` is not compared".into()),
    }
    Ok(())
}

/// A compound command's own redirections: our parser reads them as a command of redirections.
fn redirect_only(
    list: Option<&RedirectList>,
    out: &mut Vec<Cmd>,
    depth: usize,
) -> Result<(), String> {
    let Some(list) = list else { return Ok(()) };
    let mut c = Cmd::default();
    for r in &list.0 {
        redirect(r, &mut c, out, depth)?;
    }
    out.push(c);
    Ok(())
}

fn prefix_item(
    item: &CommandPrefixOrSuffixItem,
    c: &mut Cmd,
    words: &mut Vec<String>,
    out: &mut Vec<Cmd>,
    depth: usize,
) -> Result<(), String> {
    match item {
        CommandPrefixOrSuffixItem::IoRedirect(r) => redirect(r, c, out, depth)?,
        CommandPrefixOrSuffixItem::Word(w) => words.push(word(&w.value, out, depth)?),
        CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
            if words.is_empty() {
                let name = w.value.split(['=', '+', '[']).next().unwrap_or("");
                c.assigns.push(name.to_string());
                if let brush_parser::ast::AssignmentValue::Scalar(v) = &a.value {
                    word(&v.value, out, depth)?;
                } else {
                    return Err("array assignment is not compared".into());
                }
            } else {
                // After the name, `a=b` is an ordinary argument.
                words.push(word(&w.value, out, depth)?);
            }
        }
        CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
            compound_list(&sub.list, out, depth + 1)?;
            words.push(DYNAMIC.into());
        }
    }
    Ok(())
}

fn redirect(r: &IoRedirect, c: &mut Cmd, out: &mut Vec<Cmd>, depth: usize) -> Result<(), String> {
    let (kind, target) = match r {
        IoRedirect::File(_, kind, target) => {
            let text = match target {
                IoFileRedirectTarget::Filename(w) | IoFileRedirectTarget::Duplicate(w) => {
                    word(&w.value, out, depth)?
                }
                IoFileRedirectTarget::Fd(n) => n.to_string(),
                IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                    compound_list(&sub.list, out, depth + 1)?;
                    DYNAMIC.into()
                }
            };
            let kind = match kind {
                IoFileRedirectKind::Read => 'r',
                IoFileRedirectKind::DuplicateInput | IoFileRedirectKind::DuplicateOutput
                    if text == "-"
                        || (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())) =>
                {
                    'd'
                }
                IoFileRedirectKind::DuplicateInput if text != DYNAMIC => 'd',
                _ => 'w',
            };
            (kind, text)
        }
        IoRedirect::HereDocument(_, doc) => {
            if doc.requires_expansion {
                // Our parser does not follow here-document bodies; it asks when one substitutes.
                word_pieces_in_heredoc(&doc.doc.value, out, depth)?;
            }
            ('h', word(&doc.here_end.value, &mut Vec::new(), depth)?)
        }
        IoRedirect::HereString(_, w) => ('s', word(&w.value, out, depth)?),
        IoRedirect::OutputAndError(w, _) => ('w', word(&w.value, out, depth)?),
    };
    c.redirects.push((kind, target));
    Ok(())
}

fn word_pieces_in_heredoc(body: &str, out: &mut Vec<Cmd>, depth: usize) -> Result<(), String> {
    if body.contains("$(") || body.contains('`') {
        let _ = word(&format!("\"{}\"", body.replace('"', "\\\"")), out, depth);
    }
    Ok(())
}

/// The word after quote removal, or [`DYNAMIC`] when any part expands at run time; commands in
/// its substitutions are added to `out`.
fn word(raw: &str, out: &mut Vec<Cmd>, depth: usize) -> Result<String, String> {
    let pieces = brush_parser::word::parse(raw, &options()).map_err(|e| e.to_string())?;
    let mut text = String::new();
    let mut dynamic = false;
    for p in &pieces {
        piece(&p.piece, &mut text, &mut dynamic, false, out, depth)?;
    }
    Ok(if dynamic { DYNAMIC.into() } else { text })
}

fn piece(
    p: &WordPiece,
    text: &mut String,
    dynamic: &mut bool,
    in_double: bool,
    out: &mut Vec<Cmd>,
    depth: usize,
) -> Result<(), String> {
    match p {
        WordPiece::Text(s) | WordPiece::SingleQuotedText(s) => text.push_str(s),
        WordPiece::AnsiCQuotedText(s) => {
            if s.contains('\\') {
                *dynamic = true;
            }
            text.push_str(s);
        }
        WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
            for q in inner {
                piece(&q.piece, text, dynamic, true, out, depth)?;
            }
        }
        WordPiece::TildeExpansion(t) => {
            use brush_parser::word::TildeExpr;
            match t {
                TildeExpr::Home => text.push('~'),
                TildeExpr::UserHome(u) => {
                    text.push('~');
                    text.push_str(u);
                }
                _ => *dynamic = true,
            }
        }
        WordPiece::EscapeSequence(s) => {
            let c = s.strip_prefix('\\').unwrap_or(s);
            if in_double && !matches!(c, "$" | "`" | "\"" | "\\" | "\n") {
                text.push_str(s);
            } else if c != "\n" {
                text.push_str(c);
            }
        }
        WordPiece::ParameterExpansion(_) | WordPiece::ArithmeticExpression(_) => *dynamic = true,
        WordPiece::CommandSubstitution(body) => {
            *dynamic = true;
            walk_source(body, out, depth + 1)?;
        }
        WordPiece::BackquotedCommandSubstitution(body) => {
            *dynamic = true;
            walk_source(&unescape_backquoted(body), out, depth + 1)?;
        }
    }
    Ok(())
}

/// Inside backquotes, `\` keeps its meaning only before `` ` ``, `\` and `$`.
fn unescape_backquoted(body: &str) -> String {
    let mut s = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && matches!(n, '`' | '\\' | '$')
        {
            s.push(n);
            chars.next();
            continue;
        }
        s.push(c);
    }
    s
}

/// Compound commands: the commands of each part they run.
fn compound(cc: &CompoundCommand, out: &mut Vec<Cmd>, depth: usize) -> Result<(), String> {
    match cc {
        CompoundCommand::BraceGroup(g) => compound_list(&g.list, out, depth),
        CompoundCommand::Subshell(s) => compound_list(&s.list, out, depth + 1),
        CompoundCommand::IfClause(i) => {
            compound_list(&i.condition, out, depth)?;
            compound_list(&i.then, out, depth)?;
            for e in i.elses.iter().flatten() {
                if let Some(c) = &e.condition {
                    compound_list(c, out, depth)?;
                }
                compound_list(&e.body, out, depth)?;
            }
            Ok(())
        }
        CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
            compound_list(&w.0, out, depth)?;
            compound_list(&w.1.list, out, depth)
        }
        CompoundCommand::ForClause(f) => {
            for w in f.values.iter().flatten() {
                word(&w.value, out, depth)?;
            }
            compound_list(&f.body.list, out, depth)
        }
        CompoundCommand::CaseClause(c) => {
            word(&c.value.value, out, depth)?;
            for item in &c.cases {
                if let Some(list) = &item.cmd {
                    compound_list(list, out, depth)?;
                }
            }
            Ok(())
        }
        CompoundCommand::ArithmeticForClause(f) => compound_list(&f.body.list, out, depth),
        CompoundCommand::Coprocess(c) => command(&c.body, out, depth),
        CompoundCommand::Arithmetic(_) => Ok(()),
    }
}
