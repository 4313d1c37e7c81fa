//! The catalog of skills for one workspace and data directory, rebuilt only when the files or
//! the config changed.

use crate::bundled::BUNDLED;
use crate::discover::{self, Root};
use crate::eligibility::{Checker, Host};
use crate::load;
use crate::skill::{InvalidSkill, Location, Origin, Shadow, Skill};
use pryx_config::{Config, DataDir};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Everything discovered at one moment.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Every skill that parsed, shadowed ones included, sorted by name then precedence.
    pub skills: Vec<Skill>,
    /// Folders whose `SKILL.md` could not be used.
    pub invalid: Vec<InvalidSkill>,
    /// Problems outside any one skill (e.g. an unreadable config.json).
    pub notes: Vec<String>,
    /// The directories searched; a skill folder must resolve inside one of its origin's.
    pub(crate) roots: Vec<Root>,
}

impl Catalog {
    /// The winning (not shadowed) skill called `name`.
    pub fn get(&self, name: &str) -> Option<&Skill> {
        self.skills
            .iter()
            .find(|s| s.name() == name && s.shadowed_by.is_none())
    }

    /// Skills that win their name, sorted by name.
    pub fn active(&self) -> impl Iterator<Item = &Skill> {
        self.skills.iter().filter(|s| s.shadowed_by.is_none())
    }
}

/// Where to look and what to judge skills against.
#[derive(Debug, Clone)]
pub struct IndexSettings {
    /// Workspace whose `.pryx/skills` has the highest precedence.
    pub workspace: Option<PathBuf>,
    /// Data directory: managed skills, config.json and secrets.
    pub data_dir: Option<DataDir>,
    /// Include the compiled-in skills.
    pub bundled: bool,
    pub host: Host,
}

/// Skills of one workspace; cheap to share behind an `Arc`. Call [`SkillIndex::refresh`] at
/// the start of each turn: it rescans cheaply and reloads only when something changed.
pub struct SkillIndex {
    settings: IndexSettings,
    catalog: RwLock<Arc<Catalog>>,
    fingerprint: Mutex<Option<u64>>,
}

impl std::fmt::Debug for SkillIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkillIndex")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SkillIndex {
    /// The usual index: this process's host, bundled skills on. Loads immediately.
    pub fn open(workspace: impl Into<PathBuf>, data_dir: DataDir) -> Self {
        Self::with_settings(IndexSettings {
            workspace: Some(workspace.into()),
            data_dir: Some(data_dir),
            bundled: true,
            host: Host::current(),
        })
    }

    /// An index with explicit settings. Loads immediately.
    pub fn with_settings(settings: IndexSettings) -> Self {
        let index = Self {
            settings,
            catalog: RwLock::new(Arc::new(Catalog::default())),
            fingerprint: Mutex::new(None),
        };
        index.refresh();
        index
    }

    /// The settings this index was built with.
    pub fn settings(&self) -> &IndexSettings {
        &self.settings
    }

    /// The current catalog (a snapshot; later refreshes do not change it).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Rescans; rebuilds the catalog only if a `SKILL.md` or config.json changed, a skill
    /// folder appeared or went, or a PATH directory changed. Returns true when it rebuilt.
    pub fn refresh(&self) -> bool {
        let (config, mut notes) = self.load_config();
        let roots = self.roots(&config, &mut notes);
        let found = discover::scan(&roots);
        let config_file = self.settings.data_dir.as_ref().map(DataDir::config_file);
        let fp = discover::fingerprint(
            &found,
            &roots,
            config_file.as_deref(),
            self.settings.host.path.as_deref(),
        );
        let mut last = self
            .fingerprint
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if *last == Some(fp) {
            return false;
        }
        for r in &roots {
            if r.origin == Origin::Extra && !r.path.is_dir() {
                notes.push(format!(
                    "skills.extraDirs entry {} is not a directory",
                    r.path.display()
                ));
            }
        }
        let catalog = self.build(&config, &found, &roots, notes);
        *self.catalog.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(catalog);
        *last = Some(fp);
        true
    }

    /// Rebuilds the catalog unconditionally (e.g. after the environment changed).
    pub fn reload(&self) {
        *self
            .fingerprint
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.refresh();
    }

    fn load_config(&self) -> (Config, Vec<String>) {
        match &self.settings.data_dir {
            Some(dir) => match Config::load(dir) {
                Ok(c) => (c, Vec::new()),
                Err(e) => (
                    Config::default(),
                    vec![format!(
                        "{e} (skills use default settings until it is fixed)"
                    )],
                ),
            },
            None => (Config::default(), Vec::new()),
        }
    }

    /// Disk roots in precedence order (bundled skills sit between managed and extra).
    /// A workspace's or the data directory's skills folder that resolves outside its owner (a
    /// planted `.pryx/skills -> ~` link) is left out with a note.
    fn roots(&self, config: &Config, notes: &mut Vec<String>) -> Vec<Root> {
        let mut roots = Vec::new();
        let mut anchored = |origin: Origin, path: PathBuf, owner: &Path| {
            match (path.canonicalize(), owner.canonicalize()) {
                (Ok(real), Ok(owner)) if !real.starts_with(&owner) => notes.push(format!(
                    "skills folder {} resolves to {}, outside {}; its skills are ignored (replace the link with a folder)",
                    path.display(),
                    real.display(),
                    owner.display()
                )),
                _ => roots.push(Root { origin, path }),
            }
        };
        if let Some(ws) = &self.settings.workspace {
            anchored(Origin::Workspace, ws.join(".pryx").join("skills"), ws);
        }
        if let Some(dir) = &self.settings.data_dir {
            anchored(Origin::Managed, dir.skills_dir(), dir.root());
        }
        for extra in &config.skills.extra_dirs {
            roots.push(Root {
                origin: Origin::Extra,
                path: self.resolve_extra(extra),
            });
        }
        roots
    }

    fn resolve_extra(&self, raw: &str) -> PathBuf {
        let home = self.settings.host.var("HOME");
        let expanded = match (raw.strip_prefix("~/"), home) {
            (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ if raw == "~" => self
                .settings
                .host
                .var("HOME")
                .map_or_else(|| PathBuf::from(raw), PathBuf::from),
            _ => PathBuf::from(raw),
        };
        if expanded.is_absolute() {
            return expanded;
        }
        match &self.settings.data_dir {
            Some(dir) => dir.root().join(expanded),
            None => expanded,
        }
    }

    fn build(
        &self,
        config: &Config,
        found: &[discover::Found],
        roots: &[Root],
        notes: Vec<String>,
    ) -> Catalog {
        let load_confined = |f: &discover::Found| {
            discover::confined_dir(&f.dir, f.origin, roots)
                .map_err(|reason| load::LoadError { line: 1, reason })
                .and_then(|_| load::load_dir(&f.dir))
        };
        let mut skills = Vec::new();
        let mut invalid = Vec::new();
        let mut take =
            |origin: Origin, location: Location, result: Result<load::Loaded, load::LoadError>| {
                match result {
                    Ok(l) => skills.push(Skill {
                        manifest: l.manifest,
                        origin,
                        location,
                        body: l.body,
                        body_line: l.body_line,
                        warnings: l.warnings,
                        eligibility: Default::default(),
                        shadowed_by: None,
                    }),
                    Err(e) => invalid.push(InvalidSkill {
                        origin,
                        file: location.skill_file(),
                        line: e.line,
                        reason: e.reason,
                    }),
                }
            };
        let (before, after): (Vec<_>, Vec<_>) =
            found.iter().partition(|f| f.origin < Origin::Bundled);
        for f in before {
            take(f.origin, Location::Dir(f.dir.clone()), load_confined(f));
        }
        if self.settings.bundled {
            for b in BUNDLED {
                let text = b.file("SKILL.md").unwrap_or("");
                take(
                    Origin::Bundled,
                    Location::Bundled(b),
                    load::parse(text, Some(b.name)),
                );
            }
        }
        for f in after {
            take(f.origin, Location::Dir(f.dir.clone()), load_confined(f));
        }
        shadow(&mut skills);
        let checker = Checker::new(&self.settings.host, config, self.settings.data_dir.as_ref());
        for s in &mut skills {
            s.eligibility = checker.check(&s.manifest, s.config_key());
        }
        skills.sort_by(|a, b| a.name().cmp(b.name()).then(a.origin.cmp(&b.origin)));
        Catalog {
            skills,
            invalid,
            notes,
            roots: roots.to_vec(),
        }
    }
}

/// Marks every skill after the first of its name (in precedence order) as shadowed.
fn shadow(skills: &mut [Skill]) {
    let mut winners: HashMap<String, Shadow> = HashMap::new();
    for s in skills.iter_mut() {
        match winners.get(s.name()) {
            Some(w) => s.shadowed_by = Some(w.clone()),
            None => {
                winners.insert(
                    s.name().to_string(),
                    Shadow {
                        origin: s.origin,
                        location: s.location.clone(),
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
