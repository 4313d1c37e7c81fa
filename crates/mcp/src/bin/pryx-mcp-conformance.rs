//! Client under test for the MCP conformance suite: `pryx-mcp-conformance <server-url>` with the
//! scenario named in `MCP_CONFORMANCE_SCENARIO` (and extra data in `MCP_CONFORMANCE_CONTEXT`).
//! It drives the same code the product uses: `servers.json` entries, the manager, MCP tools,
//! the client handler and the OAuth flow.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use pryx_mcp::oauth::{self, AuthOptions, TokenStore, UserAgent};
use pryx_mcp::rmcp::ServiceExt;
use pryx_mcp::rmcp::model::CallToolRequestParams;
use pryx_mcp::rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use pryx_mcp::rmcp::transport::{AuthClient, StreamableHttpClientTransport};
use pryx_mcp::{
    ClientCallbacks, ElicitationAnswer, ElicitationRequest, McpManager, McpOptions,
    PryxClientHandler, SamplingRequest, SamplingResponse, ServerConfig, ServersFile,
};
use pryx_tools::ToolContext;
use serde_json::{Map, Value, json};

/// Accepts every elicitation (schema defaults fill the answer) and sampling request.
struct AcceptAll;

#[async_trait]
impl ClientCallbacks for AcceptAll {
    async fn elicit(&self, _request: ElicitationRequest) -> ElicitationAnswer {
        ElicitationAnswer::Accept(Map::new())
    }
    async fn approve_sampling(&self, _request: &SamplingRequest) -> bool {
        true
    }
    async fn sample(&self, request: SamplingRequest) -> Result<SamplingResponse, String> {
        let prompt = request
            .messages
            .first()
            .map(|m| m.text.clone())
            .unwrap_or_default();
        Ok(SamplingResponse {
            text: format!("Response to: {prompt}"),
            model: "conformance-model".into(),
            stop_reason: Some("endTurn".into()),
        })
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScenarioContext {
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    #[serde(default, alias = "client_id")]
    client_id: Option<String>,
    #[serde(default, alias = "client_secret")]
    client_secret: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct ToolCall {
    name: String,
    #[serde(default)]
    arguments: Map<String, Value>,
}

fn context() -> ScenarioContext {
    std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// Arguments that satisfy the required properties of a tool schema.
fn sample_arguments(schema: &Value) -> Map<String, Value> {
    let mut args = Map::new();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            if !required.contains(&name.as_str()) {
                continue;
            }
            let v = match p.get("type").and_then(Value::as_str) {
                Some("number") => json!(1.5),
                Some("integer") => json!(1),
                Some("boolean") => json!(true),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ => json!("test"),
            };
            args.insert(name.clone(), v);
        }
    }
    args
}

/// Connects through `servers.json` and the manager, lists tools, calls the chosen ones.
async fn run_manager(url: &str, calls: Option<Vec<ToolCall>>) -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let data_dir = pryx_config::DataDir::at(home.path());
    data_dir.ensure()?;
    let mut file = ServersFile::load(&data_dir.mcp_servers_file())?;
    let mut cfg = ServerConfig::http(url);
    cfg.timeout = Some(20);
    file.upsert("conf", &cfg)?;
    file.save()?;
    let manager = McpManager::load(
        McpOptions::new(data_dir)
            .with_roots(vec![home.path().to_path_buf()])
            .with_callbacks(Arc::new(AcceptAll)),
    )?;
    let tools = manager.server_tools("conf").await?;
    let ctx = ToolContext::new(home.path())?;
    match calls {
        Some(calls) => {
            for call in calls {
                let tool = tools
                    .iter()
                    .find(|t| t.remote_name() == call.name)
                    .with_context(|| format!("server has no tool `{}`", call.name))?;
                pryx_tools::Tool::execute(
                    tool.as_ref(),
                    Value::Object(call.arguments),
                    ctx.clone(),
                )
                .await?;
            }
        }
        None => {
            for tool in &tools {
                let args = sample_arguments(&pryx_tools::Tool::schema(tool.as_ref()));
                let out =
                    pryx_tools::Tool::execute(tool.as_ref(), Value::Object(args), ctx.clone())
                        .await;
                tracing::info!(tool = tool.remote_name(), ok = out.is_ok(), "called");
            }
        }
    }
    manager.shutdown().await;
    Ok(())
}

/// Signs in (headless), connects with the token, lists tools and calls each one. Re-signs with
/// the challenged scopes when a call is refused for insufficient scope.
async fn run_auth(url: &str, options: AuthOptions) -> anyhow::Result<()> {
    let mut options = options;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let manager = oauth::authorize(
            url,
            TokenStore::memory(),
            &options,
            UserAgent::Headless,
            &|u| tracing::info!("authorization URL: {u}"),
        )
        .await?;
        let transport = StreamableHttpClientTransport::with_client(
            AuthClient::new(pryx_http::client()?, manager),
            StreamableHttpClientTransportConfig::with_uri(url),
        );
        let handler = PryxClientHandler::new("conf", Vec::new(), Arc::new(AcceptAll));
        let client = handler.serve(transport).await?;
        let tools = client.peer().list_all_tools().await?;
        let mut challenge = None;
        for tool in &tools {
            let args = sample_arguments(&Value::Object((*tool.input_schema).clone()));
            let params = CallToolRequestParams::new(tool.name.clone()).with_arguments(args);
            if let Err(e) = client.peer().call_tool(params).await {
                challenge = e.auth_challenge().map(str::to_owned);
                if challenge.is_none() {
                    tracing::warn!("call failed: {e}");
                }
                break;
            }
        }
        let _ = client.cancel().await;
        match challenge {
            Some(ch) if attempts < 3 => {
                options.scopes.clear();
                options.challenge = Some(ch);
            }
            Some(_) => bail!("still refused after {attempts} sign-ins"),
            None => return Ok(()),
        }
    }
}

/// Machine-to-machine sign-in with a client id and secret (no user, no redirect).
async fn run_client_credentials(url: &str, ctx: ScenarioContext) -> anyhow::Result<()> {
    use pryx_mcp::rmcp::transport::auth::{ClientCredentialsConfig, OAuthState};
    let mut state = OAuthState::new(url, None).await?;
    state
        .authenticate_client_credentials(ClientCredentialsConfig::ClientSecret {
            client_id: ctx.client_id.context("the scenario gave no client_id")?,
            client_secret: ctx
                .client_secret
                .context("the scenario gave no client_secret")?,
            scopes: Vec::new(),
            resource: Some(url.to_owned()),
        })
        .await?;
    let manager = state
        .into_authorization_manager()
        .context("client credentials did not authorize")?;
    let transport = StreamableHttpClientTransport::with_client(
        AuthClient::new(pryx_http::client()?, manager),
        StreamableHttpClientTransportConfig::with_uri(url),
    );
    let handler = PryxClientHandler::new("conf", Vec::new(), Arc::new(AcceptAll));
    let client = handler.serve(transport).await?;
    client.peer().list_all_tools().await?;
    let _ = client.cancel().await;
    Ok(())
}

async fn run(scenario: &str, url: &str) -> anyhow::Result<()> {
    let ctx = context();
    match scenario {
        "tools_call" => {
            let calls = (!ctx.tool_calls.is_empty()).then_some(ctx.tool_calls);
            run_manager(url, calls).await
        }
        "auth/client-credentials-basic" => run_client_credentials(url, ctx).await,
        s if s.starts_with("auth/") => {
            let options = AuthOptions {
                client_id: ctx.client_id,
                client_secret: ctx.client_secret,
                client_metadata_url: Some(
                    "https://conformance-test.local/client-metadata.json".into(),
                ),
                ..AuthOptions::default()
            };
            run_auth(url, options).await
        }
        _ => run_manager(url, None).await,
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    pryx_http::install();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let scenario =
        std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_else(|_| "initialize".into());
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: pryx-mcp-conformance <server-url>");
        return std::process::ExitCode::from(2);
    };
    tracing::info!("scenario {scenario} against {url}");
    // Finish before the suite's own timeout so it never has to kill us.
    match tokio::time::timeout(Duration::from_secs(25), run(&scenario, &url)).await {
        Ok(Ok(())) => std::process::ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("scenario {scenario} failed: {e:#}");
            std::process::ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("scenario {scenario} timed out");
            std::process::ExitCode::FAILURE
        }
    }
}
