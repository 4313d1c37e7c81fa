//! Pryx as an MCP server: one rmcp handler, [`McpServer`], over an [`Offer`] — what the server
//! exposes (Pryx's agent in the gateway, or the fixture set the conformance suite expects) —
//! served over streamable HTTP ([`http_service`]); [`bridge_stdio`] relays stdio to it.
//!
//! The handler owns what every offer shares: the capabilities it declares, the log level a
//! client sets (offers send log messages through [`log`], which honours it), a request's
//! cancellation, and resource subscriptions: a client subscribes to a resource it can read and
//! is sent `notifications/resources/updated` whenever the offer reports it changed
//! ([`Offer::changes`]).

// MCP logging is deprecated by the 2026 protocol but still part of 2025-11-25, which clients
// and the conformance suite speak.
#![allow(deprecated)]

mod bridge;
mod http;

pub use bridge::{BridgeError, bridge_stdio};
pub use http::{HttpConfig, http_service};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CompletionInfo, GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation,
    JsonObject, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, LoggingLevel, PaginatedRequestParams, Prompt, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    ServerCapabilities, ServerConfig, SetLevelRequestParams, SubscribeRequestParams, Tool,
    UnsubscribeRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// The request a tool, resource or prompt is asked in: the client's peer (for progress, log
/// messages, sampling and elicitation), its cancellation and, over HTTP, the request's parts.
pub type Asked = RequestContext<RoleServer>;

/// What an MCP server exposes. Errors are MCP errors (`ErrorData`): an unknown name is
/// `invalid_params`, a failure of the server itself `internal_error`; a tool that ran and failed
/// answers with a [`CallToolResult`] marked as an error instead.
pub trait Offer: Send + Sync + 'static {
    /// The name and version shown to clients.
    fn server_info(&self) -> Implementation;

    /// Guidance for the client's model on how to use this server.
    fn instructions(&self) -> Option<String> {
        None
    }

    fn tools(&self, asked: &Asked) -> impl Future<Output = Result<Vec<Tool>, ErrorData>> + Send;

    fn call_tool(
        &self,
        name: &str,
        arguments: JsonObject,
        asked: Asked,
    ) -> impl Future<Output = Result<CallToolResult, ErrorData>> + Send;

    fn resources(
        &self,
        asked: &Asked,
    ) -> impl Future<Output = Result<Vec<Resource>, ErrorData>> + Send;

    fn resource_templates(&self) -> Vec<ResourceTemplate> {
        Vec::new()
    }

    fn read_resource(
        &self,
        uri: &str,
        asked: &Asked,
    ) -> impl Future<Output = Result<Vec<ResourceContents>, ErrorData>> + Send;

    fn prompts(&self, asked: &Asked)
    -> impl Future<Output = Result<Vec<Prompt>, ErrorData>> + Send;

    fn get_prompt(
        &self,
        name: &str,
        arguments: JsonObject,
        asked: &Asked,
    ) -> impl Future<Output = Result<GetPromptResult, ErrorData>> + Send;

    /// The URIs of resources as they change (none by default): subscribed clients are told.
    fn changes(&self) -> Option<futures_util::stream::BoxStream<'static, String>> {
        None
    }

    /// Completions for an argument of a prompt or resource template (none by default).
    fn complete(&self, request: &CompleteRequestParams) -> Vec<String> {
        let _ = request;
        Vec::new()
    }
}

/// Reads an MCP shape written as JSON (a tool, resource, prompt, result) into rmcp's type; a
/// shape that does not fit is the server's own error.
pub fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ErrorData> {
    serde_json::from_value(value).map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

/// One client's connection to an [`Offer`]: the rmcp handler.
pub struct McpServer<O> {
    offer: O,
    level: Mutex<LoggingLevel>,
    subscribed: Arc<Mutex<HashSet<String>>>,
    /// Tells subscribers of changes, from the first subscription until the connection ends.
    watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl<O: Offer> McpServer<O> {
    pub fn new(offer: O) -> Self {
        McpServer {
            offer,
            level: Mutex::new(LoggingLevel::Info),
            subscribed: Arc::default(),
            watcher: Mutex::new(None),
        }
    }

    fn watch(&self, asked: &Asked) {
        let mut watcher = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        if watcher.is_some() {
            return;
        }
        let Some(mut changes) = self.offer.changes() else {
            return;
        };
        let (peer, subscribed) = (asked.peer.clone(), self.subscribed.clone());
        *watcher = Some(tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some(uri) = changes.next().await {
                let wanted = subscribed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(&uri);
                if wanted {
                    let params = rmcp::model::ResourceUpdatedNotificationParam::new(uri);
                    if peer.notify_resource_updated(params).await.is_err() {
                        // The client is gone.
                        return;
                    }
                }
            }
        }));
    }
}

impl<O> Drop for McpServer<O> {
    fn drop(&mut self) {
        let watcher = self.watcher.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = watcher.take() {
            task.abort();
        }
    }
}

/// The lowest level of log message a client asked for, as the handler hands it to the offer.
#[derive(Debug, Clone, Copy)]
struct MinLevel(LoggingLevel);

/// RFC 5424 order, least severe first.
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// Sends a log message to the client of `asked` unless it asked for a higher level only.
pub async fn log(asked: &Asked, level: LoggingLevel, data: impl Into<serde_json::Value>) {
    let min = asked
        .extensions
        .get::<MinLevel>()
        .map_or(LoggingLevel::Info, |m| m.0);
    if severity(level) < severity(min) {
        return;
    }
    let params = rmcp::model::LoggingMessageNotificationParam::new(level, data.into());
    // A client that went away misses the message; the call itself goes on.
    let _ = asked.peer.notify_logging_message(params).await;
}

impl<O: Offer> ServerHandler for McpServer<O> {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_prompts()
            .enable_logging()
            .enable_completions()
            .build();
        let info = ServerConfig::new(capabilities).with_server_info(self.offer.server_info());
        match self.offer.instructions() {
            Some(text) => info.with_instructions(text),
            None => info,
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        asked: Asked,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.offer.tools(&asked).await?,
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        mut asked: Asked,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        let level = *self.level.lock().unwrap_or_else(|e| e.into_inner());
        asked.extensions.insert(MinLevel(level));
        let cancel = asked.ct.clone();
        tokio::select! {
            result = self.offer.call_tool(&request.name, arguments, asked) => Ok(result?.into()),
            () = cancel.cancelled() => Err(ErrorData::internal_error(
                format!("the call of {} was cancelled by the client", request.name),
                None,
            )),
        }
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        asked: Asked,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(
            self.offer.resources(&asked).await?,
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _asked: Asked,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            self.offer.resource_templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        asked: Asked,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let contents = self.offer.read_resource(&request.uri, &asked).await?;
        Ok(ReadResourceResult::new(contents).into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        asked: Asked,
    ) -> Result<(), ErrorData> {
        // Only what the client may read: the same answer as reading it.
        self.offer.read_resource(&request.uri, &asked).await?;
        self.subscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(request.uri);
        self.watch(&asked);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _asked: Asked,
    ) -> Result<(), ErrorData> {
        self.subscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&request.uri);
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        asked: Asked,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(
            self.offer.prompts(&asked).await?,
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        asked: Asked,
    ) -> Result<GetPromptResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        Ok(self
            .offer
            .get_prompt(&request.name, arguments, &asked)
            .await?
            .into())
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _asked: Asked,
    ) -> Result<(), ErrorData> {
        *self.level.lock().unwrap_or_else(|e| e.into_inner()) = request.level;
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _asked: Asked,
    ) -> Result<CompleteResult, ErrorData> {
        let mut values = self.offer.complete(&request);
        values.truncate(CompletionInfo::MAX_VALUES);
        let info = CompletionInfo::new(values).map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }
}
