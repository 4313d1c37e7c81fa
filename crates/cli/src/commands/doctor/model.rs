//! The default model: it names a configured provider whose key resolves; with `--online`, one
//! tiny real call proves the provider answers.

use super::report::Check;
use pryx_config::{Config, DataDir};
use pryx_core::setup::{self, SetupError};

/// Offline: the default model resolves to a configured provider and its key resolves.
pub fn check(dir: &DataDir, config: Option<&Config>, online: bool) -> Check {
    let Some(config) = config else {
        return Check::warn(
            "model",
            "not checked: config.json is invalid",
            "fix config.json first",
        );
    };
    let resolved = setup::load_catalog(dir, config).and_then(|catalog| {
        let choice = setup::choose_model(config, &catalog, None)?;
        let (client, _key) = setup::build_probe_provider(dir, &catalog, &choice)?;
        Ok((choice, client))
    });
    let (choice, client) = match resolved {
        Ok(r) => r,
        Err(SetupError::NotConfigured(m)) => {
            return Check::warn("model", "no model configured yet", m);
        }
        Err(e) => {
            return Check::fail(
                "model",
                e.to_string(),
                "fix the provider with `pryx config set providers.NAME...` or the TUI's /setup",
            );
        }
    };
    let id = choice.info.full_id();
    let keyless = choice.provider.api_key.is_none()
        && !choice
            .provider
            .base_url
            .as_deref()
            .is_some_and(setup::is_local_url);
    if keyless {
        return Check::warn(
            "model",
            format!(
                "{id}: provider {} has no API key configured",
                choice.provider_id
            ),
            format!(
                "store one with `pryx secrets set NAME` and `pryx config set providers.{}.api_key secret:NAME`",
                choice.provider_id
            ),
        );
    }
    if !online {
        return Check::ok("model", format!("{id} (key resolves; --online calls it)"));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return Check::fail("model", e.to_string(), "retry"),
    };
    match runtime.block_on(setup::probe(client.as_ref(), &choice.info)) {
        Ok(p) => Check::ok(
            "model",
            format!(
                "{id} answered in {} ms ({} tokens in, {} out)",
                p.total.as_millis(),
                p.usage.total_input(),
                p.usage.output
            ),
        ),
        Err(e) => Check::fail(
            "model",
            format!("{id}: {e}"),
            "check the key and base URL with `pryx models test`",
        ),
    }
}
