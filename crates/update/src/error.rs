use std::path::PathBuf;

/// Why an update was refused or failed; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("cannot reach {url}: {reason}; check the network and config `updates.url`")]
    Network { url: String, reason: String },
    #[error(
        "{url} answered HTTP {status}; the release server may not have this channel or version"
    )]
    Status { url: String, status: u16 },
    #[error("{what} from {url} is larger than {limit} bytes; refusing it")]
    TooLarge {
        what: &'static str,
        url: String,
        limit: u64,
    },
    #[error(
        "the signature of {what} does not verify with the release key ({reason}); it was not \
         signed by the Pryx release key or was changed in transit — nothing was installed"
    )]
    BadSignature { what: String, reason: String },
    #[error("the release key ({var}) is not a minisign public key: {reason}")]
    BadKey { var: &'static str, reason: String },
    #[error("the release manifest is malformed: {0}")]
    BadManifest(String),
    #[error(
        "asked for the {asked} channel but the signed manifest is for {got}; refusing a mixed-up release"
    )]
    WrongChannel { asked: String, got: String },
    #[error("asked for version {asked} but the signed manifest is for {got}")]
    WrongVersion { asked: String, got: String },
    #[error(
        "the offered release {offered} is older than this one ({current}); refusing a downgrade \
         (an old signed manifest replayed, or a channel behind the version you run)"
    )]
    Downgrade { current: String, offered: String },
    #[error(
        "release {offered} cannot be installed over {current}: it needs at least {minimum} first \
         (run `pryx update --to {minimum}`)"
    )]
    TooOld {
        current: String,
        offered: String,
        minimum: String,
    },
    #[error("release {version} has no build for {target}; install from source instead")]
    NoTarget { version: String, target: String },
    #[error(
        "the download of {url} is {got} bytes where the manifest says {expected}; nothing was installed"
    )]
    SizeMismatch {
        url: String,
        expected: u64,
        got: u64,
    },
    #[error("the SHA-256 of {url} does not match the signed manifest; nothing was installed")]
    ChecksumMismatch { url: String },
    #[error("the archive is unreadable or has no `pryx` binary: {0}")]
    Archive(String),
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl UpdateError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}
