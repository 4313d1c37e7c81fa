//! Looking for processes a test expects to be gone.

/// Whether a live (not zombie) process has `arg` as one of its command-line words. Tests give
/// a process a unique argument (`sleep 3111.5`) and check that nothing with it survives.
pub fn live_process_with_arg(arg: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.flatten().any(|e| {
        let p = e.path();
        let cmdline = std::fs::read(p.join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        !zombie && cmdline.split(|b| *b == 0).any(|w| w == arg.as_bytes())
    })
}
