//! What a source string names: a folder, an archive here or at an http(s) URL, or a git
//! repository. Git is asked only for the transports listed here; `ext::` and other remote
//! helpers that run commands are refused before git sees the URL.

use super::AddError;
use std::path::{Path, PathBuf};

/// Where skills are added from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Folder(PathBuf),
    /// An archive on this machine, with its kind (`zip`, `tar.gz`, `tar.bz2`).
    Archive(PathBuf, &'static str),
    /// An archive to download.
    ArchiveUrl(String, &'static str),
    /// A repository git can clone.
    Git(String),
}

/// The archive kind a file name ends with.
pub fn archive_kind(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        Some("zip")
    } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        Some("tar.gz")
    } else if lower.ends_with(".tar.bz2") || lower.ends_with(".tbz2") {
        Some("tar.bz2")
    } else {
        None
    }
}

/// A URL's path, without query or fragment.
fn url_path(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or("")
}

/// Whether `s` is scp-like git syntax, `user@host:path`.
fn scp_like(s: &str) -> bool {
    let Some((user_host, path)) = s.split_once(':') else {
        return false;
    };
    let Some((user, host)) = user_host.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && !host.is_empty()
        && !path.is_empty()
        && !path.starts_with("//")
        && user_host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.-_".contains(c))
}

impl Source {
    /// Reads `text`; relative paths are taken from `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Source, AddError> {
        let s = text.trim();
        let bad = |why: &str| AddError::BadSource {
            from: s.to_string(),
            why: why.to_string(),
        };
        if s.is_empty() {
            return Err(bad("it is empty; give a folder, an archive or a git URL"));
        }
        if s.starts_with('-') {
            return Err(bad("a source cannot start with `-`"));
        }
        if s.chars().any(char::is_control) {
            return Err(bad("it holds control characters"));
        }
        if let Some(rest) = s.strip_prefix("git+") {
            return if ["https://", "http://", "ssh://", "file://"]
                .iter()
                .any(|p| rest.starts_with(p))
            {
                Ok(Source::Git(rest.to_string()))
            } else {
                Err(bad(
                    "after `git+` comes an https://, http://, ssh:// or file:// URL",
                ))
            };
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return match scheme.to_ascii_lowercase().as_str() {
                "http" | "https" => Ok(match archive_kind(url_path(s)) {
                    Some(kind) => Source::ArchiveUrl(s.to_string(), kind),
                    None => Source::Git(s.to_string()),
                }),
                "ssh" | "git" | "file" => Ok(Source::Git(s.to_string())),
                _ => Err(bad(
                    "only folders, archives, and http(s), ssh, git and file URLs are supported",
                )),
            };
        }
        if s.contains("::") {
            return Err(bad(
                "git remote helpers (`transport::address`) are not supported",
            ));
        }
        let path = base.join(s);
        if scp_like(s) && !path.exists() {
            return Ok(Source::Git(s.to_string()));
        }
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Ok(Source::Folder(path)),
            Ok(m) if m.is_file() => match archive_kind(s) {
                Some(kind) => Ok(Source::Archive(path, kind)),
                None => Err(bad(
                    "it is a file but not an archive (.zip, .tar.gz, .tgz, .tar.bz2); give the folder holding SKILL.md instead",
                )),
            },
            Ok(_) => Err(bad("it is neither a folder nor a file")),
            Err(e) => Err(bad(&format!(
                "no such folder or file ({e}), and not a URL git can clone"
            ))),
        }
    }

    /// How it is shown in messages and the audit log.
    pub fn shown(&self) -> String {
        match self {
            Source::Folder(p) | Source::Archive(p, _) => p.display().to_string(),
            Source::ArchiveUrl(u, _) | Source::Git(u) => u.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        std::fs::create_dir(base.join("skill")).unwrap();
        std::fs::write(base.join("s.tgz"), b"x").unwrap();
        std::fs::write(base.join("notes.txt"), b"x").unwrap();
        let p = |s: &str| Source::parse(s, base);
        assert_eq!(p("skill").unwrap(), Source::Folder(base.join("skill")));
        assert_eq!(
            p("s.tgz").unwrap(),
            Source::Archive(base.join("s.tgz"), "tar.gz")
        );
        assert_eq!(
            p("https://example.com/a/skills.zip?x=1").unwrap(),
            Source::ArchiveUrl("https://example.com/a/skills.zip?x=1".into(), "zip")
        );
        for git in [
            "https://github.com/acme/skills",
            "https://github.com/acme/skills.git",
            "git@github.com:acme/skills.git",
            "ssh://git@host/acme/skills",
            "git://host/skills",
            "file:///srv/skills.git",
        ] {
            assert_eq!(p(git).unwrap(), Source::Git(git.into()), "{git}");
        }
        assert_eq!(
            p("git+https://host/x").unwrap(),
            Source::Git("https://host/x".into())
        );
    }

    #[test]
    fn hostile_or_unusable_sources_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), b"x").unwrap();
        for bad in [
            "",
            "   ",
            "ext::sh -c touch% /tmp/pwned",
            "fd::17",
            "--upload-pack=touch /tmp/pwned",
            "-u x",
            "git+ext::sh",
            "ftp://host/skills.zip",
            "javascript://x",
            "notes.txt",
            "no-such-folder",
            "a\nb",
        ] {
            assert!(Source::parse(bad, tmp.path()).is_err(), "{bad:?}");
        }
    }
}
