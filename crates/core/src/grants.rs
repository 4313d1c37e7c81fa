//! Standing approvals as the surfaces see them: listed, and revoked with an audit row naming who
//! revoked them. The agent gives and uses them (and audits that with the call concerned).

use crate::core::Core;
use crate::error::CoreError;
use pryx_protocol::Surface;
use pryx_protocol::api::GrantView;

impl Core {
    /// Every stored grant, newest first (expired ones flagged). Blocking: call off the runtime.
    pub fn grants(&self) -> Result<Vec<GrantView>, CoreError> {
        Ok(self
            .store()
            .list_grants()?
            .iter()
            .map(pryx_store::ApprovalGrant::view)
            .collect())
    }

    /// Revokes a grant for `surface`'s user: the next identical call asks again. Audited as
    /// `grant.revoked` by `user:<surface>`. Blocking: call off the runtime.
    pub fn revoke_grant(&self, id: &str, surface: Surface) -> Result<GrantView, CoreError> {
        let actor = format!("user:{}", surface.as_str());
        match self.store().revoke_grant(id, &actor)? {
            Some(g) => Ok(g.view()),
            None => Err(CoreError::GrantNotFound(id.to_string())),
        }
    }
}
