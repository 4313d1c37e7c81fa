//! Fixtures shared by the integration tests: sample data, a renderer and a fake core.
#![allow(dead_code)]

pub mod fake;

use pryx_protocol::ErrorCode;
use pryx_protocol::api::{
    ChannelOutbox, ChannelState, ChannelView, ModelView, NotificationDelivery, NotificationView,
    PairedSenderView, PairingCode, PendingApproval, ProviderPreset, ProviderTestReport, RunReason,
    RunStatus, SessionSummary, TaskRunView, TaskStatus, TaskView,
};
use pryx_protocol::{Event, EventPayload};
use pryx_testkit::events::{
    event, text_delta, tool_executing, tool_ran, tool_request, turn_started, user_message,
};
use pryx_tui::{AppState, Theme, ui};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

/// An event of `session` (the TUI reads no versions).
pub fn ev(session: &str, payload: impl Into<EventPayload>) -> Event {
    event(session, None, payload)
}

pub fn summary(id: &str, title: &str, tokens: u64, cost: f64) -> SessionSummary {
    SessionSummary {
        id: id.into(),
        workspace_id: None,
        title: title.into(),
        status: "idle".into(),
        model: Some("anthropic/claude-sonnet-4".into()),
        agent: None,
        policy: None,
        workspace: None,
        workspace_warning: None,
        created_at: "2026-01-27T12:00:00Z".into(),
        updated_at: "2026-01-27T14:05:09Z".into(),
        total_tokens_in: tokens,
        total_tokens_out: tokens / 4,
        total_cost_usd: cost,
        busy: false,
        parent_id: None,
        snippet: None,
    }
}

/// The approval of `cargo test` (call `tc2`), showing `preview`.
pub fn approval(id: &str, session: &str, preview: &str) -> PendingApproval {
    PendingApproval {
        fingerprint: "f".into(),
        rule: "shell-always-asks".into(),
        reason: "Shell commands need your approval".into(),
        preview: preview.into(),
        timeout_secs: 120,
        created_at: "2026-01-27T12:00:00Z".into(),
        looks_like_secret: Vec::new(),
        workspace: None,
        policy: None,
        ..pryx_testkit::events::approval(
            id,
            session,
            "tc2",
            "shell.exec",
            json!({"command": "cargo test"}),
        )
    }
}

/// Renders the state into a `w`×`h` test terminal and returns the backend.
pub fn render(state: &AppState, w: u16, h: u16, theme: &Theme) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| ui::draw(f, state, theme)).unwrap();
    terminal.backend().clone()
}

/// A chat in session `s1` with a streamed answer, a finished tool card and a running one.
pub fn streaming_chat() -> AppState {
    let mut s = AppState::new(None);
    s.on_core(pryx_tui::CoreUpdate::Connection(
        pryx_tui::ConnectionState::Connected,
    ));
    s.on_response(pryx_tui::Response::SessionCreated(summary(
        "s1",
        "Fix the build",
        12_400,
        0.0312,
    )));
    let events = [
        ev("s1", user_message(1, "Why does the build fail?")),
        ev("s1", turn_started()),
        ev("s1", text_delta("Let me read the manifest first.")),
        ev(
            "s1",
            tool_request("tc1", "fs.read", json!({"path": "Cargo.toml"})),
        ),
        ev("s1", tool_executing("tc1", "fs.read")),
        ev("s1", tool_ran("tc1", "fs.read", false, 4)),
        ev(
            "s1",
            text_delta("The workspace lists a crate that does not exist. "),
        ),
        ev("s1", text_delta("I will run the tests to")),
        ev(
            "s1",
            tool_request(
                "tc2",
                "shell.exec",
                json!({"command": "cargo test", "timeout_secs": 120}),
            ),
        ),
        ev("s1", tool_executing("tc2", "shell.exec")),
    ];
    for e in &events {
        s.apply(e);
    }
    s
}

fn preset(id: &str, name: &str, base_url: &str, env_found: Option<&str>) -> ProviderPreset {
    ProviderPreset {
        id: id.into(),
        name: name.into(),
        kind: "openai-compatible".into(),
        base_url: base_url.into(),
        env: vec![format!("{}_API_KEY", id.to_uppercase())],
        env_found: env_found.map(Into::into),
        needs_key: true,
        local: false,
        suggested_model: None,
    }
}

/// What a core offers to set up: two cloud providers (OpenAI's key is in the environment) and a
/// local one.
pub fn presets() -> Vec<ProviderPreset> {
    let mut openai = preset(
        "openai",
        "OpenAI",
        "https://api.openai.com/v1",
        Some("OPENAI_API_KEY"),
    );
    openai.suggested_model = Some("gpt-4o-mini".into());
    let mut anthropic = preset("anthropic", "Anthropic", "https://api.anthropic.com", None);
    anthropic.kind = "anthropic".into();
    anthropic.suggested_model = Some("claude-sonnet-4".into());
    let mut ollama = preset("ollama", "Ollama", "http://localhost:11434/v1", None);
    ollama.needs_key = false;
    ollama.local = true;
    ollama.env = vec![];
    vec![openai, anthropic, ollama]
}

fn model(provider: &str, name: &str, cost: (f64, f64), default: bool) -> ModelView {
    ModelView {
        id: format!("{provider}/{name}"),
        provider: provider.into(),
        name: name.into(),
        context: 128_000,
        output: 16_384,
        tool_call: true,
        reasoning: false,
        input_cost: cost.0,
        output_cost: cost.1,
        default,
    }
}

/// The models a core lists: configured providers' first, the default marked.
pub fn models() -> Vec<ModelView> {
    vec![
        model("openai", "gpt-4o", (2.5, 10.0), true),
        model("openai", "gpt-4o-mini", (0.15, 0.6), false),
        model("openai", "o3", (2.0, 8.0), false),
        model("anthropic", "claude-sonnet-4", (3.0, 15.0), false),
    ]
}

/// The report of a test call: a quick answer, or OpenAI's words for a wrong key.
pub fn test_report(ok: bool) -> ProviderTestReport {
    ProviderTestReport {
        ok,
        model: "openai/gpt-4o-mini".into(),
        latency_ms: if ok { 412 } else { 98 },
        tokens_in: if ok { 12 } else { 0 },
        tokens_out: if ok { 3 } else { 0 },
        cost_usd: if ok { 0.000_003_6 } else { 0.0 },
        error_code: (!ok).then_some(ErrorCode::LlmAuth),
        error: (!ok).then(|| {
            "Incorrect API key provided: sk-wron****. You can find your API key at \
             https://platform.openai.com/account/api-keys. (401 Unauthorized, request \
             req_8f2c1d0e9b7a4c3e)"
                .to_string()
        }),
    }
}

fn channel(id: &str, kind: &str, state: ChannelState, detail: &str) -> ChannelView {
    let telegram = kind == "telegram";
    ChannelView {
        id: id.into(),
        kind: kind.into(),
        enabled: state != ChannelState::Paused,
        agent: "main".into(),
        mode: telegram.then(|| "polling".into()),
        dm_policy: telegram.then(|| "pairing".into()),
        state,
        detail: detail.into(),
        bot: None,
        last_ok_at: None,
        last_error: None,
        last_filtered: None,
        outbox: ChannelOutbox::default(),
        paired: vec![],
    }
}

/// A core's channels: a bot that works and has paired senders, one whose polls fail, a paused
/// one and a webhook.
pub fn channels() -> Vec<ChannelView> {
    let mut family = channel("family", "telegram", ChannelState::Connected, "polling");
    family.bot = Some("@family_pryx_bot".into());
    family.last_ok_at = Some("2026-01-27T14:05:09Z".into());
    family.last_filtered =
        Some("Mallory (5550123) is not paired; they were told how to pair".into());
    family.outbox = ChannelOutbox {
        queued: 1,
        sent: 42,
        failed: 0,
        maybe_duplicate: 2,
    };
    family.paired = vec![
        PairedSenderView {
            sender_id: "1234567".into(),
            display: "Ana (@ana)".into(),
            paired_at: "2026-01-20T09:00:00Z".into(),
        },
        PairedSenderView {
            sender_id: "7654321".into(),
            display: "Bo".into(),
            paired_at: "2026-01-22T18:30:00Z".into(),
        },
    ];
    let mut work = channel(
        "work",
        "telegram",
        ChannelState::Degraded,
        "getUpdates failed: 502 Bad Gateway; retrying",
    );
    work.bot = Some("@work_pryx_bot".into());
    work.last_ok_at = Some("2026-01-27T13:58:00Z".into());
    work.last_error = Some("getUpdates failed: 502 Bad Gateway".into());
    work.outbox.failed = 1;
    let mut old = channel(
        "old-bot",
        "telegram",
        ChannelState::Paused,
        "paused; `pryx channels resume` starts it again",
    );
    old.bot = Some("@old_pryx_bot".into());
    let mut hook = channel(
        "github",
        "webhook",
        ChannelState::Connected,
        "receiving signed requests",
    );
    hook.last_ok_at = Some("2026-01-27T12:00:00Z".into());
    hook.outbox.sent = 7;
    vec![family, work, old, hook]
}

/// The code the fake core pairs with.
pub fn pairing_code(channel: &str) -> PairingCode {
    PairingCode {
        channel: channel.into(),
        code: "K7QM-3XPA".into(),
        expires_at: "2026-01-27T14:15:09Z".into(),
        instructions: "Send K7QM-3XPA to @family_pryx_bot on Telegram within 10 minutes (once; the code then stops working).".into(),
    }
}

pub use pryx_testkit::tasks::{task, task_run};

/// A finished run with tokens, cost, an answer and its dashboard notification.
pub fn finished_run(task_id: &str, n: u64, ok: bool) -> TaskRunView {
    let mut r = task_run(
        task_id,
        n,
        if ok {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        },
    );
    r.started_at = format!("2026-12-01T19:{:02}:00Z", 30 + n);
    r.finished_at = Some(format!("2026-12-01T19:{:02}:02Z", 30 + n));
    r.duration_ms = Some(2150);
    r.reason = RunReason::Schedule;
    r.tokens_in = 1234;
    r.tokens_out = 310;
    r.cost_usd = 0.0042;
    r.session_id = Some(format!("ses-{n}"));
    if ok {
        r.summary = Some("Three new issues: #12 crash on start\n#13 docs".into());
    } else {
        r.error = Some("the model refused: rate limited (429)".into());
        r.denied = vec!["shell.exec: curl https://example.com".into()];
    }
    r.notifications = vec![NotificationDelivery {
        target: "dashboard".into(),
        state: "delivered".into(),
        reason: None,
        at: format!("2026-12-01T19:{:02}:03Z", 30 + n),
    }];
    r
}

/// An active task with two runs, a paused one and a failed one.
pub fn tasks() -> Vec<TaskView> {
    let mut demo = task("t1", "demo", TaskStatus::Active, "every 10s");
    demo.last_run = Some(finished_run("t1", 2, true));
    demo.runs = 2;
    demo.cost_this_month_usd = 0.0084;
    let mut digest = task(
        "t2",
        "digest",
        TaskStatus::Paused,
        "at 09:00 on Monday (Europe/Berlin)",
    );
    digest.next_run_at = None;
    digest.last_run = Some(finished_run("t2", 1, false));
    digest.runs = 1;
    digest.cost_this_month_usd = 0.0042;
    let mut watch = task(
        "t3",
        "watch-notes",
        TaskStatus::Failed,
        "when `notes/*.md` changes",
    );
    watch.next_run_at = None;
    watch.error = Some("the watch could not be set up: no such directory notes".into());
    vec![demo, digest, watch]
}

/// A notification of task `demo`'s run `n`.
pub fn notification(id: i64, ok: bool, read: bool) -> NotificationView {
    NotificationView {
        id,
        task_id: "t1".into(),
        task_name: "demo".into(),
        run_id: format!("t1-r{id}"),
        status: if ok {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        },
        title: if ok {
            format!("Task demo ran (run #{id})")
        } else {
            format!("Task demo failed (run #{id})")
        },
        body: String::new(),
        created_at: "2026-12-01T19:45:03Z".into(),
        read,
    }
}
