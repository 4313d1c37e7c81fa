use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pryx_protocol::api::SessionSummary;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn summary(id: &str, title: &str) -> SessionSummary {
    SessionSummary {
        id: id.into(),
        workspace_id: None,
        title: title.into(),
        status: "idle".into(),
        model: None,
        agent: None,
        policy: None,
        workspace: None,
        workspace_warning: None,
        created_at: "2026-01-27T12:00:00Z".into(),
        updated_at: "2026-01-27T12:00:00Z".into(),
        total_tokens_in: 0,
        total_tokens_out: 0,
        total_cost_usd: 0.0,
        busy: false,
        parent_id: None,
        snippet: None,
    }
}

fn down() -> ConnectionState {
    ConnectionState::Down {
        reason: "gone".into(),
        failures: 5,
        log_tail: vec![],
    }
}

#[test]
fn tab_and_numbers_switch_screens_and_load_them() {
    let mut s = AppState::new(None);
    assert_eq!(
        s.handle_key(key(KeyCode::Tab)),
        vec![Action::SearchSessions {
            query: String::new()
        }]
    );
    assert_eq!(s.screen, Screen::Sessions);
    assert_eq!(
        s.handle_key(key(KeyCode::Char('4'))),
        vec![Action::LoadSkills]
    );
    assert_eq!(s.screen, Screen::Skills);
    assert_eq!(
        s.handle_key(key(KeyCode::Char('5'))),
        vec![Action::LoadMcpServers]
    );
    assert_eq!(
        s.handle_key(key(KeyCode::Char('3'))),
        vec![Action::LoadChannels]
    );
    // No session yet: only the export's state loads, the timeline has nothing to.
    assert_eq!(
        s.handle_key(key(KeyCode::Char('6'))),
        vec![Action::LoadTelemetry]
    );
    assert_eq!(s.screen, Screen::Telemetry);
    s.handle_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(s.screen, Screen::Mcp);
    assert_eq!(
        s.handle_key(key(KeyCode::Char('7'))),
        vec![Action::LoadTasks]
    );
    s.handle_key(key(KeyCode::Char('1')));
    assert_eq!(s.screen, Screen::Chat);
    s.handle_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(s.screen, Screen::Tasks, "Shift-Tab wraps around");
}

#[test]
fn in_chat_digits_and_question_marks_are_text_but_alt_digits_switch() {
    let mut s = AppState::new(None);
    s.handle_key(key(KeyCode::Char('2')));
    s.handle_key(key(KeyCode::Char('?')));
    assert_eq!(s.screen, Screen::Chat);
    assert_eq!(s.chat.input_text(), "2?");
    assert!(s.help.is_none());
    s.handle_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::ALT));
    assert_eq!(s.screen, Screen::Sessions);
}

#[test]
fn help_opens_with_question_mark_or_f1_and_closes_with_esc() {
    let mut s = AppState::new(None);
    s.handle_key(key(KeyCode::Char('?')));
    assert_eq!(s.help, Some(0), "? opens help when the input is empty");
    s.handle_key(key(KeyCode::Down));
    assert_eq!(s.help, Some(1));
    s.handle_key(key(KeyCode::Char('x')));
    assert!(
        s.chat.input.is_empty(),
        "keys do not leak through the help overlay"
    );
    s.handle_key(key(KeyCode::Esc));
    assert!(s.help.is_none());
    s.handle_key(key(KeyCode::F(1)));
    assert!(s.help.is_some());
}

#[test]
fn q_quits_outside_text_fields_only() {
    let mut s = AppState::new(None);
    s.handle_key(key(KeyCode::Char('q')));
    assert!(!s.quit);
    s.handle_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::ALT));
    s.handle_key(key(KeyCode::Char('q')));
    assert!(s.quit);
    let mut s = AppState::new(None);
    s.handle_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL));
    assert!(s.quit);
}

#[test]
fn error_panel_retries_hides_and_clears_on_reconnect() {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(down()));
    assert!(s.error_panel_open());
    assert_eq!(s.handle_key(key(KeyCode::Char('r'))), vec![Action::Retry]);
    assert_eq!(
        s.handle_key(key(KeyCode::Char('2'))),
        vec![],
        "the panel is modal"
    );
    assert_eq!(s.screen, Screen::Chat);
    s.handle_key(key(KeyCode::Esc));
    assert!(!s.error_panel_open());
    let actions = s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    assert_eq!(actions, vec![Action::LoadApprovals, Action::LoadProviders]);
    s.on_core(CoreUpdate::Connection(down()));
    assert!(s.error_panel_open(), "a new outage shows the panel again");
    s.on_response(Response::Providers(vec![]));
    s.setup = None;
    // Providers are looked at once: a reconnect does not reopen setup.
    let actions = s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    assert_eq!(actions, vec![Action::LoadApprovals]);
}

#[test]
fn search_as_you_type_keeps_only_the_latest_results() {
    let mut s = AppState::new(None);
    s.handle_key(key(KeyCode::Char('2')));
    s.handle_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::ALT));
    assert_eq!(s.handle_key(key(KeyCode::Char('/'))), vec![]);
    assert_eq!(
        s.handle_key(key(KeyCode::Char('d'))),
        vec![Action::SearchSessions { query: "d".into() }]
    );
    assert_eq!(
        s.handle_key(key(KeyCode::Char('b'))),
        vec![Action::SearchSessions { query: "db".into() }]
    );
    // Typed letters went to the query, not to the screen keys (d would delete).
    assert!(s.sessions.confirm.is_none());
    s.on_response(Response::Sessions {
        query: "db".into(),
        sessions: vec![summary("s2", "database")],
    });
    s.on_response(Response::Sessions {
        query: "d".into(),
        sessions: vec![summary("s1", "old")],
    });
    assert_eq!(s.sessions.sessions.len(), 1);
    assert_eq!(s.sessions.sessions[0].id, "s2");
    s.handle_key(key(KeyCode::Esc));
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        vec![Action::ResumeSession { id: "s2".into() }]
    );
}

#[test]
fn delete_and_export_ask_first() {
    let mut s = AppState::new(None);
    s.show(Screen::Sessions);
    s.on_response(Response::Sessions {
        query: String::new(),
        sessions: vec![summary("s1", "a"), summary("s2", "b")],
    });
    s.handle_key(key(KeyCode::Down));
    assert_eq!(s.handle_key(key(KeyCode::Char('d'))), vec![]);
    assert_eq!(
        s.handle_key(key(KeyCode::Char('n'))),
        vec![],
        "anything but y keeps it"
    );
    s.handle_key(key(KeyCode::Char('d')));
    assert_eq!(
        s.handle_key(key(KeyCode::Char('y'))),
        vec![Action::DeleteSession { id: "s2".into() }]
    );
    s.on_response(Response::Deleted { id: "s2".into() });
    assert_eq!(s.sessions.sessions.len(), 1);
    assert_eq!(s.sessions.selected, 0);
    s.handle_key(key(KeyCode::Char('e')));
    assert_eq!(
        s.handle_key(key(KeyCode::Char('m'))),
        vec![Action::ExportSession {
            id: "s1".into(),
            format: crate::model::ExportFormat::Markdown
        }]
    );
    s.on_response(Response::Exported {
        id: "s1".into(),
        location: "exports/s1.md".into(),
    });
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("exports/s1.md"))
    );
}

#[test]
fn resume_opens_chat_and_a_failed_prompt_stops_the_spinner() {
    let mut s = AppState::new(Some("s7".into()));
    assert_eq!(
        s.startup(),
        vec![
            Action::LoadApprovals,
            Action::ResumeSession { id: "s7".into() }
        ]
    );
    for c in "hi".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    s.handle_key(key(KeyCode::Enter));
    assert!(s.chat.turn_running);
    s.on_response(Response::Failed {
        what: crate::action::SEND_PROMPT.into(),
        error: "boom".into(),
    });
    assert!(!s.chat.turn_running);
    assert!(s.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn first_prompt_adopts_the_created_session_and_new_clears() {
    let mut s = AppState::new(None);
    for c in "hi".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    s.handle_key(key(KeyCode::Enter));
    s.on_response(Response::SessionCreated(summary("s1", "hi")));
    assert_eq!(s.chat.session_id.as_deref(), Some("s1"));
    assert_eq!(s.chat.entries.len(), 1, "the prompt stays");
    s.on_response(Response::SessionCreated(summary("s2", "new")));
    assert_eq!(s.chat.session_id.as_deref(), Some("s2"));
    assert!(s.chat.entries.is_empty(), "/new starts clean");
}

#[test]
fn skills_toggle_and_mcp_test() {
    use crate::model::{McpServerView, McpTestReport, SkillView};
    let mut s = AppState::new(None);
    s.show(Screen::Skills);
    s.on_response(Response::Skills(vec![SkillView {
        name: "git".into(),
        description: "git helpers".into(),
        source: "bundled".into(),
        enabled: true,
        eligible: false,
        missing: vec!["bin:git".into()],
    }]));
    assert_eq!(
        s.handle_key(key(KeyCode::Char(' '))),
        vec![Action::ToggleSkill {
            name: "git".into(),
            enabled: false
        }]
    );
    s.on_response(Response::SkillToggled {
        name: "git".into(),
        enabled: false,
    });
    assert!(!s.skills.skills[0].enabled);
    s.show(Screen::Mcp);
    s.on_response(Response::McpServers(vec![McpServerView {
        name: "fs".into(),
        transport: "stdio".into(),
        status: "connected".into(),
        error: None,
        tools: vec![],
    }]));
    assert_eq!(
        s.handle_key(key(KeyCode::Char('t'))),
        vec![Action::TestMcpServer { name: "fs".into() }]
    );
    assert_eq!(s.mcp.testing.as_deref(), Some("fs"));
    s.on_response(Response::McpTested(McpTestReport {
        name: "fs".into(),
        ok: true,
        message: "ok".into(),
        tool_count: 3,
        latency_ms: 5,
    }));
    assert!(s.mcp.testing.is_none());
}

#[test]
fn ticks_redraw_only_while_something_moves() {
    let mut s = AppState::new(None);
    s.dirty = false;
    s.on_tick();
    assert!(!s.dirty);
    s.chat.turn_running = true;
    s.on_tick();
    assert!(s.dirty);
}

#[test]
fn pasted_newlines_stay_in_the_input() {
    let mut s = AppState::new(None);
    s.on_paste("line one\r\nline two");
    assert_eq!(s.chat.input_text(), "line one\nline two");
    assert!(s.chat.entries.is_empty(), "pasting never sends");
    s.show(Screen::Sessions);
    s.on_paste("ignored: search is not focused");
    assert!(s.sessions.query.is_empty());
    s.handle_key(key(KeyCode::Char('/')));
    s.on_paste("data\nbase");
    assert_eq!(s.sessions.query, "data base");
}

#[test]
fn an_empty_provider_list_opens_setup_and_a_full_run_saves_tests_and_sets_the_model() {
    use crate::model::{KeySource, ProviderSetup};
    use crate::screens::setup::tests::{presets, report};
    use crate::secret::Secret;
    let mut s = AppState::new(None);
    let actions = s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    assert!(actions.contains(&Action::LoadProviders));
    assert_eq!(
        s.on_response(Response::Providers(vec![])),
        vec![Action::LoadPresets]
    );
    assert!(s.setup.is_some());
    s.on_response(Response::Presets(presets()));
    // Every action the run asks for, in order.
    let mut asked = Vec::new();
    asked.extend(s.handle_key(key(KeyCode::Enter)));
    s.on_paste("sk-live-0123456789");
    asked.extend(s.handle_key(key(KeyCode::Enter)));
    let view = pryx_protocol::api::ProviderView {
        id: "openai".into(),
        kind: "openai-compatible".into(),
        base_url: None,
        default_model: Some("openai-small".into()),
        key_ref: Some("secret:openai".into()),
        key_ok: true,
        local: false,
    };
    asked.extend(s.on_response(Response::ProviderSaved(view)));
    s.on_response(Response::ProviderTested {
        id: "openai".into(),
        report: report(true),
    });
    asked.extend(s.handle_key(key(KeyCode::Enter)));
    let model = |id: &str, default| pryx_protocol::api::ModelView {
        id: id.into(),
        provider: "openai".into(),
        name: id.into(),
        context: 128_000,
        output: 16_000,
        tool_call: true,
        reasoning: false,
        input_cost: 0.15,
        output_cost: 0.6,
        default,
    };
    s.on_response(Response::Models {
        provider: Some("openai".into()),
        models: vec![
            model("openai/openai-small", false),
            model("openai/o3", true),
        ],
    });
    asked.extend(s.handle_key(key(KeyCode::Down)));
    asked.extend(s.handle_key(key(KeyCode::Enter)));
    assert_eq!(
        asked,
        vec![
            Action::SaveProvider(ProviderSetup {
                id: "openai".into(),
                preset: "openai".into(),
                key: KeySource::Typed(Secret::new("sk-live-0123456789")),
                base_url: None,
                default_model: Some("openai-small".into()),
            }),
            Action::TestProvider {
                id: "openai".into(),
                model: None
            },
            Action::LoadModels {
                provider: Some("openai".into())
            },
            Action::SetDefaultModel {
                model: "openai/o3".into()
            },
        ]
    );
    s.on_response(Response::DefaultModelSet("openai/o3".into()));
    assert!(s.setup.is_none(), "setup is done");
    assert_eq!(s.chat.model.as_deref(), Some("openai/o3"));
    assert!(matches!(
        s.chat.entries.last(),
        Some(crate::screens::chat::Entry::Notice { text, .. }) if text.contains("Setup done")
    ));
}

#[test]
fn esc_skips_setup_and_slash_setup_reopens_it() {
    let mut s = AppState::new(None);
    s.on_response(Response::Providers(vec![]));
    assert!(s.setup.is_some());
    s.handle_key(key(KeyCode::Char('x')));
    assert!(s.chat.input.is_empty(), "keys go to setup, not the chat");
    s.handle_key(key(KeyCode::Esc));
    assert!(s.setup.is_none());
    assert!(matches!(
        s.chat.entries.last(),
        Some(crate::screens::chat::Entry::Notice { text, .. }) if text.contains("/setup")
    ));
    for c in "/setup".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    assert_eq!(s.handle_key(key(KeyCode::Enter)), vec![Action::LoadPresets]);
    assert!(s.setup.as_ref().is_some_and(|x| !x.first_run));
    // A core with providers opens nothing.
    let mut s = AppState::new(None);
    s.on_response(Response::Providers(vec![
        pryx_protocol::api::ProviderView {
            id: "openai".into(),
            kind: "openai-compatible".into(),
            base_url: None,
            default_model: None,
            key_ref: None,
            key_ok: true,
            local: false,
        },
    ]));
    assert!(s.setup.is_none());
}

#[test]
fn model_in_an_open_session_updates_that_session() {
    let mut s = AppState::new(None);
    s.on_response(Response::SessionCreated(summary("s1", "a")));
    for c in "/model".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        vec![Action::LoadModels { provider: None }]
    );
    let model = |id: &str, default| pryx_protocol::api::ModelView {
        id: id.into(),
        provider: "openai".into(),
        name: id.into(),
        context: 128_000,
        output: 16_000,
        tool_call: true,
        reasoning: false,
        input_cost: 0.15,
        output_cost: 0.6,
        default,
    };
    s.on_response(Response::Models {
        provider: None,
        models: vec![model("openai/gpt-4o", true), model("openai/o3", false)],
    });
    s.handle_key(key(KeyCode::Down));
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        vec![Action::UpdateSession {
            session_id: "s1".into(),
            model: Some("openai/o3".into()),
            policy: None,
        }]
    );
    let mut updated = summary("s1", "a");
    updated.model = Some("openai/o3".into());
    updated.policy = Some("read-only".into());
    s.on_response(Response::SessionUpdated(updated));
    assert_eq!(s.chat.model.as_deref(), Some("openai/o3"));
    assert_eq!(s.policy.as_deref(), Some("read-only"));
}

#[test]
fn a_prompt_without_a_provider_points_to_setup() {
    let mut s = AppState::new(None);
    for c in "hi".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    s.handle_key(key(KeyCode::Enter));
    s.on_response(Response::NeedsSetup(
        "No model provider is configured: run pryx setup.".into(),
    ));
    assert!(!s.chat.turn_running);
    assert!(matches!(
        s.chat.entries.last(),
        Some(crate::screens::chat::Entry::Notice { text, .. }) if text.contains("/setup")
    ));
}

#[test]
fn a_failed_action_shows_its_whole_error_until_esc() {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    let error = format!(
        "{} Set providers.openai.base_url to fix it.",
        "x".repeat(300)
    );
    s.on_response(Response::Failed {
        what: "resume the session".into(),
        error: error.clone(),
    });
    let shown = s.error_detail.clone().unwrap_or_default();
    assert!(
        shown.ends_with("Set providers.openai.base_url to fix it."),
        "{shown}"
    );
    assert!(s.flash.as_ref().is_some_and(|f| f.error));
    // Keys do not reach the screen behind it; Esc closes it.
    s.handle_key(key(KeyCode::Char('x')));
    assert!(s.chat.input.is_empty());
    assert!(s.error_detail.is_some());
    s.handle_key(key(KeyCode::Esc));
    assert!(s.error_detail.is_none());
    // A failed prompt is said in the transcript, not in the panel.
    s.on_response(Response::Failed {
        what: crate::action::SEND_PROMPT.into(),
        error: error.clone(),
    });
    assert!(s.error_detail.is_none());
    assert!(matches!(
        s.chat.entries.last(),
        Some(crate::screens::chat::Entry::Notice { text, .. }) if text.ends_with("to fix it.")
    ));
}

#[test]
fn a_failed_automatic_load_takes_no_keys() {
    for what in crate::action::AUTOMATIC_LOADS {
        let mut s = AppState::new(None);
        s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
        s.on_response(Response::Failed {
            what: (*what).into(),
            error: "the core is unreachable (connection refused); check that it runs".into(),
        });
        assert!(
            s.error_detail.is_none(),
            "{what}: no panel in front of the chat"
        );
        assert!(
            s.flash.as_ref().is_some_and(|f| f.error),
            "{what}: said in the status bar"
        );
        s.handle_key(key(KeyCode::Char('x')));
        assert_eq!(
            s.chat.input.lines().join(""),
            "x",
            "{what}: the key reached the input"
        );
    }
}

#[test]
fn a_reset_of_the_open_session_reloads_it_where_the_user_is() {
    let mut s = AppState::new(None);
    s.on_response(Response::SessionCreated(summary("s1", "open")));
    assert!(
        s.on_core(CoreUpdate::Reset {
            session_id: "other".into()
        })
        .is_empty()
    );
    assert_eq!(
        s.on_core(CoreUpdate::Reset {
            session_id: "s1".into()
        }),
        vec![Action::ReloadSession { id: "s1".into() }]
    );
    s.show(Screen::Sessions);
    s.on_response(Response::SessionReloaded(
        pryx_protocol::api::SessionDetail {
            session: summary("s1", "renamed"),
            messages: vec![],
            last_version: 9,
        },
    ));
    assert_eq!(s.screen, Screen::Sessions);
    assert_eq!(s.chat.title.as_deref(), Some("renamed"));
    assert_eq!(s.chat.loaded_version, 9);
    // A reload of a session no longer open changes nothing.
    s.on_response(Response::SessionCreated(summary("s2", "new")));
    s.on_response(Response::SessionReloaded(
        pryx_protocol::api::SessionDetail {
            session: summary("s1", "late"),
            messages: vec![],
            last_version: 10,
        },
    ));
    assert_eq!(s.chat.session_id.as_deref(), Some("s2"));
}

/// A reload fetched before a turn's events arrived (the core came back, the user sent a prompt
/// at once) would wipe them: it is fetched again instead.
#[test]
fn a_reload_older_than_what_is_shown_is_fetched_again() {
    let mut s = AppState::new(None);
    s.on_response(Response::SessionCreated(summary("s1", "open")));
    s.on_response(Response::SessionReloaded(
        pryx_protocol::api::SessionDetail {
            session: summary("s1", "open"),
            messages: vec![],
            last_version: 4,
        },
    ));
    s.on_core(CoreUpdate::Event(pryx_testkit::events::event(
        "s1",
        Some(5),
        pryx_testkit::events::user_message(5, "after"),
    )));
    s.on_core(CoreUpdate::Event(pryx_testkit::events::event(
        "s1",
        Some(6),
        pryx_testkit::events::assistant_message(6, "Second answer."),
    )));
    assert_eq!(s.chat.entries.len(), 2);
    let again = s.on_response(Response::SessionReloaded(
        pryx_protocol::api::SessionDetail {
            session: summary("s1", "open"),
            messages: vec![],
            last_version: 4,
        },
    ));
    assert_eq!(again, vec![Action::ReloadSession { id: "s1".into() }]);
    assert_eq!(s.chat.entries.len(), 2, "nothing shown was lost");
}

/// While the core is coming back, whatever the TUI loaded by itself may fail; no panel opens
/// then, so the next keys still reach the chat (a prompt typed right after the restart).
#[test]
fn a_failure_while_the_core_comes_back_takes_no_keys() {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    s.on_core(CoreUpdate::Connection(ConnectionState::Connecting));
    for what in [
        "list the providers",
        "check for updates",
        "load the sessions",
    ] {
        s.on_response(Response::Failed {
            what: what.into(),
            error: "the core is unreachable (connection refused); check that it runs".into(),
        });
        assert!(s.error_detail.is_none(), "{what}: no panel");
    }
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    s.handle_key(key(KeyCode::Char('x')));
    assert_eq!(
        s.chat.input.lines().join(""),
        "x",
        "the key reached the chat"
    );
}

fn telemetry_status(enabled: bool) -> pryx_protocol::api::TelemetryStatus {
    pryx_protocol::api::TelemetryStatus {
        enabled,
        endpoint: Some("http://127.0.0.1:4318".into()),
        tier: pryx_protocol::api::TelemetryTier::Standard,
        sampling_ratio: 1.0,
        headers: vec![],
        debug_ends_at: None,
        counts: Default::default(),
        last_export_at: None,
        last_error: None,
        problem: None,
        sample: vec![pryx_protocol::api::ExportSample {
            name: "execute_tool fs.read".into(),
            kind: "tool_call".into(),
            duration_ms: 3,
            attributes: [("gen_ai.tool.name".to_string(), "fs.read".to_string())].into(),
        }],
    }
}

#[test]
fn export_goes_on_only_after_the_confirmation_and_off_at_once() {
    let mut s = AppState::new(None);
    assert_eq!(s.show(Screen::Telemetry), vec![Action::LoadTelemetry]);
    // Before the state is known, e explains instead of switching.
    assert_eq!(s.handle_key(key(KeyCode::Char('e'))), vec![]);
    assert!(s.flash.is_some());
    s.on_response(Response::Telemetry {
        status: Box::new(telemetry_status(false)),
        changed: false,
    });
    assert_eq!(s.handle_key(key(KeyCode::Char('e'))), vec![]);
    assert!(s.telemetry.export.confirming, "asks first");
    // Other keys do nothing while it asks; Esc keeps it off.
    assert_eq!(s.handle_key(key(KeyCode::Char('1'))), vec![]);
    assert_eq!(s.screen, Screen::Telemetry);
    assert_eq!(s.handle_key(key(KeyCode::Esc)), vec![]);
    assert!(!s.telemetry.export.confirming);
    s.handle_key(key(KeyCode::Char('e')));
    assert_eq!(
        s.handle_key(key(KeyCode::Char('y'))),
        vec![Action::SetTelemetry { enabled: true }]
    );
    s.on_response(Response::Telemetry {
        status: Box::new(telemetry_status(true)),
        changed: true,
    });
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("sending to http://127.0.0.1:4318")),
        "{:?}",
        s.flash
    );
    // On: e switches it off without asking.
    assert_eq!(
        s.handle_key(key(KeyCode::Char('e'))),
        vec![Action::SetTelemetry { enabled: false }]
    );
}
