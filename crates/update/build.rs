//! The target triple the binary was built for: it picks the archive of a release manifest.
fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=PRYX_BUILD_TARGET={target}");
}
