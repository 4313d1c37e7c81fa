//! Errors of the model catalog: loading, lookup and refresh.

use std::path::PathBuf;

/// Loading or validating catalog data failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogError {
    /// The gzip stream is damaged.
    #[error(
        "cannot decompress the model catalog: {0}; reinstall pryx or run `pryx models refresh`"
    )]
    Decompress(String),
    /// The JSON does not have the catalog shape.
    #[error("the model catalog is not valid JSON of the expected shape: {0}")]
    Parse(String),
    /// The JSON parsed but the content is unusable.
    #[error("the model catalog is unusable: {0}")]
    Invalid(String),
    /// Reading or writing the cached catalog file failed.
    #[error("cannot {op} {}: {message}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        message: String,
    },
}

/// A model id did not name exactly one catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No provider lists this model.
    #[error(
        "unknown model `{0}`; run `pryx models list` to see known ids, or add an override in config"
    )]
    NotFound(String),
    /// A bare model id is offered by several providers.
    #[error("model `{id}` is offered by several providers; use one of: {}", candidates.join(", "))]
    Ambiguous { id: String, candidates: Vec<String> },
}

/// `pryx models refresh` failed; the previous catalog stays in use.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The URL is not http(s).
    #[error("refusing to download the catalog from `{0}`: only http and https URLs are allowed")]
    BadUrl(String),
    /// Connecting, or reading the body, failed.
    #[error("cannot download the catalog from {url}: {message}; check the URL and your network")]
    Network { url: String, message: String },
    /// The server answered with an error status.
    #[error("the catalog server at {url} answered HTTP {status}; check the URL")]
    Status { url: String, status: u16 },
    /// The body exceeds the size cap.
    #[error("the catalog download from {url} exceeds {limit} bytes; refusing it")]
    TooLarge { url: String, limit: u64 },
    /// The body is not a models.dev-shaped catalog.
    #[error("the download from {url} is not a usable models.dev catalog: {message}")]
    Invalid { url: String, message: String },
    /// Writing the cache failed.
    #[error(transparent)]
    Store(#[from] CatalogError),
}
