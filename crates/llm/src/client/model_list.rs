//! `GET …/models`: which models a provider serves (local servers the catalog cannot know).

use super::{Client, error_chain, read_capped};
use crate::error::LlmError;
use crate::http_error;
use crate::provider::ProviderKind;
use reqwest::header::HeaderValue;
use tokio::time::Instant;

/// Largest model list read from a provider.
const MODEL_LIST_CAP: usize = 4 * 1024 * 1024;
/// How long listing models may take.
const MODEL_LIST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Client {
    pub(super) async fn fetch_models(&self) -> Result<Vec<String>, LlmError> {
        let s = &self.shared.settings;
        let base = s.base_url.trim_end_matches('/');
        let url = match s.kind {
            ProviderKind::OpenAiCompatible => format!("{base}/models"),
            ProviderKind::Anthropic if base.ends_with("/v1") => format!("{base}/models"),
            ProviderKind::Anthropic => format!("{base}/v1/models"),
        };
        let network = |e: &dyn std::error::Error| LlmError::Network {
            provider: s.id.clone(),
            message: error_chain(e),
        };
        let mut headers = self.shared.headers.clone();
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let mut resp = self
            .shared
            .http
            .get(&url)
            .headers(headers)
            .timeout(MODEL_LIST_TIMEOUT)
            .send()
            .await
            .map_err(|e| network(&e))?;
        let status = resp.status();
        if !status.is_success() {
            let deadline = Instant::now() + MODEL_LIST_TIMEOUT;
            let body = read_capped(&mut resp, http_error::MAX_ERROR_BODY, deadline).await;
            let key = s.api_key.as_ref().map(|k| k.expose());
            return Err(http_error::from_status(
                &s.id,
                status.as_u16(),
                &String::from_utf8_lossy(&body),
                None,
                key,
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| network(&e))? {
            if body.len() + chunk.len() > MODEL_LIST_CAP {
                return Err(LlmError::Protocol {
                    provider: s.id.clone(),
                    message: format!("the model list is larger than {MODEL_LIST_CAP} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        #[derive(serde::Deserialize)]
        struct Listed {
            data: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            id: String,
        }
        let listed: Listed = serde_json::from_slice(&body).map_err(|e| LlmError::Protocol {
            provider: s.id.clone(),
            message: format!("the model list is not the expected JSON ({e})"),
        })?;
        Ok(listed
            .data
            .into_iter()
            .map(|e| e.id)
            .filter(|id| !id.is_empty() && id.len() <= 256)
            .collect())
    }
}
