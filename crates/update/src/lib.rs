//! Pryx's releases from the installed binary's side: a channel's signed manifest is fetched and
//! checked (signature, channel, no downgrade), the archive for this build's target downloaded
//! and checked against the manifest's size and SHA-256, the new binary swapped in place with the
//! old one kept as `pryx.previous`, and every step recorded so a failed start rolls back.
//!
//! The layout a release directory serves (written by `scripts/release.sh`):
//! `channels/<channel>.json` (+ `.minisig`) names the channel's newest release;
//! `v<version>/manifest.json` (+ `.minisig`) pins one; archives sit beside the versioned
//! manifest, named relative to the base URL.

mod archive;
mod error;
mod fetch;
mod manifest;
mod signature;
mod state;
mod swap;

pub use archive::extract_binary;
pub use error::UpdateError;
pub use fetch::{Progress, Source};
pub use manifest::{Artifact, Channel, Manifest, Offer, TARGET, current_version};
pub use signature::{PUBLIC_KEY_ENV, RELEASE_PUBLIC_KEY, TrustedKey};
pub use state::{Available, MAX_STARTS, Pending, State, UpdateOutcome, UpdateRecord, file_id, now};
pub use swap::{Binary, PREVIOUS_SUFFIX, smoke_test};
