//! The HTTP + WebSocket API of the Pryx gateway (PRD §13, DESIGN.md §5.1 and §6): REST under
//! `/api/v1`, the event socket at `/api/v1/ws`, and the OpenAPI document at
//! `/api/v1/openapi.json`, and the OpenAI-compatible `/v1` (`openai`). Every request passes the size limits of `limits` and the
//! Host/Origin/token guard.

mod conn;
mod error;
mod extract;
mod guard;
mod hooks;
mod limits;
mod mcp;
mod metrics;
mod openai;
mod openapi;
mod routes;
mod sse;
mod state;
pub mod token;
mod ws;

pub use error::{ApiError, RequestIds};
pub use guard::Guard;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use pryx_core::Core;
use state::AppState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How the API is exposed.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The bearer token clients must present.
    pub token: String,
    /// Further host names the gateway is reached by (remote deployments).
    pub extra_hosts: Vec<String>,
    /// Failed authentications per client address per minute before answering 429.
    pub auth_failures_per_minute: u32,
    /// `ok`, `fallback` or what is wrong with the secret store (for `/diagnostics`).
    pub keychain: String,
    /// How long a dashboard login link works.
    pub login_code_lifetime: Duration,
    /// Wrong or used login links per client address per minute before refusing all of them.
    pub login_failures_per_minute: u32,
}

impl ServerConfig {
    pub fn new(token: impl Into<String>) -> Self {
        ServerConfig {
            token: token.into(),
            extra_hosts: Vec::new(),
            auth_failures_per_minute: 20,
            keychain: "ok".to_string(),
            login_code_lifetime: pryx_web::auth::CODE_LIFETIME,
            login_failures_per_minute: 10,
        }
    }
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_parts().1
}

/// The routes and their document, completed once every route is in it (the shared answers,
/// 401/403/413/414/431/429, are added per operation).
fn api_parts() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (api, mut doc) = api_router().split_for_parts();
    utoipa::Modify::modify(&openapi::SharedAnswers, &mut doc);
    (api, doc)
}

fn api_router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(routes::sessions::list, routes::sessions::create))
        .routes(routes!(
            routes::sessions::get,
            routes::sessions::delete,
            routes::sessions::update
        ))
        .routes(routes!(routes::sessions::send))
        .routes(routes!(routes::sessions::remove_message))
        .routes(routes!(routes::sessions::spans))
        .routes(routes!(routes::context::context))
        .routes(routes!(routes::context::compact))
        .routes(routes!(routes::context::pin, routes::context::unpin))
        .routes(routes!(routes::context::fork))
        .routes(routes!(routes::context::processes))
        .routes(routes!(routes::turns::cancel))
        .routes(routes!(routes::turns::retry))
        .routes(routes!(routes::approvals::list))
        .routes(routes!(routes::approvals::decide))
        .routes(routes!(routes::approvals::grants))
        .routes(routes!(routes::approvals::revoke))
        .routes(routes!(routes::api_keys::list, routes::api_keys::create))
        .routes(routes!(routes::api_keys::revoke))
        .routes(routes!(routes::channels::list, routes::channels::create))
        .routes(routes!(routes::channels::get, routes::channels::delete))
        .routes(routes!(routes::channels::pause))
        .routes(routes!(routes::channels::resume))
        .routes(routes!(routes::channels::pair))
        .routes(routes!(routes::channels::test))
        .routes(routes!(routes::tasks::list, routes::tasks::create))
        .routes(routes!(routes::tasks::templates))
        .routes(routes!(
            routes::tasks::get,
            routes::tasks::put,
            routes::tasks::delete
        ))
        .routes(routes!(routes::tasks::pause))
        .routes(routes!(routes::tasks::resume))
        .routes(routes!(routes::tasks::run))
        .routes(routes!(routes::tasks::runs))
        .routes(routes!(routes::tasks::notifications))
        .routes(routes!(routes::tasks::read))
        .routes(routes!(routes::system::live))
        .routes(routes!(routes::system::ready))
        .routes(routes!(routes::system::diagnostics))
        .routes(routes!(routes::system::doctor))
        .routes(routes!(routes::system::models))
        .routes(routes!(routes::system::tools))
        .routes(routes!(routes::system::audit))
        .routes(routes!(routes::update::status))
        .routes(routes!(routes::update::seen))
        .routes(routes!(routes::telemetry::status, routes::telemetry::set))
        .routes(routes!(routes::costs::report))
        .routes(routes!(routes::config::show, routes::config::edit))
        .routes(routes!(routes::config::schema))
        .routes(routes!(routes::policy::set))
        .routes(routes!(routes::policy::check))
        .routes(routes!(routes::policy::list))
        .routes(routes!(
            routes::policy::get,
            routes::policy::put,
            routes::policy::delete
        ))
        .routes(routes!(routes::model::set))
        .routes(routes!(routes::agents::list))
        .routes(routes!(routes::providers::presets))
        .routes(routes!(routes::providers::list))
        .routes(routes!(
            routes::providers::get,
            routes::providers::put,
            routes::providers::delete
        ))
        .routes(routes!(routes::providers::test))
        .routes(routes!(routes::skills::list, routes::skills::add))
        .routes(routes!(routes::skills::get))
        .routes(routes!(routes::skills::switch))
        .routes(routes!(routes::skills::install))
        .routes(routes!(routes::mcp_servers::list, routes::mcp_servers::add))
        .routes(routes!(
            routes::mcp_servers::get,
            routes::mcp_servers::delete
        ))
        .routes(routes!(routes::mcp_servers::switch))
        .routes(routes!(routes::mcp_servers::switch_tool))
        .routes(routes!(routes::mcp_servers::resource))
        .routes(routes!(routes::mcp_servers::sign_in))
        .routes(routes!(ws::upgrade))
        .routes(routes!(routes::web::login_link))
}

/// A running API server.
pub struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `core` on `listener` until [`Server::shutdown`].
    pub fn start(
        core: Core,
        listener: tokio::net::TcpListener,
        config: ServerConfig,
    ) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let auth =
            pryx_web::WebAuth::new(config.login_failures_per_minute, config.login_code_lifetime);
        let web = Arc::new(pryx_web::Web::new(core.clone(), addr.port(), auth));
        let state = Arc::new(AppState {
            core,
            guard: Guard::new(
                config.token,
                addr,
                &config.extra_hosts,
                config.auth_failures_per_minute,
            ),
            shutdown: shutdown.clone(),
            ws_clients: AtomicUsize::new(0),
            keychain: config.keychain,
            web: web.clone(),
        });
        let app = router(state);
        let stop = shutdown.clone();
        let task = tokio::spawn(conn::serve(listener, app, stop));
        Ok(Server {
            addr,
            shutdown,
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes sockets and streams, and waits up to `grace` for requests in
    /// flight. Running turns are the core's to cancel ([`Core::shutdown`]).
    pub async fn shutdown(self, grace: Duration) {
        self.shutdown.cancel();
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!("connections still open after the grace period; closing them");
            task.abort();
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    let (api, doc) = api_parts();
    let doc = Arc::new(doc);
    api.route(
        "/api/v1/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .merge(openai::router())
    .merge(mcp::router(&state))
    .merge(hooks::router())
    .merge(metrics::router())
    .with_state(state.clone())
    .merge(pryx_web::router(state.web.clone()))
    .fallback({
        let web = state.web.clone();
        move |req: axum::extract::Request| routes::not_found(web.clone(), req)
    })
    .method_not_allowed_fallback(routes::method_not_allowed)
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        guard::check,
    ))
    .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
    .layer(axum::middleware::from_fn(limits::check))
    .layer(axum::middleware::from_fn(openai::reshape))
    .layer(axum::middleware::from_fn(guard::request_ids))
}
