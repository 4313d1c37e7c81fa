//! The skills of the main agent's workspace as `/skills` of the API and the Skills page show
//! them, and what can be done to them there: switch one on or off, install its dependencies
//! after the steps were shown, add skills from a folder, archive or git repository.

use crate::{Core, CoreError};
use pryx_config::Edit;
use pryx_protocol::api::{
    SkillAddRequest, SkillAdded, SkillDetail, SkillInstallOutcome, SkillInstallPlan, SkillList,
    SkillOrigin, SkillSummary, SkillsAdded,
};
use pryx_skills::add::{AddOptions, Source};
use pryx_skills::{Catalog, Host, Origin, Reason, Skill, SkillIndex, install};
use pryx_store::AuditEntry;
use std::sync::Arc;
use std::time::Duration;

/// How long a dependency installation may run.
const INSTALL_LIMIT: Duration = Duration::from_secs(600);

fn origin(o: Origin) -> SkillOrigin {
    match o {
        Origin::Workspace => SkillOrigin::Workspace,
        Origin::Managed => SkillOrigin::Managed,
        Origin::Bundled => SkillOrigin::Bundled,
        Origin::Extra => SkillOrigin::Extra,
    }
}

/// A skill as listed.
fn summary(s: &Skill) -> SkillSummary {
    SkillSummary {
        name: s.name().to_string(),
        description: s.manifest.description.clone(),
        origin: origin(s.origin),
        enabled: s.eligibility.is_enabled(),
        usable: s.is_usable(),
        blocked: s
            .eligibility
            .reasons
            .iter()
            .filter(|r| !matches!(r, Reason::SkillsOff | Reason::Disabled { .. }))
            .map(ToString::to_string)
            .collect(),
        path: s.location.dir().map(|d| d.display().to_string()),
    }
}

impl Core {
    fn skill_catalog(&self) -> Result<Arc<Catalog>, CoreError> {
        let workspace = self.profile(None)?.workspace;
        Ok(SkillIndex::open(workspace, self.dir().clone()).catalog())
    }

    fn no_skill(name: &str) -> CoreError {
        CoreError::NotFound(format!(
            "no skill named {name} in the main agent's workspace; GET /api/v1/skills lists them"
        ))
    }

    /// The skills that apply in the main agent's workspace (shadowed ones left out).
    pub fn skills(&self) -> Result<SkillList, CoreError> {
        let catalog = self.skill_catalog()?;
        Ok(SkillList {
            skills_enabled: self.settings().config.skills.enabled,
            managed_dir: self.dir().skills_dir().display().to_string(),
            skills: catalog.active().map(summary).collect(),
        })
    }

    /// One skill with its SKILL.md and the exact steps that would install its dependencies.
    pub fn skill(&self, name: &str) -> Result<SkillDetail, CoreError> {
        let catalog = self.skill_catalog()?;
        let skill = catalog.get(name).ok_or_else(|| Self::no_skill(name))?;
        let host = Host::current();
        let dir = self.dir();
        let (install, install_unavailable) = match install::choose(skill, None, &host)
            .and_then(|spec| install::plan(skill, spec, &host, dir).map(|p| (spec, p)))
        {
            Ok((spec, plan)) => (
                Some(SkillInstallPlan {
                    installer: spec.id.clone(),
                    kind: spec.kind.as_str().to_string(),
                    steps: plan.steps.iter().map(ToString::to_string).collect(),
                    writes_to: plan.dest.display().to_string(),
                }),
                None,
            ),
            Err(e) => (None, Some(e.to_string())),
        };
        let m = &skill.manifest;
        Ok(SkillDetail {
            skill: summary(skill),
            license: m.license.clone(),
            homepage: m.homepage.clone(),
            allowed_tools: m.allowed_tools.clone(),
            warnings: skill.warnings.clone(),
            body: skill.body.clone(),
            install,
            install_unavailable,
        })
    }

    /// Switches a skill on or off (`skills.entries.<key>.enabled`, as `pryx skills enable`).
    pub fn set_skill_enabled(
        &self,
        name: &str,
        on: bool,
        actor: &str,
    ) -> Result<SkillSummary, CoreError> {
        let path = {
            let catalog = self.skill_catalog()?;
            let skill = catalog.get(name).ok_or_else(|| Self::no_skill(name))?;
            skill.switch_path()
        };
        self.write_config(&[Edit::Set(path, on.into())])?;
        self.audit_change(
            actor,
            "skill.switched",
            "skill",
            name,
            serde_json::json!({ "enabled": on }),
            true,
        );
        let catalog = self.skill_catalog()?;
        catalog
            .get(name)
            .map(summary)
            .ok_or_else(|| Self::no_skill(name))
    }

    /// Runs the dependency installation `skill(name)` showed for `installer`: the same plan,
    /// runner and containment as `pryx skills install`, audited as `skill.installed`.
    pub async fn install_skill_deps(
        &self,
        name: &str,
        installer: &str,
        actor: &str,
    ) -> Result<SkillInstallOutcome, CoreError> {
        let outcome = self.install_now(name, installer).await;
        self.audit_change(
            actor,
            "skill.installed",
            "skill",
            name,
            serde_json::json!({ "installer": installer }),
            outcome.is_ok(),
        );
        outcome.map(|output| SkillInstallOutcome { output })
    }

    async fn install_now(&self, name: &str, id: &str) -> Result<String, CoreError> {
        let catalog = self.skill_catalog()?;
        let skill = catalog.get(name).ok_or_else(|| Self::no_skill(name))?;
        let host = Host::current();
        let unusable = |e: install::InstallError| CoreError::Unusable(e.to_string());
        let spec = install::choose(skill, Some(id), &host).map_err(unusable)?;
        let plan = install::plan(skill, spec, &host, self.dir()).map_err(unusable)?;
        let runner = install::Runner {
            sandbox: self.sandbox(),
        };
        match tokio::time::timeout(INSTALL_LIMIT, install::execute(&plan, &runner, false)).await {
            Ok(Ok(out)) => Ok(match &plan.tools_dir {
                Some(tools) => format!("{out}\nInstalled programs are in {}.", tools.display()),
                None => out,
            }),
            Ok(Err(e)) => Err(unusable(e)),
            Err(_) => Err(CoreError::Unusable(format!(
                "the installation did not finish within {} minutes",
                INSTALL_LIMIT.as_secs() / 60
            ))),
        }
    }

    /// Adds the skills of a folder, archive or git repository to the data directory's
    /// `skills/`, audited as `skill.added`. Relative paths are taken from the main agent's
    /// workspace.
    pub async fn add_skills(
        &self,
        req: &SkillAddRequest,
        actor: &str,
    ) -> Result<SkillsAdded, CoreError> {
        let base = self.profile(None)?.workspace;
        let source =
            Source::parse(&req.source, &base).map_err(|e| CoreError::Unusable(e.to_string()))?;
        let opts = AddOptions {
            skills: req.skills.clone(),
            git_ref: req.git_ref.clone().filter(|r| !r.trim().is_empty()),
            replace: req.replace,
        };
        let outcome =
            pryx_skills::add::add(&source, &self.dir().skills_dir(), &opts, &Host::current()).await;
        let details = serde_json::json!({
            "source": source.shown(),
            "skills": outcome.as_ref().map(|a| a.iter().map(|s| s.name.clone()).collect::<Vec<_>>()).unwrap_or_default(),
            "replace": req.replace,
        });
        self.audit_change(
            actor,
            "skill.added",
            "skill",
            &source.shown(),
            details,
            outcome.is_ok(),
        );
        let added = outcome.map_err(|e| match e {
            pryx_skills::add::AddError::Io { .. } => CoreError::Internal(e.to_string()),
            other => CoreError::Unusable(other.to_string()),
        })?;
        Ok(SkillsAdded {
            added: added
                .into_iter()
                .map(|a| SkillAdded {
                    name: a.name,
                    path: a.path.display().to_string(),
                    replaced: a.replaced,
                })
                .collect(),
        })
    }

    /// Records a change made to an extension (a skill, an MCP server) in the audit log; a
    /// failure to record is logged, not returned: the change itself happened.
    pub(crate) fn audit_change(
        &self,
        actor: &str,
        action: &str,
        resource_type: &str,
        id: &str,
        details: serde_json::Value,
        ok: bool,
    ) {
        let entry = AuditEntry {
            actor: actor.into(),
            action: action.into(),
            resource_type: resource_type.into(),
            resource_id: Some(id.to_string()),
            session_id: None,
            details,
            outcome: if ok { "success" } else { "failure" }.into(),
        };
        if let Err(e) = self.store().append_audit(&entry) {
            tracing::warn!(error = %e, action, "could not audit a change");
        }
    }
}
