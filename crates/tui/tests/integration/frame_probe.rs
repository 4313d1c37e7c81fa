#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A frame probe sees every frame with the state it showed, and can end the run.

use crate::common;

use common::fake::FakeCore;
use futures_util::stream;
use pryx_tui::{AppState, ConnectionState, CoreUpdate, FrameProbe, Theme, drive_probed};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test]
async fn the_probe_sees_frames_and_ends_the_run_once_connected() {
    let (core, updates) = FakeCore::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let probe = {
        let seen = seen.clone();
        FrameProbe(Arc::new(move |s: &AppState| {
            seen.lock().unwrap().push(s.connection.clone());
            s.connection == ConnectionState::Connected
        }))
    };
    // No keys at all: only the probe can end the loop (a closed input would end it too).
    let input = Box::pin(stream::pending());
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut state = AppState::new(None);
    updates
        .send(CoreUpdate::Connection(ConnectionState::Connected))
        .unwrap();
    let theme = Theme::plain();
    let run = drive_probed(
        &mut terminal,
        Arc::new(core),
        &mut state,
        input,
        &theme,
        Duration::from_secs(3600),
        Some(&probe),
    );
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the probe ends the run")
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![ConnectionState::Connecting, ConnectionState::Connected]
    );
    assert!(state.quit);
}
