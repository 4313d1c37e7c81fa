//! The one HTTP client set-up of Pryx.
//!
//! TLS is rustls with the `ring` crypto provider (smaller and much quicker to build than
//! `aws-lc-rs`, which reqwest would otherwise bring) and the platform's certificate roots.
//! reqwest is built without a provider of its own, so every client must come from here (or
//! be built after [`install`] ran); a client built before would panic on its first request.

/// Makes `ring` the process-wide rustls provider. Idempotent and cheap; the binary calls it
/// first thing, and every builder here calls it too, so libraries and tests need not.
pub fn install() {
    // An error only says a provider is already installed (ours, by an earlier call): fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client builder with the provider installed: use it for every HTTP client.
#[allow(clippy::disallowed_methods)] // the one place that may build a client directly
pub fn builder() -> reqwest::ClientBuilder {
    install();
    reqwest::Client::builder()
}

/// A client with reqwest's defaults, for tests and one-off requests; an error only if the
/// platform's TLS set-up cannot be read.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    builder().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_twice_is_fine_and_clients_build() {
        install();
        install();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        assert!(client().is_ok());
    }
}
