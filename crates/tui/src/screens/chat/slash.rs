//! Slash commands typed into the chat input.

use super::{ChatState, Level};
use crate::action::Action;
use crate::model::ExportFormat;
use crate::state::Effect;

/// The commands, for `/help` and completion hints.
pub const COMMANDS: &[(&str, &str)] = &[
    ("/new", "start a new session"),
    (
        "/model [id]",
        "pick this session's model (the default when none is open)",
    ),
    (
        "/policy <name>",
        "switch this session's policy (the default when none is open)",
    ),
    (
        "/retry [--model id]",
        "run the last message again, on another model if named",
    ),
    ("/context", "how full the model's context is, and with what"),
    (
        "/compact",
        "summarise older messages (shows the cost first)",
    ),
    (
        "/pin [n]",
        "keep message n (your last by default) verbatim through compaction",
    ),
    ("/unpin <n>", "unpin message n"),
    (
        "/processes",
        "this session's background processes and their last lines",
    ),
    (
        "/fork [n]",
        "a new session with the messages up to n (all by default)",
    ),
    ("/setup", "set up a model provider"),
    (
        "/grants",
        "list and revoke standing approvals (session and always answers)",
    ),
    (
        "/export [md|json]",
        "export this session (Markdown by default)",
    ),
    ("/help", "show every key and command"),
    ("/quit", "leave the TUI"),
];

/// Runs one slash command line (starting with `/`).
pub fn run(chat: &mut ChatState, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or("");
    let arg = words.next();
    match cmd {
        "/new" => vec![Effect::Do(Action::NewSession)],
        "/model" => match arg {
            None => vec![Effect::Do(Action::LoadModels { provider: None })],
            Some(m) => vec![Effect::Do(chat.model_action(m.to_string()))],
        },
        "/policy" => match arg {
            None => {
                chat.notice("Usage: /policy <name>", Level::Error);
                vec![]
            }
            Some(p) => vec![Effect::Do(chat.policy_action(p.to_string()))],
        },
        "/retry" => {
            let model = match (arg, words.next()) {
                (None, _) => None,
                (Some("--model" | "-m"), Some(m)) => Some(m.to_string()),
                (Some("--model" | "-m"), None) => {
                    chat.notice("Usage: /retry [--model provider/model]", Level::Error);
                    return vec![];
                }
                (Some(m), _) => Some(m.to_string()),
            };
            chat.retry_action(model)
                .map(Effect::Do)
                .into_iter()
                .collect()
        }
        "/context" | "/compact" | "/pin" | "/unpin" | "/fork" | "/processes" => {
            chat.context_command(cmd, arg)
        }
        "/setup" => vec![Effect::OpenSetup],
        "/grants" | "/approvals" => {
            let (view, load) = crate::screens::grants::GrantsView::open();
            chat.grants = Some(view);
            vec![Effect::Do(load)]
        }
        "/export" => {
            let format = match arg {
                None | Some("md" | "markdown") => ExportFormat::Markdown,
                Some("json") => ExportFormat::Json,
                Some(other) => {
                    chat.notice(
                        format!("Unknown export format {other:?}: use md or json."),
                        Level::Error,
                    );
                    return vec![];
                }
            };
            match &chat.session_id {
                Some(id) => vec![Effect::Do(Action::ExportSession {
                    id: id.clone(),
                    format,
                })],
                None => {
                    chat.notice("Nothing to export yet: send a message first.", Level::Error);
                    vec![]
                }
            }
        }
        "/help" => vec![Effect::Help],
        "/quit" | "/exit" => vec![Effect::Quit],
        other => {
            chat.notice(
                format!("Unknown command {other}: /help lists the commands."),
                Level::Error,
            );
            vec![]
        }
    }
}
