//! Files a sender attaches: downloaded (size-capped) into the session's workspace under
//! `.pryx/inbox/`, where the agent's tools can read them — never into the data dir — and named
//! in the prompt.

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

/// Stores the message's files; returns what to add to the prompt.
pub(super) async fn receive(
    b: &TelegramBridge,
    m: &Inbound,
    session: &str,
) -> Result<String, String> {
    if m.attachments.is_empty() {
        return Ok(String::new());
    }
    let store = b.store();
    let ws = store
        .get_session(session)
        .ok()
        .flatten()
        .and_then(|s| s.workspace_id)
        .and_then(|w| store.get_workspace(&w).ok().flatten())
        .map(|w| std::path::PathBuf::from(w.path))
        .ok_or("the conversation has no workspace to put the file in")?;
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
