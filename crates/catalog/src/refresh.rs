//! On-demand download of a newer catalog (`pryx models refresh`). Never runs by itself.
//!
//! The download is a models.dev `api.json` (`{"<provider>": {..., "models": {"<model>": {...}}}}`)
//! or a file already in the compact shape. It is converted field by field, keeping only fields
//! of the expected type, so one odd entry upstream cannot break the whole catalog; the result is
//! validated and written atomically to the data directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use super::cache::write_cache;
use super::data::{CatalogData, CostData, LimitData, ModalitiesData, ModelData, ProviderData};
use super::error::RefreshError;

/// Where `pryx models refresh` downloads from unless told otherwise.
pub const DEFAULT_URL: &str = "https://models.dev/api.json";

/// Largest download accepted (the full api.json is a few MB).
pub const MAX_DOWNLOAD_BYTES: u64 = 32 * 1024 * 1024;

/// What a successful refresh stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshReport {
    pub path: PathBuf,
    pub providers: usize,
    pub models: usize,
    /// Size of the download.
    pub downloaded_bytes: u64,
}

/// Downloads the catalog from `url` (at most `max_bytes`), converts and validates it, and
/// stores it in `data_dir`. On any error the existing cache is left untouched.
pub async fn refresh(
    url: &str,
    data_dir: &Path,
    max_bytes: u64,
) -> Result<RefreshReport, RefreshError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(RefreshError::BadUrl(url.to_string()));
    }
    let body = download(url, max_bytes).await?;
    let mut data = convert_api_json(&body).map_err(|message| RefreshError::Invalid {
        url: url.to_string(),
        message,
    })?;
    data.validate().map_err(|e| RefreshError::Invalid {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let upstream = data
        .source
        .take()
        .unwrap_or_else(|| "models.dev (MIT License, Copyright (c) 2025 models.dev)".into());
    data.source = Some(format!("{upstream}; fetched from {url} at unix time {now}"));
    let path = write_cache(data_dir, &data)?;
    Ok(RefreshReport {
        path,
        providers: data.providers.len(),
        models: data.model_count(),
        downloaded_bytes: body.len() as u64,
    })
}

async fn download(url: &str, max_bytes: u64) -> Result<Vec<u8>, RefreshError> {
    let net = |e: reqwest::Error| RefreshError::Network {
        url: url.to_string(),
        message: e.to_string(),
    };
    let client = pryx_http::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("pryx/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(net)?;
    let mut resp = client.get(url).send().await.map_err(net)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(RefreshError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let too_large = || RefreshError::TooLarge {
        url: url.to_string(),
        limit: max_bytes,
    };
    if resp.content_length().is_some_and(|len| len > max_bytes) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(net)? {
        if (body.len() + chunk.len()) as u64 > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Converts a models.dev `api.json` (or a file already in the compact shape) to the compact
/// catalog. Errors say what is wrong with the document as a whole; odd fields are dropped.
pub fn convert_api_json(bytes: &[u8]) -> Result<CatalogData, String> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(root) = root else {
        return Err("expected a JSON object of providers".into());
    };
    // Compact shape: {"providers": {...}, "source": "..."}.
    let (providers, source) = match root.get("providers") {
        Some(Value::Object(p))
            if p.values().all(|v| v.get("models").is_some()) && !root.contains_key("models") =>
        {
            (
                p.clone(),
                root.get("source")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
        }
        _ => (root, None),
    };
    let mut data = CatalogData {
        providers: Default::default(),
        source,
    };
    for (pid, value) in &providers {
        let Some(obj) = value.as_object() else {
            continue;
        };
        let Some(models) = obj.get("models").and_then(Value::as_object) else {
            continue;
        };
        let provider = ProviderData {
            name: string(obj, "name"),
            env: strings(obj, "env"),
            api: string(obj, "api"),
            npm: string(obj, "npm"),
            doc: string(obj, "doc"),
            models: models
                .iter()
                .filter_map(|(mid, m)| m.as_object().map(|m| (mid.clone(), model(m))))
                .collect(),
        };
        data.providers.insert(pid.clone(), provider);
    }
    if data.model_count() == 0 {
        return Err("no provider with models found; is this a models.dev api.json?".into());
    }
    Ok(data)
}

fn model(m: &Map<String, Value>) -> ModelData {
    let obj = |key: &str| m.get(key).and_then(Value::as_object);
    ModelData {
        name: string(m, "name"),
        family: string(m, "family"),
        attachment: boolean(m, "attachment"),
        reasoning: boolean(m, "reasoning"),
        tool_call: boolean(m, "tool_call"),
        temperature: boolean(m, "temperature"),
        structured_output: boolean(m, "structured_output"),
        open_weights: boolean(m, "open_weights"),
        status: string(m, "status"),
        release_date: string(m, "release_date"),
        knowledge: string(m, "knowledge"),
        cost: obj("cost").map(|c| CostData {
            input: price(c, "input"),
            output: price(c, "output"),
            cache_read: price(c, "cache_read"),
            cache_write: price(c, "cache_write"),
            reasoning: price(c, "reasoning"),
        }),
        limit: obj("limit").map(|l| LimitData {
            context: count(l, "context"),
            output: count(l, "output"),
            input: count(l, "input"),
        }),
        modalities: obj("modalities").map(|x| ModalitiesData {
            input: strings(x, "input"),
            output: strings(x, "output"),
        }),
        inferred_from: None,
    }
}

fn string(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(m: &Map<String, Value>, key: &str) -> Vec<String> {
    m.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn boolean(m: &Map<String, Value>, key: &str) -> Option<bool> {
    m.get(key).and_then(Value::as_bool)
}

/// A price: a finite, non-negative number.
fn price(m: &Map<String, Value>, key: &str) -> Option<f64> {
    m.get(key)
        .and_then(Value::as_f64)
        .filter(|p| p.is_finite() && *p >= 0.0)
}

/// A token count: a non-negative integer (an integral float such as `128000.0` is accepted).
fn count(m: &Map<String, Value>, key: &str) -> Option<u64> {
    let v = m.get(key)?;
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

#[cfg(test)]
mod tests;
