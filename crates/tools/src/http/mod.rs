//! `http.request`: one HTTP(S) request to a public host, with the host checked against the
//! allow-list and every resolved address checked before connecting to exactly those addresses.
//! An address on this machine or the local network is reached only when the policy listed that
//! exact address (host and port). Redirects are followed by hand so each hop is checked the
//! same way.

pub mod addr;
mod preview;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::fs::parse_args;
use crate::{HttpPolicy, Tool, ToolContext, ToolError, ToolOutput, trim_output};
use addr::{AddressClass, LocalAddress};

const NAME: &str = "http.request";
const MAX_REDIRECTS: usize = 5;
/// Response headers worth showing the model.
const SHOWN_HEADERS: &[&str] = &["content-type", "content-length", "location", "retry-after"];
/// Request headers dropped when a redirect leaves the origin.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    url: String,
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
}

/// Makes an HTTP request and returns status, a few headers and the (capped) body.
#[derive(Debug, Default, Clone)]
pub struct HttpRequest {
    /// The exact local addresses the policy lets this tool reach.
    local: Vec<LocalAddress>,
}

impl HttpRequest {
    /// A tool that may also reach these exact local addresses, as the agent's policy lists them
    /// ([`pryx_policy::Policy::local_addresses`]). The policy engine judges the call; the tool
    /// holds the same line at connect time, against what the host name resolved to.
    pub fn reaching(local: Vec<LocalAddress>) -> Self {
        Self { local }
    }
}

#[async_trait]
impl Tool for HttpRequest {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "Make an HTTP(S) request to a public host. Returns status, key headers and the body (size-capped)."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "url": {"type": "string"},
                "method": {"type": "string"},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                "body": {"type": "string"}
            },
            "required": ["url"],
            "additionalProperties": false
        })
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Network
    }

    /// Method, URL, every header and the whole body.
    async fn preview(&self, args: Value, _ctx: ToolContext) -> Result<Option<String>, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        Ok(Some(preview::describe(
            &args.url,
            args.method.as_deref(),
            &args.headers,
            args.body.as_deref(),
            MAX_REDIRECTS,
        )))
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        let mut method = match args.method.as_deref() {
            None => Method::GET,
            Some(m) => Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| ToolError::invalid(NAME, format!("bad method {m:?}")))?,
        };
        let mut url =
            Url::parse(&args.url).map_err(|e| ToolError::invalid(NAME, format!("bad url: {e}")))?;
        let mut headers = header_map(&args.headers)?;
        let mut body = args.body;

        for hop in 0..=MAX_REDIRECTS {
            let addrs = check_target(&url, &ctx.http, &self.local).await?;
            let client = client_for(&url, &addrs, &ctx)?;
            let mut req = client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let resp = tokio::select! {
                r = req.send() => r.map_err(http_error)?,
                () = ctx.cancel.cancelled() => return Err(ToolError::Cancelled),
            };
            let status = resp.status();
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if let (true, Some(loc)) = (status.is_redirection(), location) {
                if hop == MAX_REDIRECTS {
                    return Err(ToolError::Http(format!(
                        "more than {MAX_REDIRECTS} redirects; last location {loc}"
                    )));
                }
                let next = url
                    .join(&loc)
                    .map_err(|e| ToolError::Http(format!("bad redirect location {loc:?}: {e}")))?;
                let code = status.as_u16();
                if code == 303 || (matches!(code, 301 | 302) && method == Method::POST) {
                    method = Method::GET;
                    body = None;
                }
                if next.origin() != url.origin() {
                    for h in CREDENTIAL_HEADERS {
                        headers.remove(*h);
                    }
                }
                url = next;
                continue;
            }
            return render(resp, hop, &ctx).await;
        }
        Err(ToolError::Http("too many redirects".into()))
    }
}

fn header_map(headers: &BTreeMap<String, String>) -> Result<HeaderMap, ToolError> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| ToolError::invalid(NAME, format!("bad header name {k:?}")))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| ToolError::invalid(NAME, format!("bad value for header {k}")))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// Checks scheme, host allow-list and every address the host resolves to; returns the
/// addresses to connect to. A non-public address passes only when `local` lists it (or the
/// context allows private addresses); link-local and metadata addresses never pass otherwise.
pub async fn check_target(
    url: &Url,
    policy: &HttpPolicy,
    local: &[LocalAddress],
) -> Result<Vec<SocketAddr>, ToolError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ToolError::Refused(format!(
            "scheme {:?} is not supported; use http or https",
            url.scheme()
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| ToolError::invalid(NAME, "url has no host"))?;
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    if !addr::host_allowed(bare_host, &policy.allowed_domains) {
        return Err(ToolError::Refused(format!(
            "host {bare_host} is not in the allowed domains ({})",
            policy.allowed_domains.join(", ")
        )));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| ToolError::invalid(NAME, "url has no port"))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        _ => tokio::net::lookup_host((bare_host, port))
            .await
            .map_err(|e| ToolError::Http(format!("cannot resolve {bare_host}: {e}")))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(ToolError::Http(format!("{bare_host} has no addresses")));
    }
    if !policy.allow_private {
        for a in &addrs {
            match addr::classify_ip(a.ip()) {
                AddressClass::Public => {}
                AddressClass::Local(_) if local.iter().any(|l| l.permits(url, a.ip())) => {}
                AddressClass::Local(reason) => {
                    return Err(ToolError::Refused(format!(
                        "{bare_host} resolves to {} ({reason}); only public addresses are reachable, and a local one only when the policy lists that exact address and port (e.g. `127.0.0.1:11434` in network.domains)",
                        a.ip()
                    )));
                }
                AddressClass::Forbidden(reason) => {
                    return Err(ToolError::Refused(format!(
                        "{bare_host} resolves to {} ({reason}), which is never reachable",
                        a.ip()
                    )));
                }
            }
        }
    }
    Ok(addrs)
}

/// A client pinned to the checked addresses, without redirects or proxies (a proxy would
/// resolve the name again, out of our sight).
fn client_for(
    url: &Url,
    addrs: &[SocketAddr],
    ctx: &ToolContext,
) -> Result<reqwest::Client, ToolError> {
    let mut builder = pryx_http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(ctx.limits.http_timeout)
        .user_agent(concat!("pryx/", env!("CARGO_PKG_VERSION")));
    if let Some(url::Host::Domain(domain)) = url.host() {
        builder = builder.resolve_to_addrs(domain, addrs);
    }
    builder
        .build()
        .map_err(|e| ToolError::Internal(format!("cannot build the HTTP client: {e}")))
}

async fn render(
    mut resp: reqwest::Response,
    redirects: usize,
    ctx: &ToolContext,
) -> Result<ToolOutput, ToolError> {
    let status = resp.status();
    let final_url = resp.url().to_string();
    let mut head = format!("HTTP {status}\n");
    for name in SHOWN_HEADERS {
        if let Some(v) = resp.headers().get(*name).and_then(|v| v.to_str().ok()) {
            head.push_str(&format!("{name}: {v}\n"));
        }
    }
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let max = ctx.limits.max_response_bytes;
    let mut body = Vec::new();
    let mut total = 0usize;
    loop {
        let chunk = tokio::select! {
            c = resp.chunk() => c.map_err(http_error)?,
            () = ctx.cancel.cancelled() => return Err(ToolError::Cancelled),
        };
        let Some(chunk) = chunk else { break };
        total += chunk.len();
        let room = max.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..room.min(chunk.len())]);
        if total > max {
            break;
        }
    }
    let cut = total > max;
    let text = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) if cut && e.utf8_error().error_len().is_none() => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Err(e) => format!(
            "[binary body, {} bytes, content-type {content_type:?}]",
            e.as_bytes().len()
        ),
    };
    let mut content = format!("{head}\n{text}");
    if cut {
        content.push_str(&format!("\n[body cut at {max} bytes]"));
    }
    let content = trim_output(&content, ctx.limits.output_cap_bytes).into_owned();
    Ok(ToolOutput {
        content,
        is_error: status.is_client_error() || status.is_server_error(),
        metadata: json!({
            "status": status.as_u16(),
            "url": final_url,
            "redirects": redirects,
            "body_bytes": total,
            "truncated": cut,
        }),
    })
}

/// A reqwest error with its causes, which say what actually failed (DNS, TLS, refused…).
fn http_error(e: reqwest::Error) -> ToolError {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        msg.push_str(" (timed out)");
    }
    ToolError::Http(msg)
}
