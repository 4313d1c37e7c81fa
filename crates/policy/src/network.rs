//! Judging URLs: scheme, host, and addresses that must never be reached without a person saying so.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a URL points at, for judging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A normal host name or public address.
    Host(String),
    /// Loopback, private, or unspecified: the user's own machine or network.
    Local(String),
    /// Link-local (cloud metadata lives here) and other addresses never to be reached.
    Forbidden(String),
}

/// Parses `raw` into a target. Errors are a sentence for the user.
pub(crate) fn classify_url(raw: &str) -> Result<Target, String> {
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
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => return Ok(classify_ip(IpAddr::V4(ip), ip.to_string())),
        Some(url::Host::Ipv6(ip)) => return Ok(classify_ip(IpAddr::V6(ip), format!("[{ip}]"))),
        None => return Err(format!("URL `{raw}` has no host")),
    };
    if host == "localhost" || host.ends_with(".localhost") {
        return Ok(Target::Local(host));
    }
    if host == "metadata.google.internal" || host == "metadata" {
        return Ok(Target::Forbidden(host));
    }
    Ok(Target::Host(host))
}

fn classify_ip(ip: IpAddr, shown: String) -> Target {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4, shown),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4, shown);
            }
            classify_v6(v6, shown)
        }
    }
}

fn classify_v4(ip: Ipv4Addr, shown: String) -> Target {
    let o = ip.octets();
    if ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || o[0] == 0 && !ip.is_unspecified()
    {
        Target::Forbidden(shown)
    } else if ip.is_loopback()
        || ip.is_private()
        || ip.is_unspecified()
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
    {
        Target::Local(shown)
    } else {
        Target::Host(shown)
    }
}

fn classify_v6(ip: Ipv6Addr, shown: String) -> Target {
    let seg = ip.segments();
    if (seg[0] & 0xffc0) == 0xfe80 || ip.is_multicast() || (seg[0] == 0xfd00 && seg[1] == 0x0ec2) {
        Target::Forbidden(shown)
    } else if ip.is_loopback() || ip.is_unspecified() || (seg[0] & 0xfe00) == 0xfc00 {
        Target::Local(shown)
    } else {
        Target::Host(shown)
    }
}

/// Whether `host` (as it appears in a URL) is an IP literal rather than a name.
pub(crate) fn is_ip_literal(host: &str) -> bool {
    host.starts_with('[') || host.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_hosts() {
        assert_eq!(
            classify_url("https://api.example.com/x"),
            Ok(Target::Host("api.example.com".into()))
        );
        assert_eq!(
            classify_url("http://127.0.0.1:8080/"),
            Ok(Target::Local("127.0.0.1".into()))
        );
        assert_eq!(
            classify_url("http://2130706433/"),
            Ok(Target::Local("127.0.0.1".into()))
        );
        assert_eq!(
            classify_url("http://0x7f.1/"),
            Ok(Target::Local("127.0.0.1".into()))
        );
        assert_eq!(
            classify_url("http://localhost/"),
            Ok(Target::Local("localhost".into()))
        );
        assert_eq!(
            classify_url("http://[::1]/"),
            Ok(Target::Local("[::1]".into()))
        );
        assert_eq!(
            classify_url("http://10.1.2.3/"),
            Ok(Target::Local("10.1.2.3".into()))
        );
        assert!(matches!(
            classify_url("http://169.254.169.254/latest/meta-data"),
            Ok(Target::Forbidden(_))
        ));
        assert!(matches!(
            classify_url("http://[::ffff:169.254.169.254]/"),
            Ok(Target::Forbidden(_))
        ));
        assert!(matches!(
            classify_url("http://[fd00:ec2::254]/"),
            Ok(Target::Forbidden(_))
        ));
        assert!(matches!(
            classify_url("http://metadata.google.internal/"),
            Ok(Target::Forbidden(_))
        ));
        assert_eq!(
            classify_url("https://api.example.com@evil.net/"),
            Ok(Target::Host("evil.net".into()))
        );
        assert!(classify_url("file:///etc/passwd").is_err());
        assert!(classify_url("gopher://x/").is_err());
        assert!(classify_url("not a url").is_err());
    }
}
