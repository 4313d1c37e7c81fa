//! Files a sender attaches: downloaded (size-capped) into the session's workspace under
//! `.pryx/inbox/`, where the agent's tools can read them — never into the data dir — and named
//! in the prompt. Files a turn leaves in `.pryx/outbox/` go back to the chat after its answer
//! (moved to `.pryx/sent/` first, read beneath the workspace when they are sent).

use super::TelegramBridge;
use pryx_channels::Inbound;
use std::path::Path;

/// The largest attachment taken (the Bot API serves at most 20 MB to bots).
pub(super) const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

/// A file name safe to create: letters, digits, `.`, `_`, `-`; no leading dot; at most 80.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    let mut out: String = trimmed
        .chars()
        .rev()
        .take(80)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if out.is_empty() {
        out = "file".into();
    }
    out
}

/// The largest file sent back (the Bot API's upload limit for bots).
pub(super) const MAX_SENT_BYTES: u64 = 50 * 1024 * 1024;
/// Files sent back after one turn, at most.
const MAX_SENT_FILES: usize = 10;

/// What the model is told once per conversation, so it knows how to send a file.
pub(super) const OUTBOX_HINT: &str = "\n\n[To send the user a file, save it in the workspace under .pryx/outbox/; it is sent after your answer.]";

/// The session's workspace directory.
fn workspace_of(b: &TelegramBridge, session: &str) -> Option<std::path::PathBuf> {
    let store = b.store();
    store
        .get_session(session)
        .ok()
        .flatten()
        .and_then(|s| s.workspace_id)
        .and_then(|w| store.get_workspace(&w).ok().flatten())
        .map(|w| std::path::PathBuf::from(w.path))
}

/// A directory that is really one (not a link to elsewhere).
fn real_dir(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_dir())
}

/// Moves the files a turn left in `.pryx/outbox/` to `.pryx/sent/` and returns them as
/// messages (caption: the file's name). Links and anything but plain files are left alone.
pub(super) fn outgoing(
    b: &TelegramBridge,
    session: &str,
    tag: i64,
) -> Vec<pryx_channels::Outgoing> {
    let Some(ws) = workspace_of(b, session) else {
        return Vec::new();
    };
    let (dot, outbox, sent) = (
        ws.join(".pryx"),
        ws.join(".pryx/outbox"),
        ws.join(".pryx/sent"),
    );
    if !real_dir(&dot) || !real_dir(&outbox) {
        return Vec::new();
    }
    if !sent.exists() && std::fs::create_dir(&sent).is_err() || !real_dir(&sent) {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(&outbox) else {
        return Vec::new();
    };
    let mut files: Vec<(String, u64)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let len = e.metadata().ok()?.len();
            Some((name, len))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for (name, len) in files.into_iter().take(MAX_SENT_FILES) {
        if len > MAX_SENT_BYTES {
            out.push(pryx_channels::Outgoing::plain(format!(
                "({name} is larger than {} MB and was not sent)",
                MAX_SENT_BYTES / (1024 * 1024)
            )));
            continue;
        }
        let moved = format!("{tag}-{}", safe_name(&name));
        if std::fs::rename(outbox.join(&name), sent.join(&moved)).is_err() {
            continue;
        }
        out.push(pryx_channels::Outgoing {
            file: Some(pryx_channels::FileRef {
                root: ws.display().to_string(),
                path: format!(".pryx/sent/{moved}"),
                name: name.clone(),
            }),
            ..pryx_channels::Outgoing::plain(name)
        });
    }
    out
}

/// Stores the message's files; returns what to add to the prompt.
pub(super) async fn receive(
    b: &TelegramBridge,
    m: &Inbound,
    session: &str,
) -> Result<String, String> {
    if m.attachments.is_empty() {
        return Ok(String::new());
    }
    let ws =
        workspace_of(b, session).ok_or("the conversation has no workspace to put the file in")?;
    let mut note = String::new();
    for a in &m.attachments {
        if a.size.is_some_and(|n| n > MAX_ATTACHMENT_BYTES as u64) {
            return Err(format!(
                "{} is larger than {} MB; send a smaller file",
                a.name,
                MAX_ATTACHMENT_BYTES / (1024 * 1024)
            ));
        }
        let file = b
            .bot
            .download(&a.file_id, MAX_ATTACHMENT_BYTES)
            .await
            .map_err(|e| format!("{} could not be received: {e}", a.name))?;
        let name = format!("{}-{}", m.update_id, safe_name(&a.name));
        let (root, bytes) = (ws.clone(), file.bytes);
        let len = bytes.len();
        let written = tokio::task::spawn_blocking(move || {
            pryx_tools::write_new_beneath(&root, Path::new(".pryx/inbox"), &name, &bytes)
        })
        .await
        .map_err(|e| format!("{} could not be stored: {e}", a.name))?
        .map_err(|e| format!("{} could not be stored in the workspace: {e}", a.name))?;
        note.push_str(&format!(
            "\n[The sender attached a file, saved in the workspace at {} ({len} bytes).]",
            written.display()
        ));
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_climb_hide_or_grow() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".bashrc"), "bashrc");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name(&"a".repeat(300)).len(), 80);
        assert_eq!(safe_name("résumé 1.pdf"), "r_sum__1.pdf");
    }
}
