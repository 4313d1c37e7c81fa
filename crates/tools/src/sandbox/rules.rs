//! The Landlock rule set a command runs under: reads only beneath the granted trees, writes
//! only beneath the workspace and the private temp dir, no TCP unless granted, no signals or
//! abstract sockets outside the sandbox. Deny by default: what no rule names is unreachable.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, NetPort, PathBeneath, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetError, RulesetStatus, Scope, make_bitflags,
};

use super::holes::{Grant, grants_around_holes};
use super::spec::Network;

/// The newest ABI the rule set uses: file rights incl. truncate and device ioctl (5), TCP
/// bind/connect (4), signal and abstract-socket scoping (6).
pub(super) const TARGET_ABI: ABI = ABI::V6;

/// `n` as an ABI no newer than [`TARGET_ABI`].
pub(super) fn abi_at_most(n: Option<u8>) -> ABI {
    match n {
        None => TARGET_ABI,
        Some(0) => ABI::Unsupported,
        Some(1) => ABI::V1,
        Some(2) => ABI::V2,
        Some(3) => ABI::V3,
        Some(4) => ABI::V4,
        Some(5) => ABI::V5,
        Some(_) => TARGET_ABI,
    }
}

/// What to grant.
pub(super) struct Grants<'a> {
    /// Read (and execute) beneath these.
    pub read: &'a [PathBuf],
    /// Read and write beneath these.
    pub write: &'a [PathBuf],
    /// Device files commands may read and write (`/dev/null`, …).
    pub devices: &'a [PathBuf],
    /// Kept out of every granted tree.
    pub holes: &'a [PathBuf],
    pub network: &'a Network,
}

/// Binding and connecting TCP ports (Landlock ABI 4).
const TCP: BitFlags<AccessNet> = make_bitflags!(AccessNet::{BindTcp | ConnectTcp});
/// Abstract UNIX sockets and signals stay inside the sandbox (ABI 6).
const SCOPES: BitFlags<Scope> = make_bitflags!(Scope::{AbstractUnixSocket | Signal});

/// What a device node may be used for: a file's rights but running it. (Nothing runs a device
/// node anyway; the rights kept apart are the ones a file has.)
fn device_access(abi: ABI) -> BitFlags<AccessFs> {
    AccessFs::from_file(abi) & !AccessFs::Execute
}

/// Applies the rule set to this thread (and so to everything it starts). On a kernel without
/// Landlock this succeeds without restricting anything; the status says so.
pub(super) fn restrict(g: &Grants<'_>, abi: ABI) -> Result<RulesetStatus, RulesetError> {
    let rules = |root: &Path, access: BitFlags<AccessFs>| {
        grants_around_holes(root, g.holes)
            .into_iter()
            .map(move |grant: Grant| {
                let access = if grant.is_dir {
                    access
                } else {
                    access & AccessFs::from_file(abi)
                };
                Ok::<_, RulesetError>(PathBeneath::new(grant.fd, access))
            })
    };
    let read = AccessFs::from_read(abi);
    let all = AccessFs::from_all(abi);
    let mut ruleset = Ruleset::default().handle_access(all)?;
    if abi >= ABI::V4 {
        ruleset = ruleset.handle_access(TCP)?;
    }
    if abi >= ABI::V6 {
        ruleset = ruleset.scope(SCOPES)?;
    }
    let mut created = ruleset.create()?;
    for root in g.read {
        created = created.add_rules(rules(root, read))?;
    }
    for root in g.write {
        created = created.add_rules(rules(root, all))?;
    }
    let device = device_access(abi);
    for dev in g.devices {
        created = created.add_rules(rules(dev, device))?;
    }
    if abi >= ABI::V4
        && let Network::Ports { ports } = g.network
    {
        for port in ports {
            created = created.add_rule(NetPort::new(*port, AccessNet::ConnectTcp))?;
        }
    }
    Ok(created.restrict_self()?.ruleset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_abis_never_exceed_the_target() {
        assert_eq!(abi_at_most(None), TARGET_ABI);
        assert_eq!(abi_at_most(Some(3)), ABI::V3);
        assert_eq!(abi_at_most(Some(99)), TARGET_ABI);
        assert_eq!(abi_at_most(Some(0)), ABI::Unsupported);
    }
}
