//! Dotted key paths (`providers.openai.kind`, `models.overrides["openai/gpt-4.1"].context`) and
//! "did you mean" suggestions.

/// Splits a key path into segments. Segments are separated by `.`; a segment containing dots can
/// be written as `["a.b"]`. Returns `None` for an empty or malformed path.
pub fn parse(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = path;
    loop {
        let seg;
        if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]")?;
            seg = &r[..end];
            rest = &r[end + 2..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            seg = &rest[..end];
            rest = &rest[end..];
        }
        if seg.is_empty() {
            return None;
        }
        out.push(seg.to_string());
        if rest.is_empty() {
            return Some(out);
        }
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if !rest.starts_with('[') {
            return None;
        }
    }
}

/// Renders segments back into a key path, quoting segments that contain `.` or brackets.
pub fn render(segments: &[String]) -> String {
    let mut out = String::new();
    for seg in segments {
        if seg.contains(['.', '[', ']', '"']) || seg.is_empty() {
            out.push_str(&format!("[\"{seg}\"]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// Levenshtein distance between two short strings.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotted_and_bracketed_paths() {
        assert_eq!(parse("a.b.c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            parse("models.overrides[\"openai/gpt-4.1\"].context").unwrap(),
            ["models", "overrides", "openai/gpt-4.1", "context"]
        );
        assert_eq!(parse("[\"x.y\"]").unwrap(), ["x.y"]);
        assert!(parse("").is_none());
        assert!(parse("a..b").is_none());
        assert!(parse("a.").is_none());
        assert!(parse("a[\"b").is_none());
    }

    #[test]
    fn render_roundtrips() {
        let segs = vec![
            "models".to_string(),
            "overrides".into(),
            "a/b.c".into(),
            "context".into(),
        ];
        assert_eq!(render(&segs), "models.overrides[\"a/b.c\"].context");
        assert_eq!(parse(&render(&segs)).unwrap(), segs);
    }

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(suggest("baseurl", ["base_url", "kind"]), Some("base_url"));
        assert_eq!(suggest("zzzzzz", ["base_url", "kind"]), None);
    }
}
