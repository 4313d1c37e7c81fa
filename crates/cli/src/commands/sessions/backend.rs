//! Where sessions are read and deleted: the running core over its API when there is one (it
//! owns the database and knows which sessions run a turn), otherwise the database itself.

use crate::setup;
use anyhow::{Context, anyhow, bail};
use pryx_client::{Client, ClientError};
use pryx_core::setup::AuditKeyUse;
use pryx_protocol::api::{SessionDetail, SessionSummary};
use pryx_protocol::{ErrorCode, Surface};
use pryx_store::{Page, Session, Store};
use std::collections::HashMap;

/// Sessions read per request while walking the whole list (the API's largest page).
const PAGE: u32 = 200;

pub(super) enum Backend {
    /// The running core, over its API.
    Core(Client),
    /// The database itself (no core runs).
    Store(Store),
}

/// Runs a store call off the async runtime.
async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Store) -> pryx_store::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let s = store.clone();
    Ok(tokio::task::spawn_blocking(move || f(&s))
        .await
        .context("reading the database stopped early")??)
}

impl Backend {
    pub(super) async fn open() -> anyhow::Result<Backend> {
        let (dir, _config) = setup::load_home()?;
        match Client::discover(&dir).await {
            Ok(c) => Ok(Backend::Core(c.with_surface(Surface::Cli))),
            // Nothing here writes an audit row, so the audit key is never created here.
            Err(ClientError::NotRunning { .. } | ClientError::Stale { .. }) => Ok(Backend::Store(
                setup::open_store_with(&dir, AuditKeyUse::Verify)?,
            )),
            Err(e) => Err(anyhow!(
                "the core of this data dir runs but cannot be reached ({e}); stop it or run `pryx doctor`"
            )),
        }
    }

    /// Sessions `offset..offset + PAGE`, newest first.
    async fn page(&self, offset: u32) -> anyhow::Result<Vec<SessionSummary>> {
        match self {
            Backend::Core(c) => Ok(c.list_sessions(Some(PAGE), Some(offset)).await?.sessions),
            Backend::Store(s) => {
                blocking(s, move |s| {
                    let paths = workspace_paths(s)?;
                    Ok(s.list_sessions(
                        None,
                        Page {
                            limit: PAGE,
                            offset,
                        },
                    )?
                    .into_iter()
                    .map(|x| summary(x, None, &paths))
                    .collect())
                })
                .await
            }
        }
    }

    /// Up to `limit` sessions, newest first, only those of `agent` when given (sessions older
    /// than agent profiles belong to `main`).
    pub(super) async fn list(
        &self,
        limit: usize,
        agent: Option<&str>,
    ) -> anyhow::Result<Vec<SessionSummary>> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.page(offset).await?;
            let last = page.len() < PAGE as usize;
            out.extend(
                page.into_iter()
                    .filter(|s| agent.is_none_or(|a| agent_of(s) == a)),
            );
            if last || out.len() >= limit {
                out.truncate(limit);
                return Ok(out);
            }
            offset += PAGE;
        }
    }

    /// Every session id, newest first.
    pub(super) async fn all_ids(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .list(usize::MAX, None)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect())
    }

    /// The full id of the one session whose id is or starts with `id`.
    pub(super) async fn resolve(&self, id: &str) -> anyhow::Result<String> {
        let wanted = id.trim().to_ascii_lowercase();
        if wanted.is_empty() {
            bail!("give a session id (or its start); list them with `pryx sessions list`");
        }
        let ids = self.all_ids().await?;
        if ids.contains(&wanted) {
            return Ok(wanted);
        }
        let matching: Vec<&String> = ids.iter().filter(|i| i.starts_with(&wanted)).collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] => bail!(
                "no session id is or starts with {id:?}; list sessions with `pryx sessions list` or find one with `pryx sessions search TEXT`"
            ),
            many => {
                let shown: Vec<&str> = many.iter().take(5).map(|s| s.as_str()).collect();
                let more = if many.len() > shown.len() {
                    ", …"
                } else {
                    ""
                };
                bail!(
                    "{id:?} is the start of {} session ids ({}{more}); give more of the id",
                    many.len(),
                    shown.join(", ")
                )
            }
        }
    }

    /// A session with its messages, as `GET /api/v1/sessions/{id}` returns it.
    pub(super) async fn detail(&self, id: &str) -> anyhow::Result<SessionDetail> {
        match self {
            Backend::Core(c) => c.get_session(id).await.map_err(|e| {
                if e.code() == Some(ErrorCode::NotFound) {
                    gone(id)
                } else {
                    e.into()
                }
            }),
            Backend::Store(s) => {
                let owned = id.to_string();
                let detail = blocking(s, move |s| {
                    let Some(session) = s.get_session(&owned)? else {
                        return Ok(None);
                    };
                    let paths = workspace_paths(s)?;
                    let messages = s
                        .list_messages(&owned)?
                        .into_iter()
                        .map(pryx_store::Message::into_view)
                        .collect();
                    Ok(Some(SessionDetail {
                        session: summary(session, None, &paths),
                        messages,
                        last_version: s.last_event_version(&owned)?,
                    }))
                })
                .await?;
                detail.ok_or_else(|| gone(id))
            }
        }
    }

    /// Sessions whose messages hold every term of `query`, best match first, with snippets.
    pub(super) async fn search(
        &self,
        query: &str,
        limit: u32,
    ) -> anyhow::Result<Vec<SessionSummary>> {
        match self {
            Backend::Core(c) => Ok(c.search_sessions(query, Some(limit), None).await?.sessions),
            Backend::Store(s) => {
                let query = query.to_string();
                blocking(s, move |s| {
                    let paths = workspace_paths(s)?;
                    Ok(s.search_sessions(&query, limit, 0)?
                        .into_iter()
                        .map(|h| summary(h.session, Some(h.snippet), &paths))
                        .collect())
                })
                .await
            }
        }
    }

    /// Deletes a session with its messages, tool calls and events (the audit log keeps its
    /// rows). The core refuses while a turn runs in it.
    pub(super) async fn delete(&self, id: &str) -> anyhow::Result<()> {
        match self {
            Backend::Core(c) => c.delete_session(id).await.map_err(|e| match e.code() {
                Some(ErrorCode::Conflict) => anyhow!(
                    "session {id} is running a turn; wait for it to end (or cancel it) and try again"
                ),
                Some(ErrorCode::NotFound) => gone(id),
                _ => e.into(),
            }),
            Backend::Store(s) => {
                let owned = id.to_string();
                if blocking(s, move |s| s.delete_session(&owned)).await? {
                    Ok(())
                } else {
                    Err(gone(id))
                }
            }
        }
    }
}

pub(super) use pryx_core::export::agent_of;

fn gone(id: &str) -> anyhow::Error {
    anyhow!("session {id} no longer exists; list sessions with `pryx sessions list`")
}

fn workspace_paths(s: &Store) -> pryx_store::Result<HashMap<String, String>> {
    Ok(s.list_workspaces()?
        .into_iter()
        .map(|w| (w.id, w.path))
        .collect())
}

/// The API's summary of a stored session. Without a core no turn runs through it, and the
/// broad-workspace warning is the core's to give.
fn summary(s: Session, snippet: Option<String>, paths: &HashMap<String, String>) -> SessionSummary {
    let workspace = s.workspace_id.as_ref().and_then(|w| paths.get(w)).cloned();
    s.into_summary(workspace, snippet)
}
