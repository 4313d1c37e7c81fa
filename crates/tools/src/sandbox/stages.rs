//! The helper's steps. Outer: create the namespaces and start the inner stage as their first
//! process, or, when namespaces are unavailable, confine itself with Landlock and run the
//! command as a subreaper. Inner: build the view, drop every privilege, run the command;
//! when it exits, the PID namespace and everything left in it go with it.

use std::path::PathBuf;
use std::process::{Child, Command};

use nix::sched::{CloneFlags, unshare};

use super::rules::{Grants, abi_at_most, restrict};
use super::spec::{Ids, Network, Spec, Stage};
use super::{seccomp, view};

/// The device files commands may read and write, as host paths.
fn devices() -> Vec<PathBuf> {
    view::DEVICES
        .iter()
        .map(|name| PathBuf::from("/dev").join(name))
        .collect()
}

/// Runs the stage `spec` names and returns the exit status for the helper.
pub(crate) fn run(spec: Spec) -> i32 {
    match spec.stage {
        Stage::Probe => match unshare(namespaces(&Network::None)) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{}", std::io::Error::from(e));
                1
            }
        },
        Stage::Outer => outer(spec),
        Stage::Inner => inner(spec),
    }
}

/// The namespaces every command gets (a network one too unless it was granted network).
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUSER
    .union(CloneFlags::CLONE_NEWNS)
    .union(CloneFlags::CLONE_NEWPID)
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWUTS);

fn namespaces(network: &Network) -> CloneFlags {
    if *network == Network::None {
        NAMESPACES.union(CloneFlags::CLONE_NEWNET)
    } else {
        NAMESPACES
    }
}

fn outer(spec: Spec) -> i32 {
    // Read before unsharing: inside a namespace without a map, every id is the overflow id.
    let ids = Ids {
        uid: rustix::process::getuid().as_raw(),
        gid: rustix::process::getgid().as_raw(),
    };
    if spec.assume.no_userns || unshare(namespaces(&spec.network)).is_err() {
        return degraded(spec);
    }
    if let Err(e) = view::map_ids(0, ids.uid, 0, ids.gid) {
        eprintln!("sandbox: cannot map the user into its namespace: {e}");
        return 126;
    }
    let inner = Spec {
        stage: Stage::Inner,
        ids: Some(ids),
        ..spec
    };
    let child = match relaunch(&inner) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sandbox: cannot start the sandbox's first process: {e}");
            return 126;
        }
    };
    supervise(child)
}

/// This helper again, with the same leading arguments and `spec` as the last one.
fn relaunch(spec: &Spec) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    args.pop();
    let text = serde_json::to_string(spec).map_err(std::io::Error::other)?;
    Command::new(exe).args(args).arg(text).spawn()
}

fn inner(spec: Spec) -> i32 {
    // If the outer stage dies, so does this process, and with it the namespace.
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    if let Err(e) = view::enter(&spec) {
        eprintln!("sandbox: cannot build the command's view of the filesystem: {e}");
        return 126;
    }
    if let Some(ids) = spec.ids {
        // Back to the caller's own user and group, without privileges, in a nested namespace.
        if unshare(CloneFlags::CLONE_NEWUSER).is_ok()
            && let Err(e) = view::map_ids(ids.uid, 0, ids.gid, 0)
        {
            eprintln!("sandbox: cannot map the user back: {e}");
            return 126;
        }
    }
    drop_capabilities();
    let read = [PathBuf::from("/")];
    let write = [
        spec.workspace.clone(),
        PathBuf::from("/tmp"),
        PathBuf::from("/dev/shm"),
    ];
    let devices = devices();
    let grants = Grants {
        read: &read,
        write: &write,
        devices: &devices,
        holes: &[],
        network: &spec.network,
    };
    if let Err(code) = confine(&grants, &spec) {
        return code;
    }
    let mut cmd = shell(&spec);
    cmd.env("TMPDIR", "/tmp");
    match cmd.spawn() {
        Ok(child) => wait(child),
        Err(e) => {
            eprintln!("sandbox: cannot run /bin/sh: {e}");
            127
        }
    }
}

/// Landlock, then the seccomp filter; a failure is an exit status.
fn confine(grants: &Grants<'_>, spec: &Spec) -> Result<(), i32> {
    if let Err(e) = restrict(grants, abi_at_most(spec.assume.landlock_abi)) {
        eprintln!("sandbox: cannot apply the Landlock rule set: {e}");
        return Err(126);
    }
    if let Err(e) = seccomp::install() {
        eprintln!("sandbox: {e}");
        return Err(126);
    }
    Ok(())
}

fn shell(spec: &Spec) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(&spec.command).current_dir(&spec.cwd);
    cmd
}

/// Empties the capability bounding set, so nothing this process starts can gain a
/// capability, even as root.
fn drop_capabilities() {
    for cap in rustix::thread::CapabilitySet::all().iter() {
        let _ = rustix::thread::remove_capability_from_bounding_set(cap);
    }
}

/// Without namespaces: Landlock deny-by-default reads and writes, seccomp, a private temp dir,
/// and as a subreaper, everything the command leaves behind is killed before returning.
fn degraded(spec: Spec) -> i32 {
    // Any non-zero argument turns the attribute on.
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    let tmp = match tempfile::Builder::new().prefix("pryx-sh-").tempdir() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sandbox: cannot create a private temp directory: {e}");
            return 126;
        }
    };
    let mut read = spec.read_roots.clone();
    read.extend([
        spec.workspace.clone(),
        PathBuf::from("/proc"),
        PathBuf::from("/dev"),
    ]);
    let write = [spec.workspace.clone(), tmp.path().to_path_buf()];
    let devices = devices();
    let protected: Vec<PathBuf> = spec
        .protected
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let grants = Grants {
        read: &read,
        write: &write,
        devices: &devices,
        holes: &protected,
        network: &spec.network,
    };
    if let Err(code) = confine(&grants, &spec) {
        return code;
    }
    let mut cmd = shell(&spec);
    cmd.env("TMPDIR", tmp.path());
    let code = match cmd.spawn() {
        Ok(child) => supervise(child),
        Err(e) => {
            eprintln!("sandbox: cannot run /bin/sh: {e}");
            127
        }
    };
    kill_descendants();
    code
}

/// Waits for `child`; if the process that launched this helper dies (even by SIGKILL), the
/// whole process group is killed, so no command outlives the agent that started it.
fn supervise(mut child: Child) -> i32 {
    let parent = rustix::process::getppid();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return exit_code(status),
            Ok(None) => {}
            Err(_) => return 1,
        }
        if rustix::process::getppid() != parent {
            let _ = child.kill();
            kill_descendants();
            let _ = rustix::process::kill_current_process_group(rustix::process::Signal::KILL);
            return 137;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn wait(mut child: Child) -> i32 {
    match child.wait() {
        Ok(status) => exit_code(status),
        Err(_) => 1,
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Kills every child of this process (orphans reparented to it as a subreaper included) and
/// reaps them, until none is left.
fn kill_descendants() {
    let me = std::process::id();
    loop {
        for pid in children_of(me) {
            if let Some(pid) = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        match rustix::process::waitpid(None, rustix::process::WaitOptions::empty()) {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
}

/// Process ids whose parent is `parent`, from `/proc/<pid>/stat`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| parent_in_stat(&s))
                == Some(parent)
        })
        .collect()
}

/// The parent id in a `/proc/<pid>/stat` line: the second field after the command name,
/// which is in parentheses and may itself hold spaces and parentheses.
fn parent_in_stat(stat: &str) -> Option<u32> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_past_odd_command_names() {
        assert_eq!(parent_in_stat("12 (sh) S 7 12 12 0"), Some(7));
        assert_eq!(parent_in_stat("12 (a) b) (c) R 99 1"), Some(99));
        assert_eq!(parent_in_stat("garbage"), None);
    }
}
