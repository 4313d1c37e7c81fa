//! A channel's honest status: set from its real traffic (a poll that returned, a reply that
//! was delivered, an error Telegram gave), and judged again when read, so a poller that went
//! quiet shows as degraded rather than "alive but deaf".

use pryx_protocol::api::ChannelState;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Inner {
    state: ChannelState,
    detail: String,
    bot: Option<String>,
    last_ok: Option<(Instant, String)>,
    last_error: Option<String>,
    last_filtered: Option<String>,
}

/// Shared by a channel's tasks and whoever asks for its status.
#[derive(Debug)]
pub(crate) struct StatusCell {
    inner: Mutex<Inner>,
    /// Longest silence between successful polls before the channel counts as degraded (none
    /// for channels that do not poll).
    quiet_limit: Option<Duration>,
}

/// What a reader gets.
#[derive(Debug, Clone)]
pub(crate) struct StatusNow {
    pub state: ChannelState,
    pub detail: String,
    pub bot: Option<String>,
    pub last_ok_at: Option<String>,
    pub last_error: Option<String>,
    pub last_filtered: Option<String>,
}

impl StatusCell {
    pub fn new(quiet_limit: Option<Duration>) -> StatusCell {
        StatusCell {
            inner: Mutex::new(Inner {
                state: ChannelState::Starting,
                detail: "starting".into(),
                bot: None,
                last_ok: None,
                last_error: None,
                last_filtered: None,
            }),
            quiet_limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_bot(&self, bot: String) {
        self.lock().bot = Some(bot);
    }

    /// A poll returned or a reply was delivered.
    pub fn ok(&self, detail: &str) {
        let mut s = self.lock();
        s.state = ChannelState::Connected;
        s.detail = detail.to_string();
        s.last_ok = Some((Instant::now(), pryx_store::now_ts()));
    }

    /// Ready to receive, with no traffic yet (a webhook nobody called).
    pub fn ready(&self, detail: &str) {
        let mut s = self.lock();
        s.state = ChannelState::Connected;
        s.detail = detail.to_string();
    }

    /// It runs but something fails; it keeps trying.
    pub fn degraded(&self, error: &str) {
        let mut s = self.lock();
        s.state = ChannelState::Degraded;
        s.detail = format!("{error}; retrying");
        s.last_error = Some(error.to_string());
    }

    /// An error worth showing that does not change the state (one reply refused, …).
    pub fn error(&self, error: &str) {
        self.lock().last_error = Some(error.to_string());
    }

    /// It cannot run until the user fixes something (said in `what_to_do`).
    pub fn down(&self, what_to_do: &str) {
        let mut s = self.lock();
        s.state = ChannelState::Disconnected;
        s.detail = what_to_do.to_string();
        s.last_error = Some(what_to_do.to_string());
    }

    pub fn paused(&self) {
        let mut s = self.lock();
        s.state = ChannelState::Paused;
        s.detail = "paused; `pryx channels resume` starts it again".into();
    }

    /// A message that was not let through, and why.
    pub fn filtered(&self, why: &str) {
        self.lock().last_filtered = Some(why.to_string());
    }

    pub fn now(&self) -> StatusNow {
        let s = self.lock().clone();
        let mut state = s.state;
        let mut detail = s.detail;
        if state == ChannelState::Connected
            && let (Some(limit), Some((at, _))) = (self.quiet_limit, &s.last_ok)
            && at.elapsed() > limit
        {
            state = ChannelState::Degraded;
            detail = format!(
                "no poll has completed for {} s (expected every {} s at most)",
                at.elapsed().as_secs(),
                limit.as_secs() / 2
            );
        }
        StatusNow {
            state,
            detail,
            bot: s.bot,
            last_ok_at: s.last_ok.map(|(_, ts)| ts),
            last_error: s.last_error,
            last_filtered: s.last_filtered,
        }
    }
}
