//! Where a request goes: URLs (scheme, host, port) and the class of an address. The policy
//! engine and `http.request` both class addresses here, so a form the one sees through the other
//! sees through too.
//!
//! An IPv4 address hidden in an IPv6 one (mapped, translated, compatible, NAT64, 6to4, Teredo)
//! is classed by that IPv4 address: the packets end up there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How far an address is from the public internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Reachable on the public internet.
    Public,
    /// This machine or a local network (loopback, private, shared, unspecified…): reached only
    /// when a policy lists the exact address, or after asking.
    Local(&'static str),
    /// Never to be reached: link-local (cloud metadata lives there), metadata services,
    /// multicast, broadcast, reserved and documentation ranges.
    Forbidden(&'static str),
}

impl AddressClass {
    /// What kind of address it is, when it is not public (`loopback`, `private`…).
    pub fn reason(self) -> Option<&'static str> {
        match self {
            AddressClass::Public => None,
            AddressClass::Local(r) | AddressClass::Forbidden(r) => Some(r),
        }
    }

    fn rank(self) -> u8 {
        match self {
            AddressClass::Public => 0,
            AddressClass::Local(_) => 1,
            AddressClass::Forbidden(_) => 2,
        }
    }

    /// The further of the two from public.
    fn stricter(self, other: AddressClass) -> AddressClass {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

/// The class of `ip`.
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    use AddressClass::{Forbidden, Local, Public};
    let [a, b, c, d] = ip.octets();
    if ip.is_unspecified() {
        Local("unspecified")
    } else if a == 0 {
        Forbidden("reserved (0.0.0.0/8)")
    } else if ip.is_loopback() {
        Local("loopback")
    } else if ip.is_private() {
        Local("private")
    } else if ip.is_link_local() {
        Forbidden("link-local (cloud metadata)")
    } else if [a, b, c, d] == [100, 100, 100, 200] || [a, b, c, d] == [192, 0, 0, 192] {
        Forbidden("cloud metadata")
    } else if a == 100 && (64..128).contains(&b) {
        Local("shared address space")
    } else if a == 192 && b == 0 && c == 0 {
        Local("special-purpose")
    } else if a == 198 && (18..20).contains(&b) {
        Local("benchmarking")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Forbidden("multicast or reserved")
    } else if ip.is_documentation() {
        Forbidden("documentation")
    } else {
        Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    use AddressClass::{Forbidden, Local, Public};
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Local("unspecified");
    }
    if ip.is_loopback() {
        return Local("loopback");
    }
    if let Some(class) = embedded_class(ip) {
        return class;
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 0x0001 {
        // Local-use NAT64 (64:ff9b:1::/48): a translator on the user's network.
        let o = ip.octets();
        let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
        return Local("local-use NAT64").stricter(classify_v4(tail));
    }
    if (seg[0] & 0xffc0) == 0xfe80 {
        Forbidden("link-local")
    } else if seg[0] == 0xfd00 && seg[1] == 0x0ec2 {
        Forbidden("cloud metadata")
    } else if (seg[0] & 0xfe00) == 0xfc00 {
        Local("unique local (private)")
    } else if (seg[0] & 0xffc0) == 0xfec0 {
        Local("site-local")
    } else if ip.is_multicast() {
        Forbidden("multicast")
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        Forbidden("documentation")
    } else if seg[..4] == [0x0100, 0, 0, 0] {
        Forbidden("discard-only")
    } else {
        Public
    }
}

/// The class of the IPv4 address an IPv6 address carries, for the forms that carry one:
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::/96`), 6to4 (`2002:AABB:CCDD::/48`) and Teredo (`2001::/32`,
/// server and client, whichever is further from public).
fn embedded_class(ip: Ipv6Addr) -> Option<AddressClass> {
    let seg = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        classify_v4(Ipv4Addr::new(a, b, c, d))
    };
    match seg {
        [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo]
        | [0, 0, 0, 0, 0, 0, hi, lo]
        | [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        [0x2001, 0, s_hi, s_lo, _, _, c_hi, c_lo] => {
            // Teredo stores the client's address inverted.
            Some(v4(s_hi, s_lo).stricter(v4(!c_hi, !c_lo)))
        }
        _ => None,
    }
}

/// What a URL points at, for judging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A normal host name or public address.
    Host(String),
    /// Loopback, private, or unspecified: the user's own machine or network.
    Local(String, &'static str),
    /// Link-local (cloud metadata lives here) and other addresses never to be reached.
    Forbidden(String, &'static str),
}

/// Parses `raw` into a target and the parsed URL. Errors are a sentence for the user.
pub(crate) fn classify_url(raw: &str) -> Result<(Target, url::Url), String> {
    if raw.contains('\0') {
        return Err("URL contains a NUL byte".to_string());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("URL `{raw}` cannot be parsed: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "URL scheme `{other}` is not allowed (only http and https)"
            ));
        }
    }
    let target = classify_host(&url).ok_or_else(|| format!("URL `{raw}` has no host"))?;
    Ok((target, url))
}

/// What the host of a URL of any scheme points at; `None` without a host.
pub(crate) fn classify_host(url: &url::Url) -> Option<Target> {
    let (ip, shown) = match url.host()? {
        url::Host::Domain(d) => {
            let host = normalize_name(d);
            return Some(if is_localhost(&host) {
                Target::Local(host, "loopback")
            } else if host == "metadata.google.internal" || host == "metadata" {
                Target::Forbidden(host, "cloud metadata")
            } else {
                Target::Host(host)
            });
        }
        url::Host::Ipv4(ip) => (IpAddr::V4(ip), ip.to_string()),
        url::Host::Ipv6(ip) => (IpAddr::V6(ip), format!("[{ip}]")),
    };
    Some(match classify_ip(ip) {
        AddressClass::Public => Target::Host(shown),
        AddressClass::Local(why) => Target::Local(shown, why),
        AddressClass::Forbidden(why) => Target::Forbidden(shown, why),
    })
}

/// A host name lower-cased and without its trailing dot.
fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `localhost` and its subdomains always mean this machine.
fn is_localhost(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether `host` (as it appears in a URL) is an IP literal rather than a name.
pub(crate) fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<IpAddr>().is_ok()
}

/// One exact local address a policy lists (`127.0.0.1:11434`, `[::1]:8080`, `localhost:3000`,
/// `ollama.lan:11434`): a host and a port. Without a port it means the scheme's default port
/// (80 for http, 443 for https), never every port.
///
/// Local addresses are never matched by wildcards; listing one exact address is the only way a
/// request reaches this machine or the local network without asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAddress {
    host: LocalHost,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalHost {
    Ip(IpAddr),
    Name(String),
}

impl LocalAddress {
    /// Reads a `network.domains` entry. `Ok(None)` when it names no local address (a public
    /// host or a pattern); an error (a sentence) when it looks like an address but is not one.
    ///
    /// IP literals are read as a browser reads them, so `0x7f.1:80` is `127.0.0.1:80`.
    pub fn parse(entry: &str) -> Result<Option<LocalAddress>, String> {
        let explicit_port = match entry.strip_prefix('[') {
            Some(rest) => match rest.split_once(']') {
                Some((_, "")) => false,
                Some((_, tail)) if tail.starts_with(':') => true,
                _ => return Err(format!("`{entry}` is not an address: write `[v6]:port`")),
            },
            None if entry.matches(':').count() > 1 => {
                return Err(format!(
                    "`{entry}` is not an address: write IPv6 in brackets, e.g. `[::1]:8080`"
                ));
            }
            None => entry.contains(':'),
        };
        if entry.starts_with("*.") || entry == "*" {
            return Ok(None);
        }
        let url = url::Url::parse(&format!("http://{entry}/"))
            .map_err(|e| format!("`{entry}` is not a host or `host:port` address: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() || url.path() != "/" {
            return Err(format!("`{entry}` is not a host or `host:port` address"));
        }
        // The URL parser drops the scheme's default port; an entry that wrote it means it.
        let port = explicit_port.then(|| url.port().unwrap_or(80));
        let host = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(d)) => {
                let name = normalize_name(d);
                return Ok(
                    (is_localhost(&name) || port.is_some()).then_some(LocalAddress {
                        host: LocalHost::Name(name),
                        port,
                    }),
                );
            }
            None => return Err(format!("`{entry}` names no host")),
        };
        match classify_ip(host) {
            AddressClass::Local(_) => Ok(Some(LocalAddress {
                host: LocalHost::Ip(canonical(host)),
                port,
            })),
            AddressClass::Public => Ok(None),
            AddressClass::Forbidden(why) => Err(format!(
                "`{entry}` is a {why} address, which is never reachable"
            )),
        }
    }

    /// Whether the URL names this address as written: the same host (an IP compared as an
    /// address, so `[::ffff:127.0.0.1]` is `127.0.0.1`) and the same port.
    pub fn names(&self, url: &url::Url) -> bool {
        self.port_matches(url)
            && match (&self.host, url.host()) {
                (LocalHost::Ip(ip), Some(url::Host::Ipv4(v4))) => *ip == canonical(v4.into()),
                (LocalHost::Ip(ip), Some(url::Host::Ipv6(v6))) => *ip == canonical(v6.into()),
                (LocalHost::Name(n), Some(url::Host::Domain(d))) => *n == normalize_name(d),
                _ => false,
            }
    }

    /// Whether a request for `url` may connect to `resolved`, a local address the URL's host
    /// resolved to: an IP entry allows only that address and port, whatever name led there; a
    /// name entry allows what that name resolves to (`localhost` only to loopback).
    pub fn permits(&self, url: &url::Url, resolved: IpAddr) -> bool {
        let resolved = canonical(resolved);
        if !self.port_matches(url) || !matches!(classify_ip(resolved), AddressClass::Local(_)) {
            return false;
        }
        match &self.host {
            LocalHost::Ip(ip) => *ip == resolved,
            LocalHost::Name(n) => self.names(url) && (!is_localhost(n) || resolved.is_loopback()),
        }
    }

    fn port_matches(&self, url: &url::Url) -> bool {
        let default = match url.scheme() {
            "https" => 443,
            _ => 80,
        };
        url.port_or_known_default() == Some(self.port.unwrap_or(default))
    }
}

impl std::fmt::Display for LocalAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            LocalHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
            LocalHost::Ip(ip) => write!(f, "{ip}")?,
            LocalHost::Name(n) => f.write_str(n)?,
        }
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => Ok(()),
        }
    }
}

/// `::ffff:a.b.c.d` is `a.b.c.d`: one address, one spelling.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ip: &str) -> AddressClass {
        classify_ip(ip.parse().unwrap())
    }

    fn target(url: &str) -> Target {
        classify_url(url).unwrap().0
    }

    #[test]
    fn classifies_urls() {
        assert_eq!(
            target("https://api.example.com/x"),
            Target::Host("api.example.com".into())
        );
        assert_eq!(
            target("http://127.0.0.1:8080/"),
            Target::Local("127.0.0.1".into(), "loopback")
        );
        assert_eq!(
            target("http://localhost/"),
            Target::Local("localhost".into(), "loopback")
        );
        assert_eq!(
            target("http://[::1]/"),
            Target::Local("[::1]".into(), "loopback")
        );
        assert!(matches!(
            target("http://169.254.169.254/latest/meta-data"),
            Target::Forbidden(..)
        ));
        assert!(matches!(
            target("http://metadata.google.internal/"),
            Target::Forbidden(..)
        ));
        assert_eq!(
            target("https://api.example.com@evil.net/"),
            Target::Host("evil.net".into())
        );
        assert!(classify_url("file:///etc/passwd").is_err());
        assert!(classify_url("gopher://x/").is_err());
        assert!(classify_url("not a url").is_err());
    }

    #[test]
    fn ipv4_spellings_are_read_as_addresses() {
        for url in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0x7f000001/",
        ] {
            assert_eq!(
                target(url),
                Target::Local("127.0.0.1".into(), "loopback"),
                "{url}"
            );
        }
        assert!(matches!(target("http://0.0.0.0/"), Target::Local(..)));
        assert!(matches!(target("http://[::]/"), Target::Local(..)));
        assert!(matches!(
            target("http://0xa9fea9fe/"),
            Target::Forbidden(..)
        ));
    }

    #[test]
    fn ipv4_inside_ipv6_is_classed_by_the_ipv4() {
        for (ip, want) in [
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:7f00:1", "loopback"),
            ("::ffff:0:7f00:1", "loopback"),
            ("::ffff:0:a00:1", "private"),
            ("::127.0.0.1", "loopback"),
            ("::10.0.0.1", "private"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::c0a8:101", "private"),
            ("2002:7f00:1::", "loopback"),
            ("2002:c0a8:101::1", "private"),
            ("64:ff9b:1::8.8.8.8", "local-use NAT64"),
        ] {
            assert_eq!(class(ip), AddressClass::Local(want), "{ip}");
        }
        for ip in [
            "::ffff:169.254.169.254",
            "::ffff:0:a9fe:a9fe",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::",
            // Teredo: server 65.54.227.120, client 169.254.169.254 stored inverted.
            "2001:0:4136:e378:8000:63bf:5601:5601",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(matches!(class(ip), AddressClass::Forbidden(_)), "{ip}");
        }
        // Teredo with a loopback client.
        assert_eq!(
            class("2001:0:4136:e378:8000:63bf:80ff:fffe"),
            AddressClass::Local("loopback")
        );
        for ip in [
            "8.8.8.8",
            "93.184.216.34",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2606:4700:4700::1111",
        ] {
            assert_eq!(class(ip), AddressClass::Public, "{ip}");
        }
    }

    #[test]
    fn ipv4_ranges() {
        for (ip, local) in [
            ("127.1.2.3", true),
            ("10.0.0.1", true),
            ("172.16.5.4", true),
            ("192.168.1.1", true),
            ("100.64.0.1", true),
            ("198.18.0.1", true),
            ("0.0.0.0", true),
            ("169.254.169.254", false),
            ("100.100.100.200", false),
            ("192.0.0.192", false),
            ("0.1.2.3", false),
            ("255.255.255.255", false),
            ("224.0.0.1", false),
            ("240.0.0.1", false),
            ("192.0.2.1", false),
        ] {
            let c = class(ip);
            assert_eq!(matches!(c, AddressClass::Local(_)), local, "{ip}: {c:?}");
            assert_ne!(c, AddressClass::Public, "{ip}");
        }
    }

    fn local(entry: &str) -> LocalAddress {
        LocalAddress::parse(entry).unwrap().unwrap()
    }

    fn url(u: &str) -> url::Url {
        url::Url::parse(u).unwrap()
    }

    #[test]
    fn local_addresses_are_read_from_entries() {
        assert_eq!(local("127.0.0.1:11434").to_string(), "127.0.0.1:11434");
        assert_eq!(local("0x7f.1:11434").to_string(), "127.0.0.1:11434");
        assert_eq!(local("[::ffff:127.0.0.1]:80").to_string(), "127.0.0.1:80");
        assert_eq!(local("[::1]:8080").to_string(), "[::1]:8080");
        assert_eq!(local("LOCALHOST.").to_string(), "localhost");
        assert_eq!(local("ollama.lan:11434").to_string(), "ollama.lan:11434");
        assert_eq!(local("10.0.0.5").to_string(), "10.0.0.5");
        assert_eq!(local("[::1]").to_string(), "[::1]");
        assert_eq!(local("localhost").to_string(), "localhost");
        // A pattern names no one address, with a port or without.
        for public in [
            "example.com",
            "*.example.com",
            "*.example.com:8080",
            "*",
            "8.8.8.8",
            "8.8.8.8:53",
        ] {
            assert_eq!(LocalAddress::parse(public), Ok(None), "{public}");
        }
        for bad in [
            "::1",
            "[::1",
            "[::1]x",
            "[::1]?x",
            "[::1]#x",
            "user@127.0.0.1",
            ":secret@127.0.0.1",
            "127.0.0.1/x",
            "127.0.0.1:99999",
            "169.254.169.254:80",
            "[fe80::1]:80",
        ] {
            assert!(LocalAddress::parse(bad).is_err(), "{bad}");
        }
        let unbracketed = LocalAddress::parse("::1").unwrap_err();
        assert!(
            unbracketed.contains("write IPv6 in brackets"),
            "{unbracketed}"
        );
    }

    #[test]
    fn an_exact_local_address_names_one_host_and_port() {
        let ollama = local("127.0.0.1:11434");
        assert!(ollama.names(&url("http://127.0.0.1:11434/api/tags")));
        assert!(ollama.names(&url("http://2130706433:11434/")));
        assert!(ollama.names(&url("http://[::ffff:127.0.0.1]:11434/")));
        assert!(!ollama.names(&url("http://127.0.0.1:22/")));
        assert!(!ollama.names(&url("http://127.0.0.1/")));
        assert!(!ollama.names(&url("http://127.0.0.2:11434/")));
        assert!(!ollama.names(&url("http://localhost:11434/")));
        let bare = local("127.0.0.1");
        assert!(bare.names(&url("http://127.0.0.1/")));
        assert!(bare.names(&url("http://127.0.0.1:80/")));
        assert!(!bare.names(&url("http://127.0.0.1:8080/")));
        assert!(bare.names(&url("https://127.0.0.1/")));
        assert!(!bare.names(&url("https://127.0.0.1:80/")));
        let written_80 = local("127.0.0.1:80");
        assert!(!written_80.names(&url("https://127.0.0.1/")));
    }

    #[test]
    fn resolution_is_checked_against_the_same_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let ollama = local("127.0.0.1:11434");
        let via_name = url("http://localhost:11434/");
        assert!(ollama.permits(&via_name, ip("127.0.0.1")));
        assert!(ollama.permits(&via_name, ip("::ffff:127.0.0.1")));
        assert!(!ollama.permits(&via_name, ip("10.0.0.5")));
        assert!(!ollama.permits(&via_name, ip("::1")));
        assert!(!ollama.permits(&url("http://localhost:22/"), ip("127.0.0.1")));
        let name = local("localhost:3000");
        assert!(name.permits(&url("http://localhost:3000/"), ip("::1")));
        assert!(!name.permits(&url("http://localhost:3000/"), ip("192.168.1.5")));
        assert!(!name.permits(&url("http://127.0.0.1:3000/"), ip("127.0.0.1")));
        let lan = local("ollama.lan:11434");
        assert!(lan.permits(&url("http://ollama.lan:11434/"), ip("192.168.1.5")));
        assert!(!lan.permits(&url("http://ollama.lan:11434/"), ip("169.254.169.254")));
        assert!(!lan.permits(&url("http://other.lan:11434/"), ip("192.168.1.5")));
    }

    /// The edges of each special range, and public neighbours that share one of its octets.
    #[test]
    fn each_range_ends_where_it_should() {
        use AddressClass::{Forbidden, Local, Public};
        for (ip, want) in [
            ("100.64.0.1", Local("shared address space")),
            ("100.127.255.254", Local("shared address space")),
            ("100.63.0.1", Public),
            ("100.128.0.1", Public),
            ("8.64.0.1", Public),
            ("192.0.0.8", Local("special-purpose")),
            ("192.1.0.1", Public),
            ("192.0.1.1", Public),
            ("198.18.0.1", Local("benchmarking")),
            ("198.19.255.1", Local("benchmarking")),
            ("198.20.0.1", Public),
            ("8.18.0.1", Public),
            ("fd00::1", Local("unique local (private)")),
            ("fd00:ec2::254", Forbidden("cloud metadata")),
            ("fc00:ec2::1", Local("unique local (private)")),
            ("fec0::1", Local("site-local")),
            ("fe80::1", Forbidden("link-local")),
            ("febf::1", Forbidden("link-local")),
            ("ff02::1", Forbidden("multicast")),
            ("2001:db8::1", Forbidden("documentation")),
            ("2001:4860:4860::8888", Public),
            ("2600:db8::1", Public),
            // Teredo inverts all 32 bits of the client: 100.100.100.200, a metadata service.
            ("2001:0:808:808::9b9b:9b37", Forbidden("cloud metadata")),
            ("2001:ff9b::1", Public),
            ("2606:4700:1::1", Public),
            ("64:1234:1::1", Public),
            // Local-use NAT64 is local, or whatever stricter class the address it carries has.
            ("64:ff9b:1::8.8.8.8", Local("local-use NAT64")),
            ("64:ff9b:1::10.0.0.1", Local("local-use NAT64")),
            (
                "64:ff9b:1::169.254.169.254",
                Forbidden("link-local (cloud metadata)"),
            ),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn a_class_names_why_an_address_is_not_public() {
        assert_eq!(class("8.8.8.8").reason(), None);
        assert_eq!(class("127.0.0.1").reason(), Some("loopback"));
        assert_eq!(
            class("169.254.169.254").reason(),
            Some("link-local (cloud metadata)")
        );
    }

    #[test]
    fn ip_literals() {
        assert!(is_ip_literal("127.0.0.1"));
        assert!(is_ip_literal("[::1]"));
        assert!(!is_ip_literal("example.com"));
    }
}
