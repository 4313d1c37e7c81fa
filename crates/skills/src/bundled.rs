//! Skills compiled into the binary (lowest precedence after extra dirs are considered).

/// A compiled-in skill folder: its name and files (`SKILL.md` first), by relative path.
#[derive(Debug, PartialEq, Eq)]
pub struct BundledSkill {
    pub name: &'static str,
    pub files: &'static [(&'static str, &'static str)],
}

impl BundledSkill {
    /// The text of a file in the folder.
    pub fn file(&self, rel: &str) -> Option<&'static str> {
        self.files.iter().find(|(p, _)| *p == rel).map(|(_, t)| *t)
    }
}

/// Every bundled skill, by name.
pub static BUNDLED: &[BundledSkill] = &[
    BundledSkill {
        name: "log-triage",
        files: &[("SKILL.md", include_str!("../bundled/log-triage/SKILL.md"))],
    },
    BundledSkill {
        name: "safe-git",
        files: &[("SKILL.md", include_str!("../bundled/safe-git/SKILL.md"))],
    },
    BundledSkill {
        name: "skill-authoring",
        files: &[
            (
                "SKILL.md",
                include_str!("../bundled/skill-authoring/SKILL.md"),
            ),
            (
                "references/frontmatter.md",
                include_str!("../bundled/skill-authoring/references/frontmatter.md"),
            ),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load;

    #[test]
    fn bundled_skills_parse_cleanly() {
        for b in BUNDLED {
            let text = b.file("SKILL.md").unwrap();
            let l = load::parse(text, Some(b.name)).unwrap();
            assert_eq!(l.manifest.name, b.name);
            assert!(l.warnings.is_empty(), "{}: {:?}", b.name, l.warnings);
            assert!(l.manifest.description.len() <= 1024);
        }
    }
}
