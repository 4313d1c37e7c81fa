//! The sandbox where Linux containment is missing: commands run unconfined (and say so).

use super::{LandlockStatus, LandlockSupport, Spec};

pub(super) fn run(spec: Spec) -> i32 {
    match std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&spec.command)
        .current_dir(&spec.cwd)
        .status()
    {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("sandbox: cannot run /bin/sh: {e}");
            127
        }
    }
}

pub(super) fn probe(_assumed: Option<u8>) -> LandlockStatus {
    LandlockStatus {
        support: LandlockSupport::Unsupported,
        detail: "Landlock is Linux-only; shell commands run without filesystem confinement".into(),
    }
}
