//! [`RemoteCore`] against a real core and API server on loopback with the scripted model.

use super::*;
use crate::supervisor::Link;
use pryx_protocol::EventKind;
use pryx_server::Server;
use pryx_testkit::core_rig::{CoreRig, TOKEN};
use pryx_testkit::{ScriptedLlm, Turn};

struct Rig {
    api: RemoteCore,
    llm: ScriptedLlm,
    _server: Server,
    home: tempfile::TempDir,
    _ws: tempfile::TempDir,
    _link: watch::Sender<Option<Link>>,
}

async fn rig() -> Rig {
    let rig = CoreRig::start().await;
    let server = rig.serve().await;
    let CoreRig { llm, home, ws, .. } = rig;
    let url = format!("http://127.0.0.1:{}", server.local_addr().port());
    let client = Client::new(&url, TOKEN).unwrap();
    let (link_tx, link) = watch::channel(Some(Link {
        client,
        generation: 1,
    }));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(super::super::pump::run(link.clone(), tx));
    let api = RemoteCore::new(
        link,
        rx,
        Arc::new(Notify::new()),
        DataDir::at(home.path()),
        ws.path().to_path_buf(),
    );
    Rig {
        api,
        llm,
        _server: server,
        home,
        _ws: ws,
        _link: link_tx,
    }
}

/// Reads updates until `session`'s turn completed; returns the event kinds seen for it.
async fn until_completed(
    events: &mut BoxStream<'static, CoreUpdate>,
    session: &str,
) -> Vec<EventKind> {
    let mut kinds = Vec::new();
    let read = async {
        while let Some(u) = events.next().await {
            if let CoreUpdate::Event(e) = u
                && e.session_id == session
            {
                let kind = e.kind();
                kinds.extend(kind);
                if kind == Some(EventKind::TurnCompleted) {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap();
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_prompts_search_export_and_delete_go_through_the_api() {
    let r = rig().await;
    let mut events = r.api.events();
    r.llm.push(Turn::text("Hello over the API."));
    let s = r.api.create_session().await.unwrap();
    let t = r.api.send_prompt(&s.id, "greet me").await.unwrap();
    assert_eq!(t.session_id, s.id);
    let kinds = until_completed(&mut events, &s.id).await;
    assert_eq!(kinds.first(), Some(&EventKind::TurnStarted), "{kinds:?}");

    let detail = r.api.load_session(&s.id).await.unwrap();
    assert!(
        detail
            .messages
            .iter()
            .any(|m| m.text == "Hello over the API.")
    );
    let recent = r.api.search_sessions("").await.unwrap();
    assert_eq!(recent.len(), 1);
    let found = r.api.search_sessions("greet").await.unwrap();
    assert_eq!(found.first().map(|s| s.id.as_str()), Some(s.id.as_str()));
    assert!(
        r.api
            .search_sessions("absentword")
            .await
            .unwrap()
            .is_empty()
    );

    let path = r
        .api
        .export_session(&s.id, ExportFormat::Markdown)
        .await
        .unwrap();
    assert!(path.starts_with(&r.home.path().join("exports").display().to_string()));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("Hello over the API."), "{text}");

    // Nothing started here runs any more: the core says so.
    let e = r.api.cancel_turn(&s.id).await.unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { code, .. } if code == "NOT_FOUND"),
        "{e}"
    );
    r.api.delete_session(&s.id).await.unwrap();
    let e = r.api.load_session(&s.id).await.unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { code, .. } if code == "NOT_FOUND"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_turn_is_cancelled_by_the_session_it_runs_in() {
    let r = rig().await;
    let mut events = r.api.events();
    r.llm
        .push(Turn::text("too late").with_first_token_delay(Duration::from_secs(30)));
    let s = r.api.create_session().await.unwrap();
    let e = r.api.cancel_turn(&s.id).await.unwrap_err();
    assert!(matches!(e, ApiError::Api { .. }), "{e}");
    r.api.send_prompt(&s.id, "wait").await.unwrap();
    r.api.cancel_turn(&s.id).await.unwrap();
    let kinds = until_completed(&mut events, &s.id).await;
    assert_eq!(kinds.last(), Some(&EventKind::TurnCompleted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_approvals_and_what_the_api_cannot_do_yet() {
    let r = rig().await;
    let models = r.api.list_models(None).await.unwrap();
    let default = models.iter().find(|m| m.default).unwrap().id.clone();
    assert!(r.api.pending_approvals().await.unwrap().is_empty());
    let e = r
        .api
        .answer_approval("nope", ApprovalDecision::Approve, ApprovalScope::Once);
    assert!(matches!(e.await, Err(ApiError::Api { .. })));

    let e = r.api.set_default_model("nobody/none").await.unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { code, message } if code == "NOT_FOUND" && message.contains("nobody")),
        "{e}"
    );
    let e = r.api.set_default_model("no provider").await.unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { code, .. } if code == "VALIDATION_FAILED"),
        "{e}"
    );
    r.api.set_default_model(&default).await.unwrap();
    let s = r.api.create_session().await.unwrap();
    assert_eq!(s.model.as_deref(), Some(default.as_str()));
    // The default is for new sessions.
    r.api.set_default_model("mock/gpt-4o-mini").await.unwrap();
    let models = r.api.list_models(None).await.unwrap();
    let marked = models.iter().find(|m| m.default).map(|m| m.id.as_str());
    assert_eq!(marked, Some("mock/gpt-4o-mini"));
    let s2 = r.api.create_session().await.unwrap();
    assert_eq!(s2.model.as_deref(), Some("mock/gpt-4o-mini"));
    r.api.set_default_policy("read-only").await.unwrap();
    let e = r
        .api
        .set_default_policy("no-such-policy")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { code, message } if code == "NOT_FOUND" && message.contains("no-such-policy")),
        "{e}"
    );
    assert!(r.api.session_spans(&s.id).await.unwrap().is_empty());
    assert!(r.api.list_channels().await.unwrap().is_empty());
    assert!(r.api.list_mcp_servers().await.unwrap().is_empty());
    let e = r.api.test_mcp_server("absent").await.unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { code, .. } if code == "NOT_FOUND"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_telemetry_timeline_comes_from_the_api() {
    let r = rig().await;
    let mut events = r.api.events();
    r.llm.push(Turn::text("hello"));
    let s = r.api.create_session().await.unwrap();
    r.api.send_prompt(&s.id, "hi").await.unwrap();
    until_completed(&mut events, &s.id).await;
    let spans = r.api.session_spans(&s.id).await.unwrap();
    let kinds: Vec<&str> = spans.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["turn", "model_call"], "{spans:?}");
    for span in &spans {
        assert!(span.start_ms > 1_700_000_000_000, "{span:?}");
        assert!(span.end_ms.unwrap() >= span.start_ms, "{span:?}");
        assert_eq!(span.status, "ok");
    }
    assert_eq!(spans[1].parent_id.as_deref(), Some(spans[0].id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_settings_and_provider_setup_go_through_the_api() {
    use pryx_protocol::api::{PutProvider, UpdateSession};
    let r = rig().await;
    let s = r.api.create_session().await.unwrap();
    let update = UpdateSession {
        model: Some("mock/gpt-4o-mini".into()),
        policy: Some("read-only".into()),
        ..UpdateSession::default()
    };
    let changed = r.api.update_session(&s.id, &update).await.unwrap();
    assert_eq!(changed.model.as_deref(), Some("mock/gpt-4o-mini"));
    assert_eq!(changed.policy.as_deref(), Some("read-only"));
    // Only that session changed: a new one still gets the default.
    let other = r.api.create_session().await.unwrap();
    assert_ne!(other.model.as_deref(), Some("mock/gpt-4o-mini"));

    assert!(!r.api.list_presets().await.unwrap().is_empty());
    // A provider nobody listens for: saved, and its test reports the failure in the report.
    let body = PutProvider {
        kind: Some("openai-compatible".into()),
        base_url: Some("http://127.0.0.1:9/v1".into()),
        default_model: Some("nothing".into()),
        ..PutProvider::default()
    };
    let p = r.api.put_provider("nowhere", &body).await.unwrap();
    assert_eq!(p.id, "nowhere");
    let providers = r.api.list_providers().await.unwrap();
    assert!(providers.iter().any(|p| p.id == "nowhere"), "{providers:?}");
    let report = r.api.test_provider("nowhere", None).await.unwrap();
    assert!(!report.ok, "{report:?}");
    assert!(report.error.is_some(), "{report:?}");
}

/// The Integrations screen's calls reach the core's channels: a webhook is listed with its
/// status, refuses pairing, and pauses and resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_listed_paused_and_resumed_through_the_api() {
    use pryx_protocol::api::{ChannelCreate, ChannelState};
    let r = rig().await;
    let body = ChannelCreate {
        id: "hook".into(),
        kind: "webhook".into(),
        ..ChannelCreate::default()
    };
    r.api
        .client()
        .await
        .unwrap()
        .create_channel(&body)
        .await
        .unwrap();
    let list = r.api.list_channels().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].id.as_str(), list[0].kind.as_str()),
        ("hook", "webhook")
    );

    let e = r.api.pair_channel("hook").await.unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { message, .. } if message.contains("webhook")),
        "{e}"
    );
    let e = r.api.pair_channel("absent").await.unwrap_err();
    assert!(
        matches!(&e, ApiError::Api { code, .. } if code == "NOT_FOUND"),
        "{e}"
    );

    let paused = r.api.set_channel_enabled("hook", false).await.unwrap();
    assert!(!paused.enabled);
    assert_eq!(paused.state, ChannelState::Paused);
    let resumed = r.api.set_channel_enabled("hook", true).await.unwrap();
    assert!(resumed.enabled);
    assert_ne!(resumed.state, ChannelState::Paused);
}
