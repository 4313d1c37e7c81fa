//! Tools and prompt text that come from outside the built-ins: SKILL.md skills.

use pryx_agent::PromptSource;
use pryx_config::{Config, DataDir};
use pryx_skills::SkillIndex;
use pryx_tools::Tool;
use std::path::Path;
use std::sync::Arc;

/// What extensions add to an agent.
#[derive(Default)]
pub struct Extensions {
    pub tools: Vec<Arc<dyn Tool>>,
    pub prompt_sources: Vec<PromptSource>,
}

/// Skills of the workspace, the data dir, the bundled set and `skills.extraDirs`: their compact
/// list joins the system prompt (rescanned cheaply every turn) and `skills.load`/`skills.read`
/// join the tools.
pub fn extensions(dir: &DataDir, config: &Config, workspace: &Path) -> Extensions {
    let mut ext = Extensions::default();
    if config.skills.enabled {
        let index = Arc::new(SkillIndex::open(workspace, dir.clone()));
        for note in &index.catalog().notes {
            tracing::debug!("skills: {note}");
        }
        ext.tools.extend(pryx_skills::tools(index.clone()));
        ext.prompt_sources.push(Arc::new(move || {
            index.refresh();
            pryx_skills::prompt_block(&index.catalog().skills)
        }));
    }
    ext
}
