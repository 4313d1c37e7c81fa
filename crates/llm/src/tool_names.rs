//! Canonical tool names (`fs.read`) <-> wire names accepted by providers (`^[a-zA-Z0-9_-]{1,64}$`).
//!
//! Scheme: every `.` becomes `__`; any other character outside `[a-zA-Z0-9_-]` becomes `_`.
//! When the result is longer than 64 characters, or another name in the same request already
//! produced it, it is cut to 55 characters and gets `_` plus 8 hex digits of a hash of the
//! canonical name. A [`ToolNameMap`] built from the request's tools (and the tool calls in its
//! history) maps wire names back exactly; a wire name it does not know is decoded by turning
//! `__` back into `.`.

use std::collections::HashMap;

const MAX_LEN: usize = 64;
const CUT_LEN: usize = 55;

/// Encodes one canonical name without regard to collisions.
pub fn encode_name(canonical: &str) -> String {
    let mut out = String::with_capacity(canonical.len() + 4);
    for c in canonical.chars() {
        match c {
            '.' => out.push_str("__"),
            c if c.is_ascii_alphanumeric() || c == '_' || c == '-' => out.push(c),
            _ => out.push('_'),
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    if out.len() > MAX_LEN {
        hashed(&out, canonical)
    } else {
        out
    }
}

/// Best-effort inverse of [`encode_name`] for names no map knows.
pub fn decode_name(wire: &str) -> String {
    wire.replace("__", ".")
}

/// True when a provider accepts this as a tool name.
pub fn is_valid_wire_name(name: &str) -> bool {
    (1..=MAX_LEN).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn hashed(encoded: &str, canonical: &str) -> String {
    let cut: String = encoded.chars().take(CUT_LEN).collect();
    format!("{cut}_{:08x}", fnv1a(canonical.as_bytes()) as u32)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The name mapping of one request, in both directions.
#[derive(Debug, Clone, Default)]
pub struct ToolNameMap {
    to_wire: HashMap<String, String>,
    to_canonical: HashMap<String, String>,
}

impl ToolNameMap {
    /// Maps every given canonical name; duplicates are ignored, collisions get hash suffixes.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut map = ToolNameMap::default();
        for name in names {
            map.insert(name);
        }
        map
    }

    fn insert(&mut self, canonical: &str) {
        if self.to_wire.contains_key(canonical) {
            return;
        }
        let mut wire = encode_name(canonical);
        let mut salt = 0u32;
        while self.to_canonical.contains_key(&wire) {
            let base = encode_name(canonical);
            let salted = if salt == 0 {
                canonical.to_string()
            } else {
                format!("{canonical}#{salt}")
            };
            wire = hashed(&base, &salted);
            salt += 1;
        }
        self.to_canonical
            .insert(wire.clone(), canonical.to_string());
        self.to_wire.insert(canonical.to_string(), wire);
    }

    /// The wire name of a canonical name (encoded on the fly if it was not mapped).
    pub fn wire(&self, canonical: &str) -> String {
        self.to_wire
            .get(canonical)
            .cloned()
            .unwrap_or_else(|| encode_name(canonical))
    }

    /// The canonical name of a wire name.
    pub fn canonical(&self, wire: &str) -> String {
        self.to_canonical
            .get(wire)
            .cloned()
            .unwrap_or_else(|| decode_name(wire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_become_double_underscores_and_back() {
        assert_eq!(encode_name("fs.read"), "fs__read");
        assert_eq!(
            encode_name("mcp.github.create_issue"),
            "mcp__github__create_issue"
        );
        let map = ToolNameMap::new(["fs.read", "shell.exec"]);
        assert_eq!(map.wire("fs.read"), "fs__read");
        assert_eq!(map.canonical("fs__read"), "fs.read");
        assert_eq!(map.canonical("shell__exec"), "shell.exec");
        assert_eq!(map.canonical("unknown__tool"), "unknown.tool");
    }

    #[test]
    fn invalid_characters_are_replaced() {
        assert_eq!(encode_name("a b/c:d"), "a_b_c_d");
        assert_eq!(encode_name(""), "_");
        assert!(is_valid_wire_name(&encode_name("weird name ✓.x")));
    }

    #[test]
    fn colliding_names_stay_distinct_and_reversible() {
        let names = ["a_.b", "a._b", "a__b", "a.b", "a b"];
        let map = ToolNameMap::new(names);
        let wires: std::collections::HashSet<String> = names.iter().map(|n| map.wire(n)).collect();
        assert_eq!(wires.len(), names.len());
        for n in names {
            assert!(is_valid_wire_name(&map.wire(n)), "{}", map.wire(n));
            assert_eq!(map.canonical(&map.wire(n)), n);
        }
    }

    #[test]
    fn long_names_get_a_hash_suffix() {
        let long_a = format!("mcp.{}.tool_a", "x".repeat(80));
        let long_b = format!("mcp.{}.tool_b", "x".repeat(80));
        let map = ToolNameMap::new([long_a.as_str(), long_b.as_str()]);
        let (wa, wb) = (map.wire(&long_a), map.wire(&long_b));
        assert_eq!(wa.len(), 64);
        assert!(is_valid_wire_name(&wa) && is_valid_wire_name(&wb));
        assert_ne!(wa, wb);
        assert_eq!(map.canonical(&wa), long_a);
        assert_eq!(map.canonical(&wb), long_b);
        assert_eq!(encode_name(&long_a), wa, "stable across requests");
    }

    #[test]
    fn exactly_64_chars_is_kept() {
        let name = "a".repeat(64);
        assert_eq!(encode_name(&name), name);
        assert_eq!(encode_name(&"a".repeat(65)).len(), 64);
    }
}
