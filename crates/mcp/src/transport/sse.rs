//! The older HTTP+SSE transport (protocol 2024-11-05): a long-lived `GET` event stream whose
//! first `endpoint` event names the URL that client messages are `POST`ed to.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, HeaderMap};
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Errors of the legacy transport.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("server answered {0}")]
    Status(reqwest::StatusCode),
    #[error("the event stream ended before it named a message endpoint")]
    NoEndpoint,
    #[error("bad endpoint URL: {0}")]
    BadEndpoint(String),
}

/// A connected legacy SSE session.
pub struct LegacySseTransport {
    client: reqwest::Client,
    headers: HeaderMap,
    endpoint: url::Url,
    rx: mpsc::Receiver<ServerJsonRpcMessage>,
    reader: JoinHandle<()>,
}

impl LegacySseTransport {
    /// Opens the event stream and waits (up to `timeout`) for the `endpoint` event.
    pub async fn connect(
        client: reqwest::Client,
        url: &str,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<Self, SseError> {
        let base = url::Url::parse(url).map_err(|e| SseError::BadEndpoint(e.to_string()))?;
        let resp = tokio::time::timeout(
            timeout,
            client
                .get(base.clone())
                .headers(headers.clone())
                .header(ACCEPT, "text/event-stream")
                .send(),
        )
        .await
        .map_err(|_| SseError::NoEndpoint)??;
        if !resp.status().is_success() {
            return Err(SseError::Status(resp.status()));
        }
        let mut events = resp.bytes_stream().eventsource();
        let endpoint = tokio::time::timeout(timeout, async {
            while let Some(Ok(ev)) = events.next().await {
                if ev.event == "endpoint" {
                    return Some(ev.data);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or(SseError::NoEndpoint)?;
        let endpoint = base
            .join(endpoint.trim())
            .map_err(|e| SseError::BadEndpoint(e.to_string()))?;
        if endpoint.origin() != base.origin() {
            return Err(SseError::BadEndpoint(format!(
                "{endpoint} is on another origin than {base}"
            )));
        }
        let (tx, rx) = mpsc::channel(64);
        let reader = tokio::spawn(async move {
            while let Some(Ok(ev)) = events.next().await {
                if ev.event != "message" && !ev.event.is_empty() {
                    continue;
                }
                match serde_json::from_str::<ServerJsonRpcMessage>(&ev.data) {
                    Ok(msg) => {
                        if tx.send(msg).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => tracing::warn!("ignoring malformed SSE message: {e}"),
                }
            }
        });
        Ok(Self {
            client,
            headers,
            endpoint,
            rx,
            reader,
        })
    }
}

impl Drop for LegacySseTransport {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Transport<RoleClient> for LegacySseTransport {
    type Error = SseError;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let req = self
            .client
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .json(&item);
        async move {
            let resp = req.send().await?;
            if resp.status().is_success() {
                Ok(())
            } else {
                Err(SseError::Status(resp.status()))
            }
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ServerJsonRpcMessage>> + Send {
        self.rx.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        self.rx.close();
        Ok(())
    }
}
