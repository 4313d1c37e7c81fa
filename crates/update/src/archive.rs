//! Reading the `pryx` binary out of a release archive (`pryx-<version>-<target>/pryx` in a
//! gzipped tar), after its checksum has been checked.

use crate::UpdateError;
use crate::manifest::MAX_ARCHIVE_BYTES;
use flate2::read::GzDecoder;
use std::io::Read;

/// The bytes of the archive's `pryx`: the one regular file of that name, at most one
/// directory deep.
pub fn extract_binary(tar_gz: &[u8]) -> Result<Vec<u8>, UpdateError> {
    let bad = |e: std::io::Error| UpdateError::Archive(e.to_string());
    let mut archive = tar::Archive::new(GzDecoder::new(tar_gz));
    let mut found: Option<Vec<u8>> = None;
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let names: Vec<_> = path.iter().collect();
        let is_pryx = names.last().is_some_and(|n| *n == "pryx") && names.len() <= 2;
        if !is_pryx {
            continue;
        }
        if !entry.header().entry_type().is_file() {
            return Err(UpdateError::Archive(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        if found.is_some() {
            return Err(UpdateError::Archive(
                "more than one `pryx` in the archive".into(),
            ));
        }
        let mut bytes = Vec::new();
        entry
            .take(MAX_ARCHIVE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(bad)?;
        if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
            return Err(UpdateError::Archive("the binary is too large".into()));
        }
        found = Some(bytes);
    }
    found.ok_or_else(|| UpdateError::Archive("no `pryx` binary in the archive".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};

    fn pack(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        for (path, data, kind) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o755);
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn finds_the_binary_beside_the_licence() {
        let archive = pack(&[
            ("pryx-0.2.0-x/LICENSE", b"licence", tar::EntryType::Regular),
            ("pryx-0.2.0-x/pryx", b"\x7fELF...", tar::EntryType::Regular),
        ]);
        assert_eq!(extract_binary(&archive).unwrap(), b"\x7fELF...");
    }

    #[test]
    fn refuses_missing_doubled_deep_or_odd_entries() {
        let none = pack(&[("a/LICENSE", b"x", tar::EntryType::Regular)]);
        let two = pack(&[
            ("a/pryx", b"1", tar::EntryType::Regular),
            ("b/pryx", b"2", tar::EntryType::Regular),
        ]);
        let deep = pack(&[("a/b/pryx", b"1", tar::EntryType::Regular)]);
        let dir = pack(&[("a/pryx", b"", tar::EntryType::Directory)]);
        for archive in [none, two, deep, dir] {
            assert!(extract_binary(&archive).is_err());
        }
        assert!(extract_binary(b"not gzip").is_err());
    }
}
