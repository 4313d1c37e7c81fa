//! The event loop: terminal input, core updates, action results and a tick, multiplexed on tokio.
//! Actions go to a background task, so typing never waits on the network; the screen is redrawn
//! only when the state changed.

use crate::action::{Action, Response, perform};
use crate::api::{ConnectionState, CoreApi, CoreUpdate};
use crate::state::AppState;
use crate::terminal::TerminalGuard;
use crate::theme::Theme;
use crate::ui;
use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Why the UI stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "terminal I/O failed: {0}; run pryx in an interactive terminal, or use `pryx run` in scripts"
    )]
    Terminal(#[from] std::io::Error),
    #[error("drawing failed: {0}")]
    Draw(String),
}

/// How [`run`] starts.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Open this session on start.
    pub session_id: Option<String>,
    /// Capture the mouse (wheel scrolls the transcript; terminal text selection then needs Shift).
    pub mouse: bool,
    /// `None`: colors unless `NO_COLOR` is set.
    pub theme: Option<Theme>,
    /// How often animations advance; nothing is redrawn on a tick unless something moves.
    pub tick: Duration,
    /// Told about every frame drawn (start-up measurements, scripted exits).
    pub probe: Option<FrameProbe>,
}

/// Called after each frame is drawn with the state it showed; returning `true` ends the run as
/// if the user had quit.
#[derive(Clone)]
pub struct FrameProbe(pub Arc<dyn Fn(&AppState) -> bool + Send + Sync>);

impl std::fmt::Debug for FrameProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrameProbe")
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            session_id: None,
            mouse: false,
            theme: None,
            tick: Duration::from_millis(250),
            probe: None,
        }
    }
}

/// Runs the TUI on the current terminal until the user quits. The terminal is restored on
/// return, on error and on panic.
pub async fn run<A: CoreApi>(api: A, opts: RunOptions) -> Result<(), TuiError> {
    let theme = opts.theme.unwrap_or_else(Theme::from_env);
    let (mut terminal, guard) = TerminalGuard::enter(opts.mouse)?;
    let mut state = AppState::new(opts.session_id.clone());
    let result = drive_probed(
        &mut terminal,
        Arc::new(api),
        &mut state,
        EventStream::new(),
        &theme,
        opts.tick,
        opts.probe.as_ref(),
    )
    .await;
    drop(guard);
    result
}

/// The loop behind [`run`], on any backend and input stream (tests drive it with `TestBackend`
/// and scripted keys). Returns when the user quits or the input ends.
pub async fn drive<B, A, I>(
    terminal: &mut Terminal<B>,
    api: Arc<A>,
    state: &mut AppState,
    input: I,
    theme: &Theme,
    tick: Duration,
) -> Result<(), TuiError>
where
    B: Backend,
    A: CoreApi,
    I: Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    drive_probed(terminal, api, state, input, theme, tick, None).await
}

/// [`drive`] with a [`FrameProbe`] told about every frame.
pub async fn drive_probed<B, A, I>(
    terminal: &mut Terminal<B>,
    api: Arc<A>,
    state: &mut AppState,
    mut input: I,
    theme: &Theme,
    tick: Duration,
    probe: Option<&FrameProbe>,
) -> Result<(), TuiError>
where
    B: Backend,
    A: CoreApi,
    I: Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let (resp_tx, mut resp_rx) = mpsc::unbounded_channel::<Response>();
    let (act_tx, act_rx) = mpsc::unbounded_channel::<Action>();
    let worker = tokio::spawn(dispatch(api.clone(), act_rx, resp_tx));
    let mut core = api.events();
    let mut core_open = true;
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let send = |actions: Vec<Action>| {
        for a in actions {
            let _ = act_tx.send(a);
        }
    };
    send(state.startup());
    let result = loop {
        if state.dirty {
            if let Err(e) = terminal.draw(|f| ui::draw(f, state, theme)) {
                break Err(TuiError::Draw(e.to_string()));
            }
            state.dirty = false;
            if probe.is_some_and(|p| (p.0)(state)) {
                state.quit = true;
            }
        }
        if state.quit {
            break Ok(());
        }
        // Answers first: a session created for a first prompt must be known before its events.
        let actions = tokio::select! {
            biased;
            Some(r) = resp_rx.recv() => state.on_response(r),
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) => state.handle_key(k),
                Some(Ok(TermEvent::Mouse(m))) => { state.on_mouse(m); vec![] }
                Some(Ok(TermEvent::Resize(..))) => { state.dirty = true; vec![] }
                Some(Ok(TermEvent::Paste(text))) => {
                    let searching = state.screen == crate::state::Screen::Sessions && state.sessions.searching;
                    state.on_paste(&text);
                    if searching { vec![state.sessions.load()] } else { vec![] }
                }
                Some(Ok(_)) => vec![],
                Some(Err(e)) => break Err(TuiError::Terminal(e)),
                None => break Ok(()),
            },
            u = core.next(), if core_open => match u {
                Some(u) => state.on_core(u),
                None => {
                    core_open = false;
                    state.on_core(CoreUpdate::Connection(ConnectionState::Down {
                        reason: "The connection to the core closed.".to_string(),
                        failures: 1,
                        log_tail: vec![],
                    }))
                }
            },
            _ = ticker.tick() => state.on_tick(),
        };
        send(actions);
    };
    worker.abort();
    result
}

/// Performs actions in the background, each in its own task so a slow one never holds up the
/// rest (search results are matched to their query, so order does not matter).
async fn dispatch<A: CoreApi>(
    api: Arc<A>,
    mut actions: mpsc::UnboundedReceiver<Action>,
    out: mpsc::UnboundedSender<Response>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(a) = actions.recv().await {
        let api = api.clone();
        let out = out.clone();
        tasks.spawn(async move { perform(&*api, a, &out).await });
        while tasks.try_join_next().is_some() {}
    }
}
