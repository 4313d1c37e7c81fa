//! Code-bearing files: files that make other commands run code (git's configuration and hooks,
//! makefiles, package scripts, CI workflows, shell start-up files). Writing one asks unless the
//! rule that allows the call names it in its `paths`.

/// One kind: path components matched at any depth, ignoring case (`*` is one component, `**` any
/// number of them), and what runs it.
struct CodeFile {
    parts: &'static [&'static str],
    runs: &'static str,
}

const fn cf(parts: &'static [&'static str], runs: &'static str) -> CodeFile {
    CodeFile { parts, runs }
}

const GIT: &str = "git runs its hooks and the commands its configuration names";
const CARGO: &str = "cargo runs the programs it names (runners, wrappers, linkers)";
const CI: &str = "CI runs the workflows in it";
const SHELL: &str = "shells run it when they start";

const CODE_FILES: &[CodeFile] = &[
    // A `.git` file can point git at another repository; everything under `.git` is git's.
    cf(&[".git", "**"], GIT),
    cf(
        &[".gitattributes"],
        "git runs the filters and diff drivers it names",
    ),
    cf(&[".gitmodules"], "git fetches and checks out what it names"),
    cf(&[".husky", "**"], "git runs the hooks in it"),
    cf(&[".gitconfig"], GIT),
    cf(&[".config", "git", "**"], GIT),
    cf(&[".envrc"], "direnv runs it on entering the directory"),
    cf(&["makefile"], "make runs its recipes"),
    cf(&["gnumakefile"], "make runs its recipes"),
    cf(
        &["package.json"],
        "npm and other package managers run its scripts",
    ),
    cf(
        &[".npmrc"],
        "npm follows it (script shell, git and node options)",
    ),
    cf(&[".yarnrc"], "yarn follows it"),
    cf(
        &[".yarnrc.yml"],
        "yarn runs the program it names (`yarnPath`)",
    ),
    cf(&["build.rs"], "cargo runs it when building"),
    cf(&[".cargo"], CARGO),
    cf(&[".cargo", "config"], CARGO),
    cf(&[".cargo", "config.toml"], CARGO),
    cf(&[".github"], CI),
    cf(&[".github", "workflows", "**"], CI),
    cf(&[".gitlab-ci.yml"], CI),
    cf(
        &[".pre-commit-config.yaml"],
        "pre-commit runs the hooks it names",
    ),
    cf(&[".bashrc"], SHELL),
    cf(&[".bash_profile"], SHELL),
    cf(&[".bash_login"], SHELL),
    cf(&[".profile"], SHELL),
    cf(&[".zshrc"], SHELL),
    cf(&[".zshenv"], SHELL),
    cf(&[".zprofile"], SHELL),
    cf(&[".zlogin"], SHELL),
    cf(
        &[".ssh", "config"],
        "ssh runs the commands it names (`ProxyCommand`)",
    ),
    cf(&[".ssh", "rc"], "ssh runs it at login"),
];

fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Whether `pattern` matches `path` ending there, starting at any component.
fn matches(pattern: &[&str], path: &[&str], eq: &dyn Fn(&str, &str) -> bool) -> bool {
    (0..=path.len()).any(|start| here(pattern, &path[start..], eq))
}

fn here(pattern: &[&str], path: &[&str], eq: &dyn Fn(&str, &str) -> bool) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|k| here(rest, &path[k..], eq)),
        Some((p, rest)) => match path.split_first() {
            Some((c, path_rest)) => (*p == "*" || eq(p, c)) && here(rest, path_rest, eq),
            None => false,
        },
    }
}

fn same(p: &str, c: &str) -> bool {
    p.eq_ignore_ascii_case(c)
}

/// A path component with shell wildcards could stand for `p`.
fn could_be(p: &str, c: &str) -> bool {
    if !c.contains(['*', '?', '[']) {
        return same(p, c);
    }
    globset::GlobBuilder::new(c)
        .case_insensitive(true)
        .build()
        .map_or(true, |g| g.compile_matcher().is_match(p))
}

/// What runs the code-bearing file `shown` (workspace-relative or absolute), if it is one; with
/// `glob`, if its wildcards could match one.
pub(crate) fn code_file(shown: &str, glob: bool) -> Option<&'static str> {
    let path = components(shown);
    let eq: &dyn Fn(&str, &str) -> bool = if glob { &could_be } else { &same };
    CODE_FILES
        .iter()
        .find(|f| matches(f.parts, &path, eq))
        .map(|f| f.runs)
}

/// Whether a `paths` glob names the code-bearing file `shown` explicitly: its own text spells a
/// code-bearing name that `shown` has, wildcards standing only where the kind allows any name.
/// So `Makefile`, `**/Makefile` and `.github/workflows/*` name theirs; `**` and `*` name none.
/// (The caller also checks that the glob matches `shown`.)
pub(crate) fn names(entry: &str, shown: &str) -> bool {
    let path = components(shown);
    let spelled = components(entry);
    CODE_FILES
        .iter()
        .filter(|f| matches(f.parts, &path, &same))
        .any(|f| matches(f.parts, &spelled, &same))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_bearing_paths() {
        for p in [
            ".git/config",
            ".git/hooks/pre-commit",
            ".git/hooks",
            ".git",
            ".git/info/attributes",
            ".git/modules/sub/config",
            "sub/.git/config",
            ".gitattributes",
            "a/.gitmodules",
            ".envrc",
            "Makefile",
            "makefile",
            "src/GNUmakefile",
            "package.json",
            "web/package.json",
            ".npmrc",
            ".github",
            ".github/workflows/ci.yml",
            ".gitlab-ci.yml",
            ".pre-commit-config.yaml",
            "build.rs",
            "crates/x/build.rs",
            ".cargo/config.toml",
            ".husky/pre-commit",
            "/home/u/.bashrc",
            "./.git/config",
            // Empty and `.` components are not names: they hide nothing.
            "a/.ssh/./config",
            ".ssh//config",
        ] {
            assert!(code_file(p, false).is_some(), "{p}");
        }
        for p in [
            "src/main.rs",
            "Makefile.bak",
            "README.md",
            ".github/ISSUE_TEMPLATE/bug.md",
            "gitconfig",
            "Cargo.toml",
            ".gitignore",
            "x.git/config",
        ] {
            assert!(code_file(p, false).is_none(), "{p}");
        }
        assert!(code_file("Makef*", true).is_some());
        assert!(code_file("*", true).is_some());
        assert!(code_file(".git/h*/x", true).is_some());
        assert!(code_file("src/*.txt", true).is_none());
    }

    #[test]
    fn globs_that_name_a_file() {
        assert!(names("Makefile", "Makefile"));
        assert!(names("**/Makefile", "sub/Makefile"));
        assert!(names(".github/workflows/*", ".github/workflows/ci.yml"));
        assert!(names(".git/hooks/pre-commit", ".git/hooks/pre-commit"));
        assert!(!names("**", "Makefile"));
        assert!(!names("*", "Makefile"));
        assert!(!names("Make*", "Makefile"));
        assert!(!names("src/**", "src/build.rs"));
        assert!(!names("**/*", ".git/config"));
        assert!(!names("Makefile", "package.json"));
    }
}
