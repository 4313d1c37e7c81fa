//! `pryx models`: browse the model catalog (limits, prices, capabilities) and refresh it on
//! demand. Overrides from `models.overrides` in config.json are applied to what is shown.

use anyhow::Context;
use pryx_catalog::{Catalog, CatalogSource, LookupError, ModelInfo, ProviderInfo};
use pryx_config::{Config, DataDir};
use std::collections::HashMap;
use std::io::Write;
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
    /// Make one tiny real call to a configured provider; prints latency, tokens and cost.
    Test {
        /// Provider id from config `providers`, or PROVIDER/MODEL (default: defaults.model).
        provider: Option<String>,
        /// Print one JSON object: provider, model, reply, latency, tokens and cost.
        #[arg(long)]
        json: bool,
    },
    /// Download the current catalog and keep it in the data directory (only when asked).
    Refresh {
        /// Where to download a models.dev-shaped api.json from.
        #[arg(long, default_value = pryx_catalog::DEFAULT_URL)]
        url: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::List { provider, json } => list(provider.as_deref(), json),
        Sub::Info { id, json } => info(&id, json),
        Sub::Test { provider, json } => super::models_probe::run(provider.as_deref(), json),
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
        Ok(config) => crate::setup::catalog_overrides(&config),
        Err(err) => {
            eprintln!("warning: model overrides not applied: {err}");
            HashMap::new()
        }
    };
    Ok((loaded.catalog.with_overrides(overrides), loaded.source))
}

fn list(provider: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let (cat, _) = load()?;
    // The user's own providers come first; a configured provider id also names its catalog one.
    let configured: HashMap<String, String> = DataDir::locate()
        .ok()
        .and_then(|d| Config::load(&d).ok())
        .map(|c| {
            c.providers
                .iter()
                .map(|(id, p)| (id.clone(), p.catalog_id(id).to_string()))
                .collect()
        })
        .unwrap_or_default();
    let provider = provider.map(|p| configured.get(p).map_or(p, String::as_str));
    if let Some(p) = provider
        && cat.provider(p).is_none()
    {
        anyhow::bail!(
            "unknown provider `{p}`; known providers: {}",
            provider_ids(&cat)
        );
    }
    let mut models = cat.models(provider);
    models.sort_by_key(|m| !configured.values().any(|c| *c == m.provider));
    if json {
        return emit(&serde_json::to_string_pretty(&models)?);
    }
    // Very long ids overflow their column rather than widening every row.
    let width = models
        .iter()
        .map(|m| m.full_id().len())
        .max()
        .unwrap_or(5)
        .clamp(5, 44);
    let row = |id: &str, ctx: &str, out: &str, pin: &str, pout: &str, flags: &str| {
        format!("{id:<width$}  {ctx:>9}  {out:>8}  {pin:>8}  {pout:>8}  {flags}")
    };
    let mut lines = vec![row(
        "MODEL", "CONTEXT", "OUTPUT", "$IN/M", "$OUT/M", "FLAGS",
    )];
    lines.extend(models.iter().map(|m| {
        row(
            &m.full_id(),
            &limit(m, m.context),
            &limit(m, m.output),
            &price(m, m.cost.input),
            &price(m, m.cost.output),
            &flags(m),
        )
    }));
    lines.push(format!(
        "{} models; ? = limit unknown (default), flags: T tools, V vision, R reasoning",
        models.len()
    ));
    emit(&lines.join("\n"))
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
        let doc = serde_json::json!({ "model": m, "provider": provider });
        return emit(&serde_json::to_string_pretty(&doc)?);
    }
    let lines: Vec<String> = info_fields(&m, provider.as_ref(), &source)
        .into_iter()
        .map(|(label, value)| format!("{:<13} {value}", format!("{label}:")))
        .collect();
    emit(&lines.join("\n"))
}

fn info_fields(
    m: &ModelInfo,
    provider: Option<&ProviderInfo>,
    source: &CatalogSource,
) -> Vec<(&'static str, String)> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    let per_m = |p: f64| match price(m, p).as_str() {
        "-" => "unknown".to_string(),
        s => format!("{s} $/M tokens"),
    };
    let cache = |v: Option<f64>| v.map_or_else(|| "same as input".into(), per_m);
    let c = &m.cost;
    let mut f = vec![
        ("model", m.full_id()),
        ("name", m.name.clone()),
        ("family", opt(&m.family)),
        (
            "status",
            m.status.clone().unwrap_or_else(|| "active".into()),
        ),
        ("context", limit(m, m.context)),
        ("output", limit(m, m.output)),
    ];
    if let Some(from) = &m.inferred_from {
        f.push((
            "limits from",
            format!("{from} (this entry lists prices only)"),
        ));
    }
    if let Some(i) = m.input_limit {
        f.push(("input limit", i.to_string()));
    }
    f.extend([
        ("input", per_m(c.input)),
        ("output", per_m(c.output)),
        ("cache read", cache(c.cache_read)),
        ("cache write", cache(c.cache_write)),
        ("tool calls", yes(m.tool_call)),
        ("vision", yes(m.supports_images())),
        ("reasoning", yes(m.reasoning)),
        ("temperature", yes(m.temperature)),
        (
            "modalities",
            format!(
                "in [{}] out [{}]",
                m.modalities.input.join(", "),
                m.modalities.output.join(", ")
            ),
        ),
        ("released", opt(&m.release_date)),
        ("knowledge", opt(&m.knowledge)),
    ]);
    if let Some(p) = provider {
        let env = if p.env.is_empty() {
            "-".into()
        } else {
            p.env.join(", ")
        };
        f.extend([
            ("provider", format!("{} ({})", p.name, p.id)),
            ("api key env", env),
            ("api base", opt(&p.api)),
            ("docs", opt(&p.doc)),
        ]);
    }
    let origin = match source {
        CatalogSource::Bundled => "built-in (models.dev)".to_string(),
        CatalogSource::Cache(path) => path.display().to_string(),
    };
    f.push(("catalog", origin));
    f
}

/// Writes `text` and a newline to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    let result = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"));
    match result.and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn refresh(url: &str) -> anyhow::Result<ExitCode> {
    let dir = DataDir::locate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(pryx_catalog::refresh(
        url,
        dir.root(),
        pryx_catalog::MAX_DOWNLOAD_BYTES,
    ))?;
    emit(&format!(
        "stored {} models from {} providers in {} ({} bytes downloaded)",
        report.models,
        report.providers,
        report.path.display(),
        report.downloaded_bytes
    ))
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
