//! The wizard end to end against a real core: workspace, a local OpenAI-compatible provider
//! (the scripted LLM) with a live test, the default model, then a first session. The key goes
//! to the secret store and never into config.json nor a page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::Web;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use pryx_core::{Core, CoreParts, Overrides};
use pryx_testkit::{ScriptedLlm, ScriptedUsage, Turn};
use std::sync::Arc;
use tower_service::Service;

const KEY: &str = "sk-flow-SECRET-0123456789";

struct Rig {
    web: Arc<Web>,
    router: axum::Router,
    cookie: String,
    csrf: String,
    home: tempfile::TempDir,
    ws: tempfile::TempDir,
    llm: ScriptedLlm,
}

impl Rig {
    async fn start() -> Rig {
        let llm = ScriptedLlm::start().await;
        let home = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        let dir = pryx_config::DataDir::at(home.path().join("data"));
        dir.ensure().unwrap();
        let config = pryx_config::Config::load(&dir).unwrap();
        let core = Core::new(CoreParts {
            store: pryx_store::Store::open(dir.root().join("pryx.db")).unwrap(),
            dir,
            config,
            settings: pryx_agent::AgentSettings {
                interactive: true,
                ..Default::default()
            },
            overrides: Overrides::default(),
            sandbox: None,
        })
        .unwrap();
        let web = Arc::new(Web::new(core, 0, crate::WebAuth::default()));
        let code = web.auth.issue_code().unwrap();
        let (cookie, session) = web.auth.redeem(&code.code, "flow test").unwrap();
        Rig {
            router: crate::router(web.clone()),
            cookie: format!("{}={cookie}", web.cookie_name()),
            csrf: session.csrf,
            web,
            home,
            ws,
            llm,
        }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, String, String) {
        let res: Response = self.router.clone().call(req).await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, location, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, String, String) {
        self.send(
            Request::get(path)
                .header(header::COOKIE, &self.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("_csrf", &self.csrf);
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        self.send(
            Request::post(path)
                .header(header::COOKIE, &self.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form.finish()))
                .unwrap(),
        )
        .await
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(self.home.path().join("data").join("config.json")).unwrap()
    }
}

#[tokio::test]
async fn fresh_data_dir_to_first_session() {
    let rig = Rig::start().await;
    rig.llm.push(Turn::text("pong").with_usage(ScriptedUsage {
        input_tokens: 12,
        output_tokens: 2,
        ..ScriptedUsage::default()
    }));

    let (status, to, _) = rig.get("/").await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/welcome"));
    let (status, _, page) = rig.get("/welcome").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Step 1 of 3"), "{page}");

    let ws = std::fs::canonicalize(rig.ws.path()).unwrap();
    let ws = ws.to_str().unwrap();
    let (status, to, _) = rig.post("/welcome/workspace", &[("path", ws)]).await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/welcome?step=2")
    );

    let base = rig.llm.base_url();
    let provider = |action: &'static str, model: &'static str| {
        [
            ("preset", "openai-compatible"),
            ("base_url", base.as_str()),
            ("key", KEY),
            ("model", ""),
            ("model_custom", model),
            ("action", action),
        ]
    };
    let (status, _, page) = rig
        .post("/welcome/provider", &provider("test", "gpt-4o"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("It works."), "{page}");
    assert!(page.contains("12 tokens in, 2 out"), "{page}");
    assert!(!page.contains(KEY), "the key never goes back into a page");
    assert!(
        page.contains(r#"<option value="gpt-4o" selected>"#),
        "{page}"
    );

    let (status, to, page) = rig
        .post("/welcome/provider", &provider("save", "gpt-4o"))
        .await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/welcome?step=3"),
        "{page}"
    );
    let config = rig.config_text();
    assert!(!config.contains(KEY), "no key in config.json: {config}");
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["defaults"]["model"], "local/gpt-4o");
    assert_eq!(config["defaults"]["workspace"], ws);
    assert_eq!(
        config["providers"]["local"]["api_key"],
        "secret:provider.local.api_key"
    );
    let (_, _, page) = rig.get("/welcome?step=2").await;
    assert!(!page.contains(KEY));
    assert!(page.contains("A key is already stored"), "{page}");

    let (status, to, _) = rig.post("/welcome/start", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id = to.strip_prefix("/chat/").unwrap();
    let session = rig.web.core.store().get_session(id).unwrap().unwrap();
    let workspace = rig
        .web
        .core
        .store()
        .get_workspace(session.workspace_id.as_deref().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(workspace.path, ws);
    assert_eq!(session.model.as_deref(), Some("local/gpt-4o"));
    let (status, to, _) = rig.get("/").await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/chat"));
}

#[tokio::test]
async fn the_data_dir_is_refused_and_skipping_sends_the_front_door_to_the_chat() {
    let rig = Rig::start().await;
    let data = rig.home.path().join("data");
    let (status, _, page) = rig
        .post(
            "/welcome/workspace",
            &[("path", data.to_str().unwrap()), ("confirm_broad", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains(r#"id="ws-error""#), "{page}");
    assert!(!rig.config_text_exists());

    let (status, to, _) = rig.post("/welcome/skip", &[("from", "1")]).await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/welcome?step=2")
    );
    let (status, to, _) = rig.get("/").await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/chat"));

    // A form without the page's token is refused.
    let (status, _, _) = rig
        .send(
            Request::post("/welcome/skip")
                .header(header::COOKIE, &rig.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("from=1"))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// As the browser test does it: no model named, so the test uses the first one the server
/// lists, and the list offers them all.
#[tokio::test]
async fn a_server_that_lists_models_is_tested_without_naming_one() {
    let rig = Rig::start().await;
    rig.llm.set_models(["gpt-4", "gpt-4o"]);
    rig.llm.push(Turn::text("pong"));
    let base = rig.llm.base_url();
    let fields = |action: &'static str, model: &'static str| {
        [
            ("preset", "openai-compatible"),
            ("base_url", base.as_str()),
            ("key", "sk-test-any"),
            ("model", model),
            ("action", action),
        ]
    };
    let (status, _, page) = rig.post("/welcome/provider", &fields("test", "")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<code>local/gpt-4</code> answered"), "{page}");
    assert!(
        page.contains(r#"<option value="gpt-4" selected>"#),
        "{page}"
    );
    assert!(page.contains(r#"<option value="gpt-4o">"#), "{page}");
    let (status, to, _) = rig
        .post("/welcome/provider", &fields("save", "gpt-4o"))
        .await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/welcome?step=3")
    );
    let config: serde_json::Value = serde_json::from_str(&rig.config_text()).unwrap();
    assert_eq!(config["defaults"]["model"], "local/gpt-4o");
}

impl Rig {
    fn config_text_exists(&self) -> bool {
        self.home.path().join("data").join("config.json").exists()
    }
}
