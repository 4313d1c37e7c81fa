//! Network for shell commands that fetch (`curl`, `git pull`, `ssh`…). A shell command has no
//! network unless it shows the `fetch` capability and was allowed or approved with it. The
//! places its arguments name are judged by the same address rules as `http.request` (see
//! [`crate::judge`]), and the sandbox lets it open TCP connections only to the ports those
//! places use: the rules apply where the kernel can enforce them (ports, not addresses).

use std::collections::BTreeSet;

use crate::shell::{Capability, ShellCommand};

/// A place a fetching command names in its arguments.
pub(crate) struct Remote {
    pub raw: String,
    pub url: url::Url,
}

/// Commands whose remote may be written `[user@]host:path` and that default to ssh.
const SSH_FAMILY: &[&str] = &["ssh", "scp", "sftp", "rsync", "git"];

fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

fn fetches(cmd: &ShellCommand) -> bool {
    cmd.powers.iter().any(|p| p.capability == Capability::Fetch)
}

/// The remote a word names: a URL with a host, or for the ssh family `[user@]host:path`.
fn remote_of(name: &str, word: &str) -> Option<url::Url> {
    if word.starts_with('-') {
        // `--url=https://…` style values.
        let (_, value) = word.split_once('=')?;
        return remote_of(name, value);
    }
    if word.contains("://") {
        return url::Url::parse(word).ok().filter(|u| u.host().is_some());
    }
    if !SSH_FAMILY.contains(&name) {
        return None;
    }
    let (host, _) = word.split_once(':')?;
    if host.is_empty() || host.contains('/') {
        return None;
    }
    let host = host.rsplit('@').next().unwrap_or(host);
    url::Url::parse(&format!("ssh://{host}/")).ok()
}

/// Every remote named by the commands that show `fetch`.
pub(crate) fn remotes(commands: &[ShellCommand]) -> Vec<Remote> {
    let mut out = Vec::new();
    for cmd in commands.iter().filter(|c| fetches(c)) {
        let Some(name) = cmd.words.first().map(|n| base(n)) else {
            continue;
        };
        for word in cmd.words.iter().skip(1) {
            if let Some(url) = remote_of(name, word) {
                out.push(Remote {
                    raw: word.clone(),
                    url,
                });
            }
        }
    }
    out
}

/// The TCP ports the commands of an allowed shell line may connect to, or `None` when none of
/// them fetches (the line then gets no network at all). Ports come from the places the
/// arguments name (a URL's port or its scheme's default; 22 for the ssh family, 9418 for
/// `git://`); a fetching command that names none gets the web's ports, 80 and 443.
pub(crate) fn ports(commands: &[ShellCommand]) -> Option<Vec<u16>> {
    if !commands.iter().any(fetches) {
        return None;
    }
    let mut ports = BTreeSet::new();
    for cmd in commands.iter().filter(|c| fetches(c)) {
        if cmd
            .words
            .first()
            .is_some_and(|n| SSH_FAMILY[..4].contains(&base(n)))
        {
            ports.insert(22);
        }
    }
    for remote in remotes(commands) {
        let port = remote
            .url
            .port_or_known_default()
            .or(match remote.url.scheme() {
                "ssh" | "sftp" | "scp" | "rsync" => Some(22),
                "git" => Some(9418),
                _ => None,
            });
        ports.extend(port);
    }
    if ports.is_empty() {
        ports.extend([80, 443]);
    }
    Some(ports.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::analyze;

    fn shell_network(line: &str) -> Option<Vec<u16>> {
        ports(&analyze(line).commands)
    }

    #[test]
    fn commands_that_do_not_fetch_get_no_network() {
        assert_eq!(shell_network("ls -la && cat x | wc -l"), None);
        assert_eq!(shell_network("awk 'BEGIN{print 1}'"), None);
    }

    #[test]
    fn ports_come_from_what_the_arguments_name() {
        assert_eq!(
            shell_network("curl -s https://example.com/x"),
            Some(vec![443])
        );
        assert_eq!(
            shell_network("curl http://example.com:8080/ && wget https://a.org/f"),
            Some(vec![443, 8080])
        );
        assert_eq!(
            shell_network("curl --url=http://example.com/"),
            Some(vec![80])
        );
        assert_eq!(
            shell_network("git clone git@github.com:o/r.git"),
            Some(vec![22])
        );
        assert_eq!(
            shell_network("git clone git://example.org/r.git"),
            Some(vec![9418])
        );
        assert_eq!(shell_network("ssh -p 22 box uptime"), Some(vec![22]));
    }

    #[test]
    fn a_fetch_naming_no_place_gets_the_web_ports() {
        assert_eq!(shell_network("git pull"), Some(vec![80, 443]));
    }

    #[test]
    fn remotes_are_only_those_of_fetching_commands() {
        let facts = analyze("echo http://169.254.169.254/ ; curl http://10.0.0.1:8080/x");
        let found: Vec<String> = remotes(&facts.commands)
            .into_iter()
            .map(|r| r.raw)
            .collect();
        assert_eq!(found, vec!["http://10.0.0.1:8080/x".to_string()]);
    }

    #[test]
    fn an_ssh_style_remote_needs_a_host_before_the_colon() {
        let facts = analyze("scp ./dir/a:b :c host.example:d dest");
        let found: Vec<String> = remotes(&facts.commands)
            .into_iter()
            .map(|r| r.raw)
            .collect();
        assert_eq!(found, vec!["host.example:d".to_string()]);
    }
}
