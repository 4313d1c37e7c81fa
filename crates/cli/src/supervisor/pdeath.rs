//! The child's half of "no orphans": a core started by the TUI asks the kernel for SIGTERM when
//! its parent dies, even if the parent was SIGKILLed and could not clean up. Done by the child
//! on itself because the parent cannot run code between fork and exec without `unsafe`.

/// Arms the parent-death signal for a core supervised by process `parent`. Returns `false` when
/// that parent is already gone (it died before the signal was armed): the core should then exit.
pub fn arm(parent: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Signal, getppid, set_parent_process_death_signal};
        if let Err(e) = set_parent_process_death_signal(Some(Signal::TERM)) {
            // Still supervised through the process group; only a SIGKILLed parent leaks us.
            eprintln!("warning: cannot ask to be stopped with the parent process: {e}");
        }
        getppid().is_some_and(|p| u32::try_from(p.as_raw_nonzero().get()).ok() == Some(parent))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = parent;
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wrong_parent_means_the_parent_is_gone() {
        // Arming also affects this test process; SIGTERM on the test runner's death is harmless.
        assert!(!super::arm(u32::MAX));
        let real = rustix::process::getppid().map(|p| p.as_raw_nonzero().get() as u32);
        if let Some(real) = real {
            assert!(super::arm(real));
        }
    }
}
