#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Integrations screen: rendered with channels in every state (compared with the stored
//! snapshots), and driven through the real event loop against the fake core.

use crate::common;

use common::fake::{FakeCore, wait_for_call};
use common::{channels, pairing_code, render};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures_util::stream;
use insta::assert_snapshot;
use pryx_tui::{AppState, ConnectionState, CoreUpdate, Response, Screen, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn plain() -> Theme {
    Theme::plain()
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn connected() -> AppState {
    let mut s = AppState::new(None);
    s.on_core(CoreUpdate::Connection(ConnectionState::Connected));
    s
}

type Keys = mpsc::UnboundedSender<std::io::Result<TermEvent>>;

fn press(keys: &Keys, code: KeyCode, mods: KeyModifiers) {
    keys.send(Ok(TermEvent::Key(KeyEvent::new(code, mods))))
        .unwrap();
}

#[test]
fn empty_state() {
    let mut s = connected();
    s.show(Screen::Integrations);
    s.on_response(Response::Channels(vec![]));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

fn integrations_state() -> AppState {
    let mut s = connected();
    s.show(Screen::Integrations);
    s.on_response(Response::Channels(channels()));
    s
}

/// Every state coloured, the selected bot's pane with its filtered sender, outbox and paired
/// senders.
#[test]
fn with_channels() {
    assert_snapshot!(render(&integrations_state(), 80, 24, &plain()));
}

/// A degraded bot shows its last error; the key line offers what works on it.
#[test]
fn degraded_channel_shows_its_last_error() {
    let mut s = integrations_state();
    s.handle_key(key(KeyCode::Down));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

/// A webhook has no pairing: neither the pane nor the key line mention it.
#[test]
fn webhook_has_no_pairing() {
    let mut s = integrations_state();
    s.handle_key(key(KeyCode::End));
    let screen = render(&s, 80, 24, &plain());
    let text = format!("{screen:?}");
    assert!(!text.contains("pairing code"), "{text}");
    assert!(!text.contains("paired"), "{text}");
    assert_snapshot!(screen);
}

#[test]
fn pairing_code_panel() {
    let mut s = integrations_state();
    s.handle_key(key(KeyCode::Char('p')));
    s.on_response(Response::ChannelPaired(pairing_code("family")));
    assert_snapshot!(render(&s, 80, 24, &plain()));
}

/// Connected is green, degraded yellow, paused dim, in the colour theme.
#[test]
fn states_are_coloured() {
    let screen = render(&integrations_state(), 80, 24, &Theme::color());
    let buf = screen.buffer();
    // The colours of the first letter of every place `word` shows.
    let colours = |word: &str| {
        let mut out = Vec::new();
        for y in 0..buf.area.height {
            let cells: Vec<String> = (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            for x in 0..cells.len() {
                if cells[x..].concat().starts_with(word) {
                    out.push(buf[(u16::try_from(x).unwrap(), y)].fg);
                }
            }
        }
        out
    };
    assert!(colours("connected").contains(&Color::Green));
    assert!(colours("degraded").contains(&Color::Yellow));
    assert!(colours("paused ").contains(&Color::DarkGray));
}

/// A sender's name is a stranger's text: terminal controls in it show escaped.
#[test]
fn a_filtered_senders_name_cannot_drive_the_terminal() {
    let mut list = channels();
    list[0].last_filtered = Some("\x1b]0;EVIL\x07\x1b[2JMallory (5550123) is not paired".into());
    list[0].paired[0].display = "Ana\x1b[31m".into();
    let mut s = connected();
    s.show(Screen::Integrations);
    s.on_response(Response::Channels(list));
    let screen = render(&s, 80, 24, &plain()).to_string();
    assert!(!screen.contains('\x1b'), "{screen}");
    // Shown, not dropped: the user sees that something was there.
    assert!(
        screen.contains("␛]0;EVIL␇␛[2JMallory (5550123)"),
        "{screen}"
    );
    assert!(screen.contains("Ana␛[31m"), "{screen}");
}

#[test]
fn every_size_renders_without_panicking() {
    let mut pairing = integrations_state();
    pairing.handle_key(key(KeyCode::Char('p')));
    pairing.on_response(Response::ChannelPaired(pairing_code("family")));
    let mut empty = connected();
    empty.show(Screen::Integrations);
    empty.on_response(Response::Channels(vec![]));
    for s in [integrations_state(), pairing, empty] {
        for w in (1..=130).step_by(7) {
            for h in (1..=40).step_by(3) {
                render(&s, w, h, &plain());
            }
        }
    }
}

/// What the Integrations screen showed in the last frame: the pairing code, and each channel's
/// state.
#[derive(Debug, Clone, Default, PartialEq)]
struct Channels {
    code: Option<String>,
    states: Vec<pryx_protocol::api::ChannelState>,
}

fn channels_shown(s: &AppState) -> Channels {
    use pryx_tui::screens::integrations::Pairing;
    if s.screen != pryx_tui::Screen::Integrations {
        return Channels::default();
    }
    Channels {
        code: match &s.integrations.pairing {
            Some(Pairing::Code(c)) => Some(c.code.clone()),
            _ => None,
        },
        states: s.integrations.channels.iter().map(|c| c.state).collect(),
    }
}

/// The Integrations screen against the fake core: `p` shows a pairing code, Space pauses, and
/// the open screen picks up a changed status by itself, on the loop's tick.
#[tokio::test]
async fn pairs_pauses_and_refreshes_itself() {
    use pryx_protocol::api::ChannelState::{Connected, Degraded, Paused};
    use pryx_tui::{FrameProbe, drive_probed};
    let (core, updates) = FakeCore::new();
    *core.channels.lock().unwrap() = common::channels();
    let core = Arc::new(core);
    let (calls, called) = (core.calls.clone(), core.called.clone());
    let (keys, key_rx) = mpsc::unbounded_channel();
    let input = Box::pin(stream::unfold(key_rx, |mut rx| async move {
        rx.recv().await.map(|k| (k, rx))
    }));
    let (seen_tx, mut seen) = tokio::sync::watch::channel(Channels::default());
    let probe = FrameProbe(Arc::new(move |s: &AppState| {
        seen_tx.send_replace(channels_shown(s));
        false
    }));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut state = AppState::new(None);
    let fake = core.clone();
    let script = async {
        updates
            .send(CoreUpdate::Connection(ConnectionState::Connected))
            .unwrap();
        press(&keys, KeyCode::Char('3'), KeyModifiers::ALT);
        seen.wait_for(|c| c.states.len() == 4).await.unwrap();
        press(&keys, KeyCode::Char('p'), KeyModifiers::NONE);
        wait_for_call(&calls, &called, "pair_channel family").await;
        seen.wait_for(|c| c.code.as_deref() == Some("K7QM-3XPA"))
            .await
            .unwrap();
        press(&keys, KeyCode::Esc, KeyModifiers::NONE);
        press(&keys, KeyCode::Char(' '), KeyModifiers::NONE);
        wait_for_call(&calls, &called, "set_channel_enabled family false").await;
        seen.wait_for(|c| c.code.is_none() && c.states.first() == Some(&Paused))
            .await
            .unwrap();
        // The degraded bot recovers in the core; nobody presses a key.
        fake.channels.lock().unwrap()[1].state = Connected;
        seen.wait_for(|c| c.states.get(1) == Some(&Connected))
            .await
            .unwrap();
        press(&keys, KeyCode::Char('q'), KeyModifiers::CONTROL);
    };
    let theme = Theme::plain();
    let run = drive_probed(
        &mut terminal,
        core,
        &mut state,
        input,
        &theme,
        Duration::from_millis(50),
        Some(&probe),
    );
    let (result, ()) =
        tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(run, script) })
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the script should finish; calls: {:?}",
                    calls.lock().unwrap()
                )
            });
    result.unwrap();
    let lists = calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == "list_channels")
        .count();
    assert!(lists >= 2, "opened, then refreshed: {lists}");
    assert_ne!(state.integrations.channels[1].state, Degraded);
    let screen = terminal.backend().to_string();
    let row = screen.lines().find(|l| l.contains("family  "));
    assert!(row.is_some_and(|r| r.contains("paused")), "{screen}");
}
