#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every screen rendered into an 80×24 test terminal (and a few other sizes), compared with the
//! stored snapshots under `tests/snapshots/`.

use crate::common;

use common::{approval, ev, render, streaming_chat, summary};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use pryx_protocol::Surface;
use pryx_protocol::api::{ApprovalAnswer, ApprovalDecision, ApprovalOutcome, ApprovalScope};
use pryx_testkit::events::approval_resolved;
use pryx_tui::model::{McpServerView, McpTestReport, McpToolView, SkillView, SpanView};
use pryx_tui::{AppState, ConnectionState, CoreUpdate, Response, Screen, Theme};
use ratatui::style::Color;

fn plain() -> Theme {
    Theme::plain()
}

fn connected() -> AppState {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    s
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

#[test]
fn chat_empty() {
    assert_snapshot!(render(&connected(), 80, 24, &plain()));
}

#[test]
fn chat_streaming_with_tool_cards() {
    assert_snapshot!(render(&streaming_chat(), 80, 24, &plain()));
}

#[test]
fn chat_streaming_wide() {
    assert_snapshot!(render(&streaming_chat(), 120, 30, &plain()));
}

#[test]
fn chat_multiline_input() {
    let mut s = connected();
    for c in "first line".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    s.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    for c in "second line".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn chat_approval_prompt() {
    let mut s = streaming_chat();
    let preview = "$ cargo test --workspace\n  in /home/me/project\n  timeout 120 s, network off";
    s.apply(&ev("s1", approval("a1", "s1", preview)));
    s.apply(&ev("s2", approval("a2", "s2", "rm -rf target")));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn approval_resolved_elsewhere_disappears() {
    let mut s = streaming_chat();
    s.apply(&ev("s1", approval("a1", "s1", "cargo test")));
    let outcome = ApprovalOutcome::Answered(ApprovalAnswer {
        decision: ApprovalDecision::Deny,
        scope: ApprovalScope::Once,
        surface: Surface::Web,
    });
    s.apply(&ev("s1", approval_resolved("a1", "tc2", outcome)));
    let out = render(&s, 80, 24, &plain()).to_string();
    assert!(!out.contains("Approve shell.exec"), "{out}");
    assert!(out.contains("denied"), "{out}");
}

#[test]
fn help_overlay() {
    let mut s = connected();
    s.handle_key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn help_overlay_scrolled_lists_every_key() {
    let mut s = connected();
    s.help = Some(0);
    let theme = plain();
    // Scroll through the whole overlay, collecting what it shows.
    let mut seen = String::new();
    for _ in 0..10 {
        seen.push_str(&render(&s, 80, 24, &theme).to_string());
        s.handle_key(key(KeyCode::PageDown));
    }
    for (_, keys, what) in pryx_tui::ui::help::KEYMAP {
        assert!(
            seen.contains(keys) && seen.contains(what),
            "help misses {keys}: {what}"
        );
    }
}

#[test]
fn error_panel() {
    let mut s = streaming_chat();
    s.on_core(CoreUpdate::Connection(ConnectionState::Down {
        reason: "The core crashed 5 times in a row; it will not be restarted automatically.".into(),
        failures: 5,
        log_tail: (1..=12)
            .map(|i| format!("2026-01-27T12:00:{i:02}Z ERROR core: database is locked ({i})"))
            .collect(),
    }));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

fn sessions_state() -> AppState {
    let mut s = connected();
    s.show(Screen::Sessions);
    let mut with_snippet = summary("s2", "Refactor the «database» layer", 98_000, 1.2345);
    with_snippet.snippet = Some("…move the «database» pool into its own module…".into());
    let mut busy = summary("s3", "Plan the release", 400, 0.0004);
    busy.busy = true;
    s.on_response(Response::Sessions {
        query: String::new(),
        sessions: vec![
            summary("s1", "Fix the build", 12_400, 0.0312),
            with_snippet,
            busy,
        ],
    });
    s
}

#[test]
fn sessions_list() {
    let mut s = sessions_state();
    s.handle_key(key(KeyCode::Down));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn sessions_search_empty_result() {
    let mut s = sessions_state();
    s.handle_key(key(KeyCode::Char('/')));
    for c in "kubernetes".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    s.on_response(Response::Sessions {
        query: "kubernetes".into(),
        sessions: vec![],
    });
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn sessions_delete_confirmation() {
    let mut s = sessions_state();
    s.handle_key(key(KeyCode::Char('d')));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn skills_list_with_info() {
    let mut s = connected();
    s.show(Screen::Skills);
    let skill = |name: &str, enabled, missing: &[&str], desc: &str| SkillView {
        name: name.into(),
        description: desc.into(),
        source: "bundled".into(),
        enabled,
        eligible: missing.is_empty(),
        missing: missing.iter().map(|m| m.to_string()).collect(),
    };
    s.on_response(Response::Skills(vec![
        skill(
            "github",
            true,
            &["env:GITHUB_TOKEN"],
            "Issues and pull requests with gh",
        ),
        skill("summarize", true, &[], "Summarize long documents"),
        skill("weather", false, &[], "Forecasts from a public API"),
    ]));
    s.handle_key(key(KeyCode::Char('i')));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn mcp_servers_and_tools() {
    let mut s = connected();
    s.show(Screen::Mcp);
    let tool = |n: &str, d: &str| McpToolView {
        name: n.into(),
        description: d.into(),
    };
    s.on_response(Response::McpServers(vec![
        McpServerView {
            name: "filesystem".into(),
            transport: "stdio".into(),
            status: "connected".into(),
            error: None,
            tools: vec![
                tool("read_file", "Read a file"),
                tool("list_directory", "List a directory"),
            ],
        },
        McpServerView {
            name: "remote-docs".into(),
            transport: "http".into(),
            status: "failed".into(),
            error: Some("401 Unauthorized: run pryx mcp auth remote-docs".into()),
            tools: vec![],
        },
    ]));
    s.on_response(Response::McpTested(McpTestReport {
        name: "filesystem".into(),
        ok: true,
        message: "connected".into(),
        tool_count: 2,
        latency_ms: 31,
    }));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn telemetry_timeline() {
    let mut s = streaming_chat();
    s.show(Screen::Telemetry);
    let span = |id: &str,
                parent: Option<&str>,
                kind: &str,
                name: &str,
                start: u64,
                end: Option<u64>,
                tokens: Option<(u64, u64)>,
                cost: Option<f64>| SpanView {
        id: id.into(),
        parent_id: parent.map(Into::into),
        kind: kind.into(),
        name: name.into(),
        start_ms: 1_000_000 + start,
        end_ms: end.map(|e| 1_000_000 + e),
        status: "ok".into(),
        tokens_in: tokens.map(|t| t.0),
        tokens_out: tokens.map(|t| t.1),
        cost_usd: cost,
    };
    s.on_response(Response::Spans {
        session_id: "s1".into(),
        spans: vec![
            span(
                "t",
                None,
                "turn",
                "turn",
                0,
                Some(9_000),
                Some((12_000, 900)),
                Some(0.0312),
            ),
            span(
                "m1",
                Some("t"),
                "model_call",
                "claude-sonnet-4",
                0,
                Some(2_100),
                Some((6_000, 300)),
                Some(0.015),
            ),
            span(
                "c1",
                Some("t"),
                "tool_call",
                "fs.read",
                2_150,
                Some(2_160),
                None,
                None,
            ),
            span(
                "m2",
                Some("t"),
                "model_call",
                "claude-sonnet-4",
                2_200,
                Some(4_000),
                Some((6_000, 600)),
                Some(0.0162),
            ),
            span(
                "a1",
                Some("t"),
                "approval_wait",
                "shell.exec",
                4_000,
                Some(7_500),
                None,
                None,
            ),
            span(
                "c2",
                Some("t"),
                "tool_call",
                "shell.exec",
                7_500,
                Some(9_000),
                None,
                None,
            ),
        ],
    });
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

#[test]
fn telemetry_without_session() {
    let mut s = connected();
    s.show(Screen::Telemetry);
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

fn export_status(enabled: bool) -> pryx_protocol::api::TelemetryStatus {
    use pryx_protocol::api::{ExportCounts, ExportSample, TelemetryStatus, TelemetryTier};
    TelemetryStatus {
        enabled,
        endpoint: Some("http://127.0.0.1:4318".into()),
        tier: TelemetryTier::Standard,
        sampling_ratio: 1.0,
        headers: vec![],
        debug_ends_at: None,
        counts: ExportCounts {
            spans: 42,
            logs: 3,
            metric_exports: 5,
            dropped: 0,
            failures: 1,
        },
        last_export_at: Some("2026-12-03T10:15:02Z".into()),
        last_error: None,
        problem: None,
        sample: vec![
            ExportSample {
                name: "invoke_agent pryx".into(),
                kind: "turn".into(),
                duration_ms: 1830,
                attributes: [
                    ("gen_ai.request.model".to_string(), "gpt-4o".to_string()),
                    ("pryx.surface".to_string(), "tui".to_string()),
                ]
                .into(),
            },
            ExportSample {
                name: "execute_tool fs.read\u{1b}[31m".into(),
                kind: "tool_call".into(),
                duration_ms: 4,
                attributes: [("gen_ai.tool.name".to_string(), "fs.read".to_string())].into(),
            },
        ],
    }
}

#[test]
fn telemetry_export_on_and_its_confirmation() {
    let mut s = connected();
    s.show(Screen::Telemetry);
    s.on_response(Response::Telemetry {
        status: Box::new(export_status(true)),
        changed: false,
    });
    assert_snapshot!("telemetry_export_on", render(&s, 100, 12, &plain()));
    s.on_response(Response::Telemetry {
        status: Box::new(export_status(false)),
        changed: false,
    });
    s.handle_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('e'),
    ));
    assert!(s.telemetry.export.confirming);
    // A hostile span name (an MCP tool's) is shown escaped, never as a terminal sequence.
    assert_snapshot!("telemetry_export_confirm", render(&s, 100, 24, &plain()));
}

#[test]
fn every_size_renders_without_panicking() {
    let mut states = vec![streaming_chat(), sessions_state()];
    let mut help = streaming_chat();
    help.help = Some(3);
    states.push(help);
    let mut approval_state = streaming_chat();
    approval_state.apply(&ev("s1", approval("a1", "s1", &"line\n".repeat(40))));
    states.push(approval_state);
    for s in &states {
        for w in (1..=130).step_by(7) {
            for h in (1..=40).step_by(3) {
                render(s, w, h, &plain());
            }
        }
    }
}

#[test]
fn no_color_theme_paints_no_colors() {
    let mut s = streaming_chat();
    s.apply(&ev("s1", approval("a1", "s1", "cargo test")));
    let backend = render(&s, 80, 24, &Theme::plain());
    for cell in backend.buffer().content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    // The color theme does paint.
    let backend = render(&s, 80, 24, &Theme::color());
    assert!(
        backend
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != Color::Reset)
    );
}

/// A model answer, a tool's arguments and its error message carrying terminal controls (OSC 52
/// clipboard, OSC 0 title, a screen clear, a bidi override) show escaped and marked.
#[test]
fn chat_hostile_text_is_shown_escaped() {
    use pryx_protocol::NotRun;
    use pryx_testkit::events::{
        assistant_message, tool_not_run, tool_request, turn_completed, turn_started, user_message,
    };
    let mut s = connected();
    s.on_response(Response::SessionCreated(summary("s1", "hostile", 0, 0.0)));
    let answer = "Done.\x1b]52;c;cHduZWQ=\x07\x1b]0;EVIL\x07\x1b[2J\x1b[H Open r\u{202e}fdp.exe";
    for e in [
        ev("s1", user_message(1, "summarise the page")),
        ev("s1", turn_started()),
        ev(
            "s1",
            tool_request(
                "tc1",
                "fs.read",
                serde_json::json!({"path": "a\x1b[31m.txt"}),
            ),
        ),
        ev(
            "s1",
            tool_not_run(
                "tc1",
                "fs.read",
                NotRun::Failed,
                "a\x1b[31m.txt: no such file",
            ),
        ),
        ev("s1", assistant_message(2, answer)),
        ev(
            "s1",
            turn_completed(pryx_protocol::TurnStop::Completed, 2, 0.0),
        ),
    ] {
        s.on_core(CoreUpdate::Event(e));
    }
    let screen = render(&s, 80, 24, &plain());
    assert!(!format!("{screen}").contains('\x1b'), "{screen}");
    assert_snapshot!(screen);
}

/// The rows of a rendered screen as one line of words (wrapping breaks lines at spaces).
fn words(screen: &ratatui::backend::TestBackend) -> String {
    let buf = screen.buffer();
    let mut rows = Vec::new();
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        rows.push(row);
    }
    rows.join(" ")
        .split(|c: char| c.is_whitespace() || "│·".contains(c))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A provider's error of 300 characters, with the setting to change at its end.
const PROVIDER_ERROR: &str = "The provider refused the request (401 Unauthorized): Incorrect API key provided: sk-proj-****7f3a. The key read from OPENAI_API_KEY is not valid for https://api.openai.com/v1. To fix it, export a valid key in OPENAI_API_KEY or set providers.openai.api_key_env to the variable that holds one, then send the message again.";

/// A failed turn says its error once, wrapped whole in the transcript, the fix included.
#[test]
fn chat_long_provider_error_is_shown_whole_and_once() {
    use pryx_protocol::ErrorCode;
    use pryx_testkit::events::{error_occurred, turn_failed, turn_started, user_message};
    assert!(PROVIDER_ERROR.chars().count() >= 300);
    let mut s = connected();
    s.on_response(Response::SessionCreated(summary("s1", "Hello", 0, 0.0)));
    for e in [
        ev("s1", user_message(1, "Hello")),
        ev("s1", turn_started()),
        ev("s1", error_occurred(ErrorCode::LlmAuth, PROVIDER_ERROR)),
        ev("s1", turn_failed(ErrorCode::LlmAuth, PROVIDER_ERROR)),
    ] {
        s.on_core(CoreUpdate::Event(e));
    }
    let screen = render(&s, 80, 24, &plain());
    let seen = words(&screen);
    assert!(seen.contains(&words_of(PROVIDER_ERROR)), "{seen}");
    assert_eq!(seen.matches("Incorrect API key").count(), 1, "{seen}");
    assert_snapshot!(screen);
}

fn words_of(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A failed action's error is cut in the status bar; the panel over the screen holds it whole
/// until Esc.
#[test]
fn a_failed_action_shows_its_whole_error_in_a_panel() {
    let mut s = streaming_chat();
    s.on_response(Response::Failed {
        what: "set the default model".into(),
        error: PROVIDER_ERROR.into(),
    });
    let screen = render(&s, 80, 24, &plain());
    assert!(words(&screen).contains(&words_of(PROVIDER_ERROR)));
    assert_snapshot!(screen);
    s.handle_key(key(KeyCode::Esc));
    assert!(!words(&render(&s, 80, 24, &plain())).contains("send the message again"));
}

/// Ctrl-O opens the last tool card: the tool's stored result, escaped, under its arguments.
#[test]
fn chat_expanded_tool_card_shows_its_output() {
    use pryx_testkit::events::tool_result_message;
    let mut s = streaming_chat();
    let result = "<untrusted-0123456789abcdef source=\"fs.read\">\n[workspace]\nmembers = [\"crates/*\", \"tools/gen\"]\nresolver = \"2\"\x1b[2J\n</untrusted-0123456789abcdef>";
    s.apply(&ev("s1", tool_result_message(5, "call-tc1", result, false)));
    // The first card is not the last one: Alt-O opens every card, Ctrl-O then closes the last.
    s.handle_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::ALT));
    s.handle_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL));
    let screen = render(&s, 80, 24, &plain());
    assert!(!format!("{screen:?}").contains('\x1b'));
    assert_snapshot!(screen);
}

/// A long output shows its first rows and how many more there are.
#[test]
fn chat_expanded_tool_card_caps_a_long_output() {
    use pryx_testkit::events::{tool_ran, tool_result_message};
    let mut s = streaming_chat();
    s.apply(&ev("s1", tool_ran("tc2", "shell.exec", false, 2310)));
    let out: String = (1..=40)
        .map(|i| format!("test module_{i:02}::works ... ok\n"))
        .collect();
    s.apply(&ev(
        "s1",
        tool_result_message(6, "call-tc2", out.trim_end(), false),
    ));
    // Closed, the last card says how to open it.
    let closed = words(&render(&s, 80, 24, &plain()));
    assert!(closed.contains("2310 ms Ctrl-O output"), "{closed}");
    s.handle_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL));
    let screen = render(&s, 80, 24, &plain());
    assert!(!words(&screen).contains("Ctrl-O output"));
    assert!(
        words(&screen).contains("… 28 more lines"),
        "{}",
        words(&screen)
    );
    assert_snapshot!(screen);
}

/// The approval card's hint is the shared table's, as the prompt of `pryx run` shows it.
#[test]
fn approval_hint_is_the_shared_one() {
    let mut s = streaming_chat();
    s.apply(&ev("s1", approval("a1", "s1", "cargo test")));
    let screen = render(&s, 80, 24, &plain());
    assert!(
        format!("{screen:?}").contains(&format!(
            " {} · ↑↓ scroll ",
            pryx_tui::approval_keys::hint()
        )),
        "{screen:?}"
    );
    assert_snapshot!(screen);
}

#[test]
fn chat_context_warning_then_compaction() {
    let mut s = streaming_chat();
    s.apply(&ev(
        "s1",
        pryx_protocol::ContextWarning {
            tokens: 106_500,
            window: 128_000,
            percent: 83.2,
            compact_at_percent: 90,
        },
    ));
    let warned = render(&s, 100, 24, &plain()).to_string();
    assert!(warned.contains("ctx 83%"), "{warned}");
    s.apply(&ev(
        "s1",
        pryx_protocol::ContextCompacted {
            compaction_id: "k1".into(),
            trigger: "auto".into(),
            messages: 40,
            through_seq: 40,
            tokens_before: 116_000,
            tokens_after: 21_000,
            window: 128_000,
            cost_usd: 0.0123,
        },
    ));
    assert_snapshot!(render(&s, 100, 24, &plain()));
}
