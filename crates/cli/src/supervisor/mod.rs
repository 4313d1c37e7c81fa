//! Keeps a core reachable for the TUI: attaches to the data dir's running core, or starts one as
//! a supervised child (the sidecar), restarts it with backoff when it dies, and stops it on exit.
//! A core the TUI merely attached to is never stopped.
//!
//! The sidecar is spawned from the thread that runs the supervisor. Linux delivers the
//! parent-death signal when that *thread* ends, so the TUI runs the supervisor on its main thread
//! (a current-thread runtime): the signal then means "the TUI process is gone".

mod backoff;
mod child;
pub mod pdeath;

pub use backoff::RestartPolicy;
pub use child::{LogTail, SidecarCommand};

use child::Sidecar;
use pryx_client::{Client, ClientError};
use pryx_config::DataDir;
use pryx_protocol::Surface;
use pryx_tui::{ConnectionState, CoreUpdate};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

/// How long a stopping sidecar gets before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
/// Lines of the core's log shown in the error panel.
const PANEL_LINES: usize = 12;
/// How often an attached core's process is checked.
const ATTACHED_POLL: Duration = Duration::from_millis(250);

/// The core the TUI talks to right now.
#[derive(Debug, Clone)]
pub struct Link {
    pub client: Client,
    /// Increases with every core (re)attached; events are re-subscribed on a change.
    pub generation: u64,
}

/// What the supervisor needs.
#[derive(Debug, Clone)]
pub struct SupervisorOptions {
    pub dir: DataDir,
    pub sidecar: SidecarCommand,
    pub restart: RestartPolicy,
}

/// The running supervisor: its link, the retry button and the stop switch.
pub struct Supervisor {
    pub link: watch::Receiver<Option<Link>>,
    pub retry: Arc<Notify>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Supervisor {
    /// Starts supervising; connection changes go to `updates`.
    pub fn start(opts: SupervisorOptions, updates: mpsc::UnboundedSender<CoreUpdate>) -> Self {
        let (link_tx, link) = watch::channel(None);
        let retry = Arc::new(Notify::new());
        let stop = CancellationToken::new();
        let run = Run {
            opts,
            link: link_tx,
            updates,
            retry: retry.clone(),
            stop: stop.clone(),
            tail: LogTail::default(),
            generation: 0,
        };
        let task = tokio::spawn(run.run());
        Supervisor {
            link,
            retry,
            stop,
            task,
        }
    }

    /// Stops a sidecar we started (SIGTERM, [`STOP_GRACE`], SIGKILL) and waits until it is reaped.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

struct Run {
    opts: SupervisorOptions,
    link: watch::Sender<Option<Link>>,
    updates: mpsc::UnboundedSender<CoreUpdate>,
    retry: Arc<Notify>,
    stop: CancellationToken,
    tail: LogTail,
    generation: u64,
}

/// How one core's life ended.
enum Ended {
    Stop,
    /// An attached core went away: look again at once, it is not our failure.
    Detached,
    /// Our sidecar died or could not start.
    Failed {
        reason: String,
        uptime: Duration,
    },
}

impl Run {
    async fn run(mut self) {
        let mut failures = 0u32;
        loop {
            let ended = match Client::discover(&self.opts.dir).await {
                Ok(client) => self.attached(client).await,
                Err(e) => {
                    tracing::debug!(error = %e, "no running core; starting one");
                    self.owned().await
                }
            };
            self.link.send_replace(None);
            let (reason, uptime) = match ended {
                Ended::Stop => return,
                Ended::Detached => {
                    self.status(ConnectionState::Connecting);
                    continue;
                }
                Ended::Failed { reason, uptime } => (reason, uptime),
            };
            failures = self.opts.restart.after_death(failures, uptime);
            tracing::warn!(failures, %reason, "the core is down");
            let delay = match self.opts.restart.delay(failures) {
                Some(d) => {
                    self.status(ConnectionState::Connecting);
                    d
                }
                None => {
                    self.status(ConnectionState::Down {
                        reason: format!("The core keeps failing: {reason}."),
                        failures,
                        log_tail: self.tail.last(PANEL_LINES),
                    });
                    Duration::MAX
                }
            };
            tokio::select! {
                () = sleep(delay) => {}
                () = self.retry.notified() => {
                    failures = 0;
                    self.status(ConnectionState::Connecting);
                }
                () = self.stop.cancelled() => return,
            }
        }
    }

    fn status(&self, s: ConnectionState) {
        let _ = self.updates.send(CoreUpdate::Connection(s));
    }

    fn publish(&mut self, client: Client) {
        self.generation += 1;
        self.link.send_replace(Some(Link {
            client: client.with_surface(Surface::Tui),
            generation: self.generation,
        }));
    }

    /// Uses a core someone else started until its process is gone.
    async fn attached(&mut self, client: Client) -> Ended {
        let pid = pryx_client::read_metadata(&self.opts.dir)
            .map(|m| m.pid)
            .unwrap_or(0);
        tracing::info!(pid, url = client.base_url(), "attached to a running core");
        self.publish(client);
        let mut poll = tokio::time::interval(ATTACHED_POLL);
        loop {
            tokio::select! {
                _ = poll.tick() => {
                    if !pryx_client::pid_alive(pid) {
                        return Ended::Detached;
                    }
                }
                () = self.stop.cancelled() => return Ended::Stop,
            }
        }
    }

    /// Starts a sidecar and watches it until it dies or we stop.
    async fn owned(&mut self) -> Ended {
        let started = Instant::now();
        let spawned = tokio::select! {
            s = Sidecar::spawn(&self.opts.sidecar, &self.tail) => s,
            () = self.stop.cancelled() => return Ended::Stop,
        };
        let mut sidecar = match spawned {
            Ok(s) => s,
            Err(e) if e.is_locked() => {
                // Another core won the race for the data dir: attach to it.
                tracing::info!("another core started meanwhile; attaching");
                return Ended::Failed {
                    reason: e.to_string(),
                    uptime: Duration::ZERO,
                };
            }
            Err(e) => {
                return Ended::Failed {
                    reason: e.to_string(),
                    uptime: started.elapsed(),
                };
            }
        };
        tracing::info!(
            pid = sidecar.pid(),
            port = sidecar.port(),
            ms = started.elapsed().as_millis() as u64,
            "core started"
        );
        match self.client_for(sidecar.port()) {
            Ok(client) => self.publish(client),
            Err(e) => {
                sidecar.stop(STOP_GRACE).await;
                return Ended::Failed {
                    reason: e.to_string(),
                    uptime: started.elapsed(),
                };
            }
        }
        tokio::select! {
            how = sidecar.wait() => Ended::Failed {
                reason: format!("the core stopped unexpectedly ({how})"),
                uptime: started.elapsed(),
            },
            () = self.stop.cancelled() => {
                self.link.send_replace(None);
                sidecar.stop(STOP_GRACE).await;
                Ended::Stop
            }
        }
    }

    fn client_for(&self, port: u16) -> Result<Client, ClientError> {
        let token = pryx_client::read_token(&self.opts.dir)?;
        Client::new(&format!("http://127.0.0.1:{port}"), token)
    }
}

async fn sleep(d: Duration) {
    if d == Duration::MAX {
        std::future::pending::<()>().await;
    } else {
        tokio::time::sleep(d).await;
    }
}
