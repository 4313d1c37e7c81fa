use super::*;
use crate::action::Response;
use crate::api::{ConnectionState, CoreUpdate};
use crate::state::{AppState, Screen};
use crossterm::event::KeyModifiers;
use pryx_protocol::api::ChannelOutbox;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn channel(id: &str, kind: &str, state: ChannelState) -> ChannelView {
    ChannelView {
        id: id.into(),
        kind: kind.into(),
        enabled: state != ChannelState::Paused,
        agent: "main".into(),
        mode: None,
        dm_policy: None,
        state,
        detail: state_name(state).into(),
        bot: None,
        last_ok_at: None,
        last_error: None,
        last_filtered: None,
        outbox: ChannelOutbox::default(),
        paired: vec![],
    }
}

fn code() -> PairingCode {
    PairingCode {
        channel: "tg".into(),
        code: "K7QM-3XPA".into(),
        expires_at: "2026-01-27T14:15:09Z".into(),
        instructions: "Send K7QM-3XPA to @bot on Telegram within 10 minutes.".into(),
    }
}

/// Connected, on the Integrations screen, with a bot, a paused bot and a webhook listed.
fn on_screen() -> AppState {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    // The notifications poll runs on every screen; its own tests are the Tasks screen's.
    s.notify.on_unsupported();
    // So is the one update question; its own tests are the notifications'.
    assert_eq!(s.notify.update_due(), Some(Action::LoadUpdate));
    assert_eq!(s.show(Screen::Integrations), vec![Action::LoadChannels]);
    s.on_response(Response::Channels(vec![
        channel("tg", "telegram", ChannelState::Connected),
        channel("old", "telegram", ChannelState::Paused),
        channel("hook", "webhook", ChannelState::Degraded),
    ]));
    s
}

#[test]
fn p_asks_for_a_code_and_the_panel_shows_it_until_esc() {
    let mut s = on_screen();
    assert_eq!(
        s.handle_key(key(KeyCode::Char('p'))),
        vec![Action::PairChannel { id: "tg".into() }]
    );
    assert_eq!(s.integrations.pairing, Some(Pairing::Waiting("tg".into())));
    s.on_response(Response::ChannelPaired(code()));
    assert_eq!(s.integrations.pairing, Some(Pairing::Code(code())));
    // The panel holds the keys of the screen, not the global ones.
    assert_eq!(s.handle_key(key(KeyCode::Char(' '))), vec![]);
    assert!(s.integrations.changing.is_none());
    s.handle_key(key(KeyCode::Esc));
    assert!(s.integrations.pairing.is_none());
    assert_eq!(s.screen, Screen::Integrations);
}

#[test]
fn a_webhook_is_not_paired_and_a_failed_pairing_closes_the_panel() {
    let mut s = on_screen();
    s.handle_key(key(KeyCode::End));
    assert_eq!(s.handle_key(key(KeyCode::Char('p'))), vec![]);
    assert!(s.integrations.pairing.is_none());
    let flash = s.flash.as_ref().map(|f| f.text.as_str()).unwrap_or("");
    assert!(flash.contains("only Telegram channels pair"), "{flash}");

    s.handle_key(key(KeyCode::Home));
    s.handle_key(key(KeyCode::Char('p')));
    s.on_response(Response::Failed {
        what: PAIR_CHANNEL.into(),
        error: "no channel tg (NOT_FOUND)".into(),
    });
    assert!(s.integrations.pairing.is_none());
    // Shown the way every failed action is.
    assert!(
        s.error_detail
            .as_deref()
            .unwrap_or("")
            .contains("NOT_FOUND")
    );
}

#[test]
fn space_pauses_a_running_channel_and_resumes_a_paused_one() {
    let mut s = on_screen();
    assert_eq!(
        s.handle_key(key(KeyCode::Char(' '))),
        vec![Action::SetChannelEnabled {
            id: "tg".into(),
            enabled: false
        }]
    );
    // A second Space before the answer sends nothing.
    assert_eq!(s.handle_key(key(KeyCode::Char(' '))), vec![]);
    let mut paused = channel("tg", "telegram", ChannelState::Paused);
    paused.detail = "paused".into();
    s.on_response(Response::ChannelChanged(paused.clone()));
    assert!(s.integrations.changing.is_none());
    assert_eq!(s.integrations.channels[0], paused);
    let flash = s.flash.as_ref().map(|f| f.text.as_str()).unwrap_or("");
    assert!(flash.starts_with("tg paused"), "{flash}");

    s.handle_key(key(KeyCode::Down));
    assert_eq!(
        s.handle_key(key(KeyCode::Char(' '))),
        vec![Action::SetChannelEnabled {
            id: "old".into(),
            enabled: true
        }]
    );
    s.on_response(Response::Failed {
        what: RESUME_CHANNEL.into(),
        error: "the bot token does not work".into(),
    });
    assert!(s.integrations.changing.is_none());
    assert!(s.error_detail.is_some());
}

#[test]
fn the_open_screen_refreshes_itself_every_few_seconds() {
    let mut s = on_screen();
    let now = Instant::now();
    assert_eq!(s.on_tick_at(now), vec![], "just answered");
    let later = now + REFRESH;
    assert_eq!(s.on_tick_at(later), vec![Action::LoadChannels]);
    // Not again while that one is out.
    assert_eq!(s.on_tick_at(later + REFRESH), vec![]);
    s.on_response(Response::Channels(vec![channel(
        "tg",
        "telegram",
        ChannelState::Degraded,
    )]));
    assert_eq!(s.integrations.channels[0].state, ChannelState::Degraded);
    // Another screen, or a core that is down, is not asked.
    let far = Instant::now() + REFRESH * 2;
    s.show(Screen::Skills);
    assert_eq!(s.on_tick_at(far), vec![]);
    s.show(Screen::Integrations);
    s.on_response(Response::Channels(vec![]));
    s.on_core(CoreUpdate::Connection(ConnectionState::Down {
        reason: "gone".into(),
        failures: 1,
        log_tail: vec![],
    }));
    assert_eq!(s.on_tick_at(Instant::now() + REFRESH * 2), vec![]);
}

#[test]
fn a_failed_refresh_is_said_on_the_screen_and_a_failed_r_in_a_panel() {
    let mut s = on_screen();
    assert_eq!(
        s.on_tick_at(Instant::now() + REFRESH),
        vec![Action::LoadChannels]
    );
    s.on_response(Response::Failed {
        what: LIST_CHANNELS.into(),
        error: "the core is not up yet".into(),
    });
    assert!(s.error_detail.is_none(), "no panel every 3 s");
    assert!(s.flash.is_none());
    assert_eq!(
        s.integrations.stale.as_deref(),
        Some("the core is not up yet")
    );
    assert_eq!(s.integrations.channels.len(), 3, "the last list stays");
    assert!(!s.integrations.loading);

    assert_eq!(
        s.handle_key(key(KeyCode::Char('r'))),
        vec![Action::LoadChannels]
    );
    s.on_response(Response::Failed {
        what: LIST_CHANNELS.into(),
        error: "the core is not up yet".into(),
    });
    assert!(s.error_detail.is_some());
    s.handle_key(key(KeyCode::Esc));
    s.on_response(Response::Channels(vec![]));
    assert!(s.integrations.stale.is_none());
}

#[test]
fn the_selection_follows_its_channel_across_refreshes() {
    let mut s = on_screen();
    s.handle_key(key(KeyCode::Down));
    assert_eq!(s.integrations.current().map(|c| c.id.as_str()), Some("old"));
    s.on_response(Response::Channels(vec![
        channel("new", "telegram", ChannelState::Starting),
        channel("tg", "telegram", ChannelState::Connected),
        channel("old", "telegram", ChannelState::Paused),
    ]));
    assert_eq!(s.integrations.current().map(|c| c.id.as_str()), Some("old"));
    s.on_response(Response::Channels(vec![channel(
        "tg",
        "telegram",
        ChannelState::Connected,
    )]));
    assert_eq!(s.integrations.selected, 0);
}
