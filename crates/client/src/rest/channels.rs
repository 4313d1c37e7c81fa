//! Chat channels and inbound webhooks: listed with their status, added, paused, resumed,
//! removed, tested, and pairing codes.

use super::{Client, encode};
use crate::error::ClientError;
use pryx_protocol::api::{
    ChannelCreate, ChannelCreated, ChannelList, ChannelTestReport, ChannelView, PairingCode,
};
use reqwest::Method;

impl Client {
    fn channel_path(&self, id: &str, action: &str) -> String {
        format!(
            "/channels/{}{action}?surface={}",
            encode(id),
            self.inner.surface.as_str()
        )
    }

    /// `GET /channels`.
    pub async fn channels(&self) -> Result<Vec<ChannelView>, ClientError> {
        let list: ChannelList = self
            .call("GET /channels", self.request(Method::GET, "/channels"))
            .await?;
        Ok(list.channels)
    }

    /// `GET /channels/{id}`.
    pub async fn channel(&self, id: &str) -> Result<ChannelView, ClientError> {
        self.call(
            "GET /channels/{id}",
            self.request(Method::GET, &format!("/channels/{}", encode(id))),
        )
        .await
    }

    /// `POST /channels`: adds or replaces a channel (a Telegram token is checked first).
    pub async fn create_channel(
        &self,
        body: &ChannelCreate,
    ) -> Result<ChannelCreated, ClientError> {
        let path = format!("/channels?surface={}", self.inner.surface.as_str());
        self.call(
            "POST /channels",
            self.request(Method::POST, &path).json(body),
        )
        .await
    }

    /// `DELETE /channels/{id}`.
    pub async fn delete_channel(&self, id: &str) -> Result<(), ClientError> {
        let path = self.channel_path(id, "");
        self.call_empty("DELETE /channels/{id}", self.request(Method::DELETE, &path))
            .await
    }

    /// `POST /channels/{id}/pause` or `/resume`.
    pub async fn set_channel_enabled(
        &self,
        id: &str,
        enabled: bool,
    ) -> Result<ChannelView, ClientError> {
        let (what, action) = if enabled {
            ("POST /channels/{id}/resume", "/resume")
        } else {
            ("POST /channels/{id}/pause", "/pause")
        };
        let path = self.channel_path(id, action);
        self.call(what, self.request(Method::POST, &path)).await
    }

    /// `POST /channels/{id}/pair`: a single-use pairing code.
    pub async fn pair_channel(&self, id: &str) -> Result<PairingCode, ClientError> {
        let path = self.channel_path(id, "/pair");
        self.call(
            "POST /channels/{id}/pair",
            self.request(Method::POST, &path),
        )
        .await
    }

    /// `POST /channels/{id}/test`.
    pub async fn test_channel(&self, id: &str) -> Result<ChannelTestReport, ClientError> {
        let path = format!("/channels/{}/test", encode(id));
        self.call(
            "POST /channels/{id}/test",
            self.request(Method::POST, &path),
        )
        .await
    }
}
