#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The approval card shows exactly what runs, safely: escape sequences, carriage returns, bidi
//! overrides and zero-width characters escaped with a note, secret-looking text shown and
//! flagged, where a grant would hold, and how long a preview is when it does not fit. The
//! `/grants` overlay lists standing approvals and revokes one after a confirmation.

use crate::common;

use common::{approval, ev, render, streaming_chat};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use pryx_protocol::api::{GrantScope, GrantView, PendingApproval};
use pryx_tui::{Action, AppState, Response, Theme};
use serde_json::json;

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn typed(s: &mut AppState, text: &str) -> Vec<Action> {
    for c in text.chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    s.handle_key(key(KeyCode::Enter))
}

fn asked(preview: &str, command: &str) -> PendingApproval {
    PendingApproval {
        arguments: json!({ "command": command }),
        workspace: Some("/home/me/project".into()),
        policy: Some("workspace-only".into()),
        ..approval("a1", "s1", preview)
    }
}

#[test]
fn approval_card_shows_escape_sequences_escaped() {
    let mut s = streaming_chat();
    let command = "touch x \x1b[2K\x1b[1G│ $ echo hello";
    s.apply(&ev(
        "s1",
        asked(
            &format!("$ {command}\r\necho \u{202e}gnp.exe\u{200b}"),
            command,
        ),
    ));
    let screen = render(&s, 80, 24, &Theme::plain());
    let text = format!("{screen:?}");
    assert!(!text.contains('\x1b') && !text.contains('\u{202e}'));
    assert_snapshot!(screen);
}

#[test]
fn approval_card_shows_the_hidden_touch_and_flags_the_key_block() {
    let mut s = streaming_chat();
    let command = "echo \"-----BEGIN RSA PRIVATE KEY-----\" >/dev/null; touch HIDDEN; echo \"-----END RSA PRIVATE KEY-----\" >/dev/null; echo ok > ok.txt";
    let mut a = asked(
        &format!(
            "$ {command}\nworking directory: the workspace root (/home/me/project)\ntimeout: 120 s (the default)"
        ),
        command,
    );
    a.looks_like_secret = vec!["a private key block".into()];
    s.apply(&ev("s1", a));
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
}

#[test]
fn approval_card_says_how_long_a_preview_is_that_does_not_fit() {
    let mut s = streaming_chat();
    let preview: String = (1..=50).map(|i| format!("+line {i}\n")).collect();
    s.apply(&ev("s1", asked(preview.trim_end(), "x")));
    let first = render(&s, 80, 24, &Theme::plain());
    assert_snapshot!(first);
    for _ in 0..48 {
        s.handle_key(key(KeyCode::Down));
    }
    let end = format!("{:?}", render(&s, 80, 24, &Theme::plain()));
    assert!(
        end.contains("+line 50"),
        "the last line is reachable: {end}"
    );
}

fn grant(id: &str, scope: GrantScope, command: &str, uses: u64) -> GrantView {
    GrantView {
        id: id.into(),
        tool: "shell.exec".into(),
        scope,
        session_id: (scope == GrantScope::Session).then(|| "019a-session".into()),
        workspace: "/home/me/project".into(),
        policy: "workspace-only".into(),
        policy_hash: "3f2a9c0d1e4b5a6978".into(),
        fingerprint: "fp".into(),
        arguments: json!({ "command": command }),
        created_at: "2026-01-27T12:00:00Z".into(),
        expires_at: (scope == GrantScope::Always).then(|| "2026-02-26T12:00:00Z".into()),
        last_used_at: (uses > 0).then(|| "2026-01-28T09:30:00Z".into()),
        uses,
        expired: false,
    }
}

#[test]
fn grants_overlay_lists_and_revokes_after_a_confirmation() {
    let mut s = streaming_chat();
    assert_eq!(typed(&mut s, "/grants"), vec![Action::LoadGrants]);
    assert_snapshot!("grants_loading", render(&s, 80, 24, &Theme::plain()));
    s.on_response(Response::Grants(vec![
        grant("g1", GrantScope::Always, "cargo test --workspace", 3),
        grant("g2", GrantScope::Session, "make \x1b[2Jlint", 0),
    ]));
    assert_snapshot!("grants_listed", render(&s, 80, 24, &Theme::plain()));
    s.handle_key(key(KeyCode::Down));
    assert!(s.handle_key(key(KeyCode::Char('d'))).is_empty());
    assert_snapshot!("grants_confirm", render(&s, 80, 24, &Theme::plain()));
    assert_eq!(
        s.handle_key(key(KeyCode::Char('y'))),
        vec![Action::RevokeGrant { id: "g2".into() }]
    );
    s.on_response(Response::GrantRevoked { id: "g2".into() });
    let after = format!("{:?}", render(&s, 80, 24, &Theme::plain()));
    assert!(
        after.contains("cargo test") && !after.contains("make"),
        "{after}"
    );
    assert!(after.contains("Grant revoked"), "{after}");
    // Any other key keeps a grant; Esc closes the overlay.
    s.handle_key(key(KeyCode::Char('d')));
    assert!(s.handle_key(key(KeyCode::Char('n'))).is_empty());
    assert!(s.handle_key(key(KeyCode::Esc)).is_empty());
    assert!(s.chat.grants.is_none());
}

#[test]
fn grants_overlay_without_grants_says_how_one_is_made() {
    let mut s = streaming_chat();
    typed(&mut s, "/grants");
    s.on_response(Response::Grants(Vec::new()));
    assert_snapshot!(render(&s, 80, 24, &Theme::plain()));
}

#[tokio::test]
async fn grant_actions_reach_the_core_and_come_back_as_responses() {
    let (core, _events) = common::fake::FakeCore::new();
    *core.grants.lock().unwrap() = vec![grant("g1", GrantScope::Always, "make", 0)];
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    pryx_tui::perform(&core, Action::LoadGrants, &tx).await;
    assert!(matches!(rx.recv().await, Some(Response::Grants(g)) if g.len() == 1));
    pryx_tui::perform(&core, Action::RevokeGrant { id: "g1".into() }, &tx).await;
    assert_eq!(
        rx.recv().await,
        Some(Response::GrantRevoked { id: "g1".into() })
    );
    pryx_tui::perform(&core, Action::RevokeGrant { id: "g1".into() }, &tx).await;
    assert!(
        matches!(rx.recv().await, Some(Response::Failed { what, error }) if what == "revoke the grant" && error.contains("no standing grant")),
    );
}
