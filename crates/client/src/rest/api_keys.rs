//! The per-client API keys of the OpenAI-compatible `/v1`: listed, made and revoked.

use super::{Client, encode};
use crate::error::ClientError;
use pryx_protocol::api::{ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyRevoked, ApiKeyView};
use reqwest::Method;

impl Client {
    /// `GET /api-keys`: every key (never the keys themselves), newest first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyView>, ClientError> {
        let list: ApiKeyList = self
            .call("GET /api-keys", self.request(Method::GET, "/api-keys"))
            .await?;
        Ok(list.keys)
    }

    /// `POST /api-keys`: makes a key; the answer holds it, shown this once. Audited by this
    /// client's surface. An unknown agent fails with `VALIDATION_FAILED`.
    pub async fn create_api_key(&self, body: &ApiKeyCreate) -> Result<ApiKeyCreated, ClientError> {
        let path = format!("/api-keys?surface={}", self.inner.surface.as_str());
        self.call(
            "POST /api-keys",
            self.request(Method::POST, &path).json(body),
        )
        .await
    }

    /// `DELETE /api-keys/{id}`: `/v1` refuses the key from now on; returns it as revoked. An
    /// unknown id fails with `NOT_FOUND`.
    pub async fn revoke_api_key(&self, id: &str) -> Result<ApiKeyView, ClientError> {
        let surface = self.inner.surface.as_str();
        let path = format!("/api-keys/{}?surface={surface}", encode(id));
        let revoked: ApiKeyRevoked = self
            .call("DELETE /api-keys/{id}", self.request(Method::DELETE, &path))
            .await?;
        Ok(revoked.revoked)
    }
}
