//! What a session runs with, and the core's defaults for new sessions. A session records its
//! agent profile, workspace, model and policy when created; changes apply to its later turns.
//! The defaults are written to `config.json` (through its one writer) so they survive restarts.

use crate::core::Core;
use crate::error::CoreError;
use crate::profiles;
use crate::setup::{self, SetupError};
use pryx_config::{Config, Edit};
use pryx_store::{AuditEntry, NewSession, Session};
use std::path::{Path, PathBuf};

/// What a new session may choose; `None` takes the agent profile's value.
#[derive(Debug, Clone, Default)]
pub struct SessionRequest {
    pub title: Option<String>,
    pub agent: Option<String>,
    /// An absolute directory path or a workspace id known to the store.
    pub workspace: Option<String>,
    pub model: Option<String>,
    pub policy: Option<String>,
}

/// Changes to a session's later turns; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SessionChange {
    pub title: Option<String>,
    pub model: Option<String>,
    pub policy: Option<String>,
}

impl Core {
    /// Creates a session from an agent profile (default `main`), with the request's choices on
    /// top. Unknown names are [`SetupError::Unknown`]; a bad workspace is
    /// [`SetupError::Invalid`]. Without a configured provider the session is still created (its
    /// model is chosen at its first turn).
    pub fn create_session(&self, req: &SessionRequest) -> Result<Session, CoreError> {
        let profile = self.profile(req.agent.as_deref())?;
        let workspace = match &req.workspace {
            Some(w) => self.workspace_path(w)?,
            None => profile.workspace.clone(),
        };
        let model = match &req.model {
            Some(m) => Some(self.check_model(m)?),
            None => profile.model.clone(),
        };
        let policy = match &req.policy {
            Some(p) => self.check_policy(p)?,
            None => profile.policy.clone(),
        };
        let ws = self.store().upsert_workspace(&workspace)?;
        Ok(self.store().create_session(&NewSession {
            workspace_id: Some(ws.id),
            title: req.title.clone().unwrap_or_default(),
            model,
            agent: Some(profile.id),
            policy: Some(policy),
        })?)
    }

    /// Changes the title, model or policy of a session's later turns (a running turn keeps
    /// its own). Model and policy changes are audited.
    pub fn update_session(
        &self,
        id: &str,
        change: &SessionChange,
        actor: &str,
    ) -> Result<Session, CoreError> {
        let store = self.store();
        let before = store
            .get_session(id)?
            .ok_or_else(|| CoreError::SessionNotFound(id.to_string()))?;
        let model = change
            .model
            .as_deref()
            .map(|m| self.check_model(m))
            .transpose()?;
        let policy = change
            .policy
            .as_deref()
            .map(|p| self.check_policy(p))
            .transpose()?;
        if let Some(t) = &change.title {
            store.set_session_title(id, t)?;
        }
        if let Some(m) = &model {
            store.set_session_model(id, m)?;
            self.audit(
                actor,
                "session.model_changed",
                "session",
                id,
                &before.model,
                m,
            )?;
        }
        if let Some(p) = &policy {
            store.set_session_policy(id, p)?;
            self.audit(
                actor,
                "session.policy_changed",
                "session",
                id,
                &before.policy,
                p,
            )?;
        }
        store
            .get_session(id)?
            .ok_or_else(|| CoreError::SessionNotFound(id.to_string()))
    }

    /// Makes `id` the default model of new sessions (`defaults.model`, persisted); returns the
    /// full `provider/model`. A command-line `--model` of this core gives way to it.
    pub fn set_default_model(&self, id: &str, actor: &str) -> Result<String, CoreError> {
        let full = self.check_model(id)?;
        let before = self.settings().config.defaults.model.clone();
        self.write_config(&[Edit::Set("defaults.model".into(), full.clone().into())])?;
        self.live().clear_override(|o| o.model = None);
        self.audit(actor, "model.changed", "model", &full, &before, &full)?;
        Ok(full)
    }

    /// Makes `name` the default policy of new sessions (`defaults.policy`, persisted).
    pub fn set_default_policy(&self, name: &str, actor: &str) -> Result<String, CoreError> {
        let name = self.check_policy(name)?;
        let before = Some(self.settings().config.defaults.policy.clone());
        self.write_config(&[Edit::Set("defaults.policy".into(), name.clone().into())])?;
        self.live().clear_override(|o| o.policy = None);
        self.audit(actor, "policy.changed", "policy", &name, &before, &name)?;
        Ok(name)
    }

    /// The effective config (defaults filled in, credentials masked) and its revision: what a
    /// form shows and sends back as its base.
    pub fn config_document(&self) -> pryx_protocol::api::ConfigDocument {
        let config = &self.settings().config;
        pryx_protocol::api::ConfigDocument {
            revision: config.revision,
            config: config.masked(),
        }
    }

    /// Applies a change set made against revision `base` (refused as stale when the file changed
    /// since), validated as a whole and audited as `config.changed` with the keys it touched.
    pub fn edit_config(
        &self,
        base: Option<u64>,
        edits: &[Edit],
        actor: &str,
    ) -> Result<Config, CoreError> {
        let config = Config::edit(self.dir(), base, edits)?;
        let _ = self.settings();
        let keys: Vec<&str> = edits.iter().map(Edit::key).collect();
        self.store().append_audit(&AuditEntry {
            actor: actor.into(),
            action: "config.changed".into(),
            resource_type: "config".into(),
            resource_id: Some(config.revision.to_string()),
            session_id: None,
            details: serde_json::json!({ "keys": keys }),
            outcome: "success".into(),
        })?;
        Ok(config)
    }

    /// Writes `config.json` through its one writer; the change is seen at once.
    pub fn write_config(&self, edits: &[Edit]) -> Result<Config, CoreError> {
        let config = Config::edit(self.dir(), None, edits)?;
        // The file's stamp changed, so the next snapshot re-reads it.
        let _ = self.settings();
        Ok(config)
    }

    /// Resolves a `provider/model` id against the configured providers and the catalog; the
    /// answer is the full id.
    pub fn check_model(&self, id: &str) -> Result<String, CoreError> {
        let snap = self.settings();
        let catalog = snap.catalog(self.dir())?;
        let choice = setup::choose_model(&snap.config, &catalog, Some(id))?;
        Ok(choice.info.full_id())
    }

    /// A policy name that loads (a built-in mode or a file in `policies/`); never a path.
    pub fn check_policy(&self, name: &str) -> Result<String, CoreError> {
        let plain = !name.is_empty()
            && name.len() <= 128
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !plain {
            return Err(SetupError::Invalid(format!(
                "policy name {name:?} is not valid; use a built-in mode or the stem of a file in policies/ (letters, digits, '-', '_')"
            ))
            .into());
        }
        setup::load_policy(self.dir(), name)?;
        Ok(name.to_string())
    }

    /// What surfaces say about a session's workspace when it is broader than a project (the
    /// root or home directory, or one holding the data dir; the user confirmed it).
    pub fn workspace_warning(&self, workspace: &str) -> Option<String> {
        profiles::broad_reason(self.dir(), Path::new(workspace)).map(|reason| {
            format!(
                "workspace {workspace} is {reason}: tools reach everything in it except Pryx's data dir"
            )
        })
    }

    /// A workspace given as an absolute path (it must be a directory other than the data dir)
    /// or as the id of a known workspace.
    fn workspace_path(&self, given: &str) -> Result<PathBuf, CoreError> {
        let snap = self.settings();
        let confirmed = &snap.config.agent.broad_workspaces;
        let path = Path::new(given);
        if path.is_absolute() {
            return Ok(profiles::check_workspace(self.dir(), path, confirmed)?);
        }
        match self.store().get_workspace(given)? {
            Some(w) => Ok(profiles::check_workspace(
                self.dir(),
                Path::new(&w.path),
                confirmed,
            )?),
            None => Err(SetupError::Unknown(format!(
                "workspace {given:?} is neither an absolute directory path nor a known workspace id"
            ))
            .into()),
        }
    }

    fn audit(
        &self,
        actor: &str,
        action: &str,
        resource_type: &str,
        id: &str,
        from: &Option<String>,
        to: &str,
    ) -> Result<(), CoreError> {
        self.store().append_audit(&AuditEntry {
            actor: actor.into(),
            action: action.into(),
            resource_type: resource_type.into(),
            resource_id: Some(id.to_string()),
            session_id: (resource_type == "session").then(|| id.to_string()),
            details: serde_json::json!({"from": from, "to": to}),
            outcome: "success".into(),
        })?;
        Ok(())
    }
}

impl Core {
    /// Takes back a session's last user message with what answered it (e.g. one too large for
    /// the model); refused while a turn runs there. Returns how many messages went.
    pub fn remove_last_user_message(
        &self,
        session_id: &str,
        message_id: &str,
    ) -> Result<u64, CoreError> {
        if self.is_busy(session_id) {
            return Err(CoreError::SessionBusy(session_id.to_string()));
        }
        if self.store().get_session(session_id)?.is_none() {
            return Err(CoreError::SessionNotFound(session_id.to_string()));
        }
        Ok(self
            .store()
            .remove_last_user_message(session_id, message_id)?)
    }

    /// Runs the session's last user message again, as a new turn, optionally on another model
    /// (which becomes the session's): its earlier answer, or the failure it ended in, is taken
    /// back first. The one action after a turn failed mid-answer on a model that cannot go on.
    pub async fn retry_last(
        &self,
        session_id: &str,
        model: Option<&str>,
        actor: &str,
    ) -> Result<crate::StartedTurn, CoreError> {
        if self.is_busy(session_id) {
            return Err(CoreError::SessionBusy(session_id.to_string()));
        }
        let (sid, model, actor) = (
            session_id.to_string(),
            model.map(str::to_owned),
            actor.to_string(),
        );
        let last = self
            .blocking(move |core| {
                if core.store().get_session(&sid)?.is_none() {
                    return Err(CoreError::SessionNotFound(sid));
                }
                if model.is_some() {
                    let change = SessionChange {
                        model,
                        ..SessionChange::default()
                    };
                    core.update_session(&sid, &change, &actor)?;
                }
                let messages = core.store().list_messages(&sid)?;
                let last = messages
                    .into_iter()
                    .rev()
                    .find(|m| m.role == pryx_store::Role::User)
                    .ok_or_else(|| {
                        CoreError::Conflict(format!(
                            "session {sid} has no message to retry; send one with POST /api/v1/sessions/{sid}/messages"
                        ))
                    })?;
                core.remove_last_user_message(&sid, &last.id)?;
                Ok(last)
            })
            .await?;
        match self.start_turn(session_id, &last.text).await {
            Ok(started) => Ok(started),
            Err(e) => {
                // Nothing ran: the message goes back where it was, without its old answer.
                let store = self.store().clone();
                let new = pryx_store::NewMessage {
                    session_id: session_id.to_string(),
                    role: pryx_store::Role::User,
                    content: last.content.clone(),
                    text: last.text.clone(),
                    tool_call_id: None,
                    model: None,
                    usage: pryx_store::MessageUsage::default(),
                };
                let _ = tokio::task::spawn_blocking(move || store.append_message(&new)).await;
                Err(e)
            }
        }
    }
}
