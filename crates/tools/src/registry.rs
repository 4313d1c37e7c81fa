//! Name-ordered set of tools offered to the model.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::{Tool, ToolDefinition};

/// A tool could not be added to a registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Another tool already has the name; tools are never replaced silently.
    #[error(
        "a tool named `{0}` is already registered; rename the new one (for an MCP server: choose another server name)"
    )]
    Duplicate(String),
}

/// Tools by canonical name, iterated in name order so requests are deterministic.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tools.keys()).finish()
    }
}

impl ToolRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The seven built-ins: fs.read, fs.write, fs.edit, fs.list, fs.search, shell.exec, http.request.
    pub fn with_builtins() -> Self {
        let mut reg = Self::new();
        for tool in crate::builtins() {
            reg.tools.insert(tool.name().to_owned(), tool);
        }
        reg
    }

    /// Adds a tool. A name already taken is an error: nothing replaces a registered tool
    /// behind the caller's back (see [`Self::replace`] for a deliberate swap).
    pub fn register(&mut self, tool: Arc<dyn Tool>) -> Result<(), RegistryError> {
        match self.tools.entry(tool.name().to_owned()) {
            std::collections::btree_map::Entry::Occupied(e) => {
                Err(RegistryError::Duplicate(e.key().clone()))
            }
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(tool);
                Ok(())
            }
        }
    }

    /// Puts `tool` in place of the registered tool of the same name (e.g. a built-in set up
    /// differently); returns the one it replaced.
    pub fn replace(&mut self, tool: Arc<dyn Tool>) -> Option<Arc<dyn Tool>> {
        self.tools.insert(tool.name().to_owned(), tool)
    }

    pub fn remove(&mut self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.remove(name)
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.values()
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Definitions for the LLM request, in name order.
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools
            .values()
            .map(|t| ToolDefinition {
                name: t.name().to_owned(),
                description: t.description().to_owned(),
                parameters: t.schema(),
                kind: t.kind(),
            })
            .collect()
    }
}
