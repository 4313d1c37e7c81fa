//! Which addresses and hosts `http.request` may reach. Addresses are classed by
//! [`pryx_policy::network`], the code the policy engine judges URLs with, so the tool refuses
//! every form (IPv4 inside IPv6, odd IPv4 spellings) the engine sees through.

pub use pryx_policy::network::{AddressClass, LocalAddress, classify_ip};

/// Whether `host` is allowed by `allowed` (`example.com` exact, `*.example.com` subdomains).
/// An empty list allows every host.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    allowed.is_empty()
        || allowed
            .iter()
            .any(|pattern| pryx_policy::domain_matches(pattern, host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(s: &str) -> bool {
        classify_ip(s.parse().unwrap()).reason().is_some()
    }

    #[test]
    fn blocks_internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "::",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:0:7f00:1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
        ] {
            assert!(blocked(ip), "{ip} should be blocked");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for ip in ["1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!blocked(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn host_patterns() {
        let list = vec!["example.com".to_owned(), "*.docs.rs".to_owned()];
        assert!(host_allowed("example.com", &list));
        assert!(host_allowed("EXAMPLE.com.", &list));
        assert!(!host_allowed("sub.example.com", &list));
        assert!(host_allowed("a.docs.rs", &list));
        assert!(!host_allowed("docs.rs", &list));
        assert!(!host_allowed("evil-docs.rs", &list));
        assert!(host_allowed("anything", &[]));
    }
}
