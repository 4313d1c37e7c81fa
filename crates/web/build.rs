//! Fingerprints and compresses the dashboard's assets once, at build time: `assets/` becomes a
//! generated table of (name, fingerprinted name, content type, raw, gzip, brotli) bytes, so the
//! binary serves immutable, pre-compressed files and carries no compressor.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env("CARGO_MANIFEST_DIR")).join("assets");
    let out = PathBuf::from(env("OUT_DIR"));
    println!("cargo:rerun-if-changed=assets");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for rel in files {
        let raw = read(&root.join(&rel));
        let hash = hex::encode(&Sha256::digest(&raw)[..6]);
        let fingerprinted = match rel.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
            None => format!("{rel}.{hash}"),
        };
        let key = rel.replace(['/', '.', '-'], "_");
        write_file(&out.join(format!("{key}.raw")), &raw);
        write_file(&out.join(format!("{key}.gz")), &gzip(&raw));
        write_file(&out.join(format!("{key}.br")), &brotli(&raw));
        let _ = writeln!(
            table,
            "    Asset {{ name: {rel:?}, path: {fingerprinted:?}, content_type: {ct:?}, raw: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{key}.raw\")), gzip: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{key}.gz\")), brotli: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{key}.br\")) }},",
            ct = content_type(&rel),
        );
    }
    table.push_str("];\n");
    write_file(&out.join("assets.rs"), table.as_bytes());
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {dir:?}: {e}"));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel = rel.to_string_lossy().replace('\\', "/");
            // Licence texts ship in the repository, not as served files.
            if !rel.ends_with(".txt") {
                files.push(rel);
            }
        }
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"))
}

fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(raw).unwrap_or_else(|e| panic!("gzip: {e}"));
    enc.finish().unwrap_or_else(|e| panic!("gzip: {e}"))
}

fn brotli(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        enc.write_all(raw).unwrap_or_else(|e| panic!("brotli: {e}"));
    }
    out
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}
