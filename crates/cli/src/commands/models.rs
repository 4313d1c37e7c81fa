//! `pryx models`: browse the model catalog (limits, prices, capabilities) and refresh it on
//! demand. Overrides from `models.overrides` in config.json are applied to what is shown.

use anyhow::Context;
use pryx_config::{Config, DataDir};
use pryx_llm::catalog::{
    self, Catalog, CatalogSource, LookupError, ModelInfo, ModelOverride, ProviderInfo,
};
use std::collections::HashMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// List models with context, output limit, prices per million tokens and capabilities.
    List {
        /// Only models of this provider, e.g. `anthropic`.
        #[arg(long)]
        provider: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show everything known about one model: `provider/model`, or a bare id if unambiguous.
    Info {
        /// Model id, e.g. `anthropic/claude-sonnet-4-5`.
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Download the current catalog and keep it in the data directory (only when asked).
    Refresh {
        /// Where to download a models.dev-shaped api.json from.
        #[arg(long, default_value = catalog::DEFAULT_URL)]
        url: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::List { provider, json } => list(provider.as_deref(), json),
        Sub::Info { id, json } => info(&id, json),
        Sub::Refresh { url } => refresh(&url),
    }
}

/// The catalog in use for this data dir, with config overrides; prints load warnings.
fn load() -> anyhow::Result<(Catalog, CatalogSource)> {
    let dir = DataDir::locate()?;
    let loaded = Catalog::load(dir.root())?;
    if let Some(w) = &loaded.warning {
        eprintln!("warning: {w}");
    }
    let overrides = match Config::load(&dir) {
        Ok(config) => config
            .models
            .overrides
            .iter()
            .map(|(k, o)| (k.clone(), convert_override(o)))
            .collect(),
        Err(err) => {
            eprintln!("warning: model overrides not applied: {err}");
            HashMap::new()
        }
    };
    Ok((loaded.catalog.with_overrides(overrides), loaded.source))
}

fn convert_override(o: &pryx_config::ModelOverride) -> ModelOverride {
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    ModelOverride {
        context: o.context.map(clamp),
        output: o.output.map(clamp),
        input_cost: o.input_cost,
        output_cost: o.output_cost,
        cache_read_cost: o.cache_read_cost,
        cache_write_cost: o.cache_write_cost,
        tool_call: o.tool_call,
        attachment: o.attachment,
        reasoning: o.reasoning,
    }
}

fn list(provider: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let (cat, _) = load()?;
    if let Some(p) = provider
        && cat.provider(p).is_none()
    {
        anyhow::bail!(
            "unknown provider `{p}`; known providers: {}",
            provider_ids(&cat)
        );
    }
    let models = cat.models(provider);
    if json {
        return emit(&(serde_json::to_string_pretty(&models)? + "\n"));
    }
    let mut out = String::new();
    let width = models
        .iter()
        .map(|m| m.full_id().len())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(
        out,
        "{:<width$}  {:>9}  {:>8}  {:>8}  {:>8}  FLAGS",
        "MODEL", "CONTEXT", "OUTPUT", "$IN/M", "$OUT/M"
    );
    for m in &models {
        writeln!(
        out,
            "{:<width$}  {:>9}  {:>8}  {:>8}  {:>8}  {}",
            m.full_id(),
            limit(m, m.context),
            limit(m, m.output),
            price(m, m.cost.input),
            price(m, m.cost.output),
            flags(m)
        );
    }
    writeln!(
        out,
        "{} models; flags: T tools, V vision, R reasoning",
        models.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn info(id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let (cat, source) = load()?;
    let m = match cat.lookup(id) {
        Ok(m) => m,
        Err(LookupError::NotFound(_)) if cat.provider(id).is_some() => {
            anyhow::bail!("`{id}` is a provider; run `pryx models list --provider {id}`")
        }
        Err(err) => return Err(err.into()),
    };
    let provider = cat.provider(&m.provider);
    if json {
        let out = serde_json::json!({ "model": m, "provider": provider });
        writeln!(out, "{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_info(&m, provider.as_ref(), &source);
    Ok(ExitCode::SUCCESS)
}

fn print_info(m: &ModelInfo, provider: Option<&ProviderInfo>, source: &CatalogSource) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let yes = |b: bool| if b { "yes" } else { "no" };
    writeln!(out, "model:        {}", m.full_id());
    writeln!(out, "name:         {}", m.name);
    writeln!(out, "family:       {}", opt(&m.family));
    writeln!(out, "status:       {}", m.status.as_deref().unwrap_or("active"));
    writeln!(out, "context:      {}", limit(m, m.context));
    writeln!(out, "output:       {}", limit(m, m.output));
    if let Some(i) = m.input_limit {
        writeln!(out, "input limit:  {i}");
    }
    let c = &m.cost;
    writeln!(out, "input:        {} $/M tokens", price(m, c.input));
    writeln!(out, "output:       {} $/M tokens", price(m, c.output));
    let cache = |v: Option<f64>| v.map_or_else(|| "same as input".into(), |p| price(m, p));
    writeln!(out, "cache read:   {}", cache(c.cache_read));
    writeln!(out, "cache write:  {}", cache(c.cache_write));
    writeln!(out, "tool calls:   {}", yes(m.tool_call));
    writeln!(out, "vision:       {}", yes(m.supports_images()));
    writeln!(out, "reasoning:    {}", yes(m.reasoning));
    writeln!(out, "temperature:  {}", yes(m.temperature));
    writeln!(
        out,
        "modalities:   in [{}] out [{}]",
        m.modalities.input.join(", "),
        m.modalities.output.join(", ")
    );
    writeln!(out, "released:     {}", opt(&m.release_date));
    writeln!(out, "knowledge:    {}", opt(&m.knowledge));
    if let Some(p) = provider {
        writeln!(out, "provider:     {} ({})", p.name, p.id);
        writeln!(
        out,
            "api key env:  {}",
            if p.env.is_empty() {
                "-".into()
            } else {
                p.env.join(", ")
            }
        );
        writeln!(out, "api base:     {}", opt(&p.api));
        writeln!(out, "docs:         {}", opt(&p.doc));
    }
    match source {
        CatalogSource::Bundled => writeln!(out, "catalog:      built-in (models.dev)"),
        CatalogSource::Cache(path) => writeln!(out, "catalog:      {}", path.display()),
    }
}

fn refresh(url: &str) -> anyhow::Result<ExitCode> {
    let dir = DataDir::locate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(catalog::refresh(
        url,
        dir.root(),
        catalog::MAX_DOWNLOAD_BYTES,
    ))?;
    println!(
        "stored {} models from {} providers in {} ({} bytes downloaded)",
        report.models,
        report.providers,
        report.path.display(),
        report.downloaded_bytes
    );
    Ok(ExitCode::SUCCESS)
}

fn provider_ids(cat: &Catalog) -> String {
    cat.providers()
        .into_iter()
        .map(|p| p.id)
        .collect::<Vec<_>>()
        .join(", ")
}

fn limit(m: &ModelInfo, v: u32) -> String {
    if m.limits_known {
        v.to_string()
    } else {
        format!("{v}?")
    }
}

/// Price per million tokens with 2 to 4 decimals (`3.00`, `0.132`, `0.0043`), `-` if unknown.
fn price(m: &ModelInfo, p: f64) -> String {
    if !m.cost.known {
        return "-".into();
    }
    let mut s = format!("{p:.4}");
    while s.ends_with('0') && s.len() > s.find('.').map_or(0, |i| i + 3) {
        s.pop();
    }
    s
}

fn flags(m: &ModelInfo) -> String {
    let f = |b: bool, c: char| if b { c } else { '-' };
    [
        f(m.tool_call, 'T'),
        f(m.supports_images(), 'V'),
        f(m.reasoning, 'R'),
    ]
    .iter()
    .collect()
}
