//! Read-only look at the SQLite file header, so doctor can spot a truncated or foreign file and
//! a schema that would need migrating without handing the file to SQLite (opening the store
//! migrates, and doctor must leave a damaged or old database exactly as it found it).

use std::fs::File;
use std::io::Read;
use std::path::Path;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const HEADER_LEN: usize = 100;

/// What the header says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Zero bytes: SQLite would treat it as a new database.
    Empty,
    /// Damaged or not a SQLite database at all; the string says why.
    Damaged(String),
    /// Plausible database at this `PRAGMA user_version`.
    Plausible { user_version: u32 },
}

/// Reads the first 100 bytes of `path` and judges them against the file's length.
pub fn inspect_file(path: &Path) -> std::io::Result<Verdict> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut header = Vec::with_capacity(HEADER_LEN);
    file.by_ref()
        .take(HEADER_LEN as u64)
        .read_to_end(&mut header)?;
    Ok(inspect(&header, len))
}

/// Judges a header (up to its first 100 bytes) given the file length.
pub fn inspect(header: &[u8], file_len: u64) -> Verdict {
    if file_len == 0 {
        return Verdict::Empty;
    }
    let Some(header) = header.get(..HEADER_LEN) else {
        return Verdict::Damaged(format!(
            "it is only {file_len} bytes, shorter than a SQLite header"
        ));
    };
    if !header.starts_with(MAGIC) {
        return Verdict::Damaged("it does not start with the SQLite header".to_string());
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n if n >= 512 && n.is_power_of_two() => u64::from(n),
        n => return Verdict::Damaged(format!("its header has an invalid page size ({n})")),
    };
    if file_len < page_size || !file_len.is_multiple_of(page_size) {
        return Verdict::Damaged(format!(
            "it is {file_len} bytes, not a whole number of {page_size}-byte pages (truncated?)"
        ));
    }
    // The page count field is trusted only when SQLite marked it valid for this change counter.
    let change_counter = be32(header, 24);
    let valid_for = be32(header, 92);
    let page_count = u64::from(be32(header, 28));
    if change_counter == valid_for && page_count > 0 && page_count * page_size > file_len {
        return Verdict::Damaged(format!(
            "it is {file_len} bytes but its header records {page_count} pages of {page_size} bytes (truncated)"
        ));
    }
    Verdict::Plausible {
        user_version: be32(header, 60),
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = b.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    u32::from_be_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(page_size: u16, pages: u32, user_version: u32) -> Vec<u8> {
        let mut h = vec![0u8; HEADER_LEN];
        h[..16].copy_from_slice(MAGIC);
        h[16..18].copy_from_slice(&page_size.to_be_bytes());
        h[24..28].copy_from_slice(&7u32.to_be_bytes());
        h[28..32].copy_from_slice(&pages.to_be_bytes());
        h[60..64].copy_from_slice(&user_version.to_be_bytes());
        h[92..96].copy_from_slice(&7u32.to_be_bytes());
        h
    }

    #[test]
    fn healthy_header_reports_user_version() {
        assert_eq!(
            inspect(&header(4096, 3, 1), 3 * 4096),
            Verdict::Plausible { user_version: 1 }
        );
    }

    #[test]
    fn short_and_partial_files_are_damaged() {
        assert_eq!(inspect(&[], 0), Verdict::Empty);
        let h = header(4096, 3, 1);
        assert!(matches!(inspect(&h[..50], 50), Verdict::Damaged(m) if m.contains("50 bytes")));
        assert!(matches!(inspect(&h, 100), Verdict::Damaged(m) if m.contains("truncated")));
        assert!(matches!(inspect(&h, 2 * 4096), Verdict::Damaged(m) if m.contains("3 pages")));
    }

    #[test]
    fn stale_page_count_is_not_trusted() {
        let mut h = header(4096, 9, 1);
        h[92..96].copy_from_slice(&6u32.to_be_bytes());
        assert_eq!(inspect(&h, 4096), Verdict::Plausible { user_version: 1 });
    }

    #[test]
    fn foreign_files_are_damaged() {
        let mut h = header(4096, 1, 1);
        h[0] = b'X';
        assert!(matches!(inspect(&h, 4096), Verdict::Damaged(m) if m.contains("SQLite header")));
        let h = header(1000, 1, 1);
        assert!(matches!(inspect(&h, 4096), Verdict::Damaged(m) if m.contains("page size")));
        assert_eq!(
            inspect(&header(1, 1, 2), 65_536),
            Verdict::Plausible { user_version: 2 }
        );
    }
}
