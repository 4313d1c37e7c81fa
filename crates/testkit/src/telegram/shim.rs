//! The HTTP front a bot talks to: `/bot<token>/<method>` and `/file/bot<token>/<path>`. It
//! answers what the emulator lacks or gets wrong itself and proxies the rest.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::Outage;
use super::params::Params;
use super::state::{ApiCall, Shared};
use super::{files, messages, updates};

/// Uploads above this are refused (the real limit for bots is 50 MB).
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// A Bot API answer: `{"ok":true,"result":...}` or `{"ok":false,"error_code":...}`.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn ok(result: Value) -> Answer {
        Answer::raw(StatusCode::OK, json!({"ok": true, "result": result}))
    }

    pub fn ok_described(result: Value, description: &str) -> Answer {
        Answer::raw(
            StatusCode::OK,
            json!({"ok": true, "result": result, "description": description}),
        )
    }

    pub fn error(code: u16, description: &str) -> Answer {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Answer::raw(
            status,
            json!({"ok": false, "error_code": code, "description": description}),
        )
    }

    pub fn bad_request(description: &str) -> Answer {
        Answer::error(400, description)
    }

    pub fn rate_limited(retry_after: u64) -> Answer {
        let mut answer = Answer::raw(
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "ok": false,
                "error_code": 429,
                "description": format!("Too Many Requests: retry after {retry_after}"),
                "parameters": {"retry_after": retry_after},
            }),
        );
        answer.retry_after = Some(retry_after);
        answer
    }

    pub fn raw(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            body,
            retry_after: None,
        }
    }

    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body.to_string(),
        )
            .into_response()
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let arrived = Instant::now();
    let path = request.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return match rest.split_once('/') {
            Some((token, file_path)) if token == shared.token => {
                files::download(&shared, file_path)
            }
            Some(_) => Answer::error(401, "Unauthorized").into_response(),
            None => Answer::error(404, "Not Found").into_response(),
        };
    }
    let Some((token, method)) = path
        .strip_prefix("/bot")
        .and_then(|rest| rest.split_once('/'))
    else {
        return Answer::error(404, "Not Found").into_response();
    };
    if token != shared.token {
        return Answer::error(401, "Unauthorized").into_response();
    }
    let method = method.to_owned();
    let query = request.uri().query().map(str::to_owned);
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let answer = match to_bytes(request.into_body(), BODY_LIMIT).await {
        Ok(body) => match Params::parse(query.as_deref(), &content_type, &body) {
            Ok(params) => call(&shared, &method, &params).await,
            Err(e) => Answer::bad_request(&format!("Bad Request: {e}")),
        },
        Err(_) => Answer::error(413, "Request Entity Too Large"),
    };
    shared.update(|s| {
        s.journal.calls.push(ApiCall {
            method: method.clone(),
            at: arrived,
            status: answer.status.as_u16(),
            retry_after: answer.retry_after,
        })
    });
    answer.into_response()
}

async fn call(shared: &Arc<Shared>, method: &str, params: &Params) -> Answer {
    if let Some(answer) = injected_failure(shared, method) {
        return answer;
    }
    match method.to_ascii_lowercase().as_str() {
        "getupdates" => updates::get_updates(shared, params).await,
        "setwebhook" => updates::set_webhook(shared, params),
        "deletewebhook" => updates::delete_webhook(shared, params),
        "getwebhookinfo" => updates::webhook_info(shared),
        "sendchataction" => messages::send_chat_action(shared, params),
        "answercallbackquery" => messages::answer_callback_query(shared, params),
        "getfile" => files::get_file(shared, params),
        "senddocument" => files::send_file(shared, params, "document").await,
        "sendphoto" => files::send_file(shared, params, "photo").await,
        "sendmessage" => messages::send_message(shared, params).await,
        "editmessagetext" | "editmessagereplymarkup" => {
            messages::edit_message(shared, method, params).await
        }
        "deletemessage" => messages::delete_message(shared, params).await,
        _ => proxy(shared, method, &Value::Object(params.fields.clone())).await,
    }
}

/// The outage, 429 or injected 409 this call gets instead of its answer, if any.
fn injected_failure(shared: &Shared, method: &str) -> Option<Answer> {
    if let Some(Outage::ServerError(code)) = shared.outage_now() {
        return Some(outage_answer(code));
    }
    let key = method.to_ascii_lowercase();
    shared.update(|s| {
        if let Some((left, retry_after)) = s.rate_limits.get_mut(&key)
            && *left > 0
        {
            *left -= 1;
            return Some(Answer::rate_limited(*retry_after));
        }
        if key == "getupdates" && s.conflicts_to_inject > 0 {
            s.conflicts_to_inject -= 1;
            s.journal.injected_conflicts += 1;
            return Some(updates::overlap_conflict());
        }
        None
    })
}

pub(crate) fn outage_answer(code: u16) -> Answer {
    let reason = StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Server Error");
    Answer::error(code, reason)
}

/// Passes a call to the emulator as JSON and its answer back unchanged.
pub(crate) async fn proxy(shared: &Shared, method: &str, params: &Value) -> Answer {
    let url = format!("{}/bot{}/{method}", shared.emulator_url, shared.token);
    let sent = shared.http.post(url).json(params).send().await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => return Answer::error(502, &format!("Bad Gateway: emulator unreachable: {e}")),
    };
    let status = response.status().as_u16();
    let body = match response.bytes().await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => return Answer::error(502, &format!("Bad Gateway: {e}")),
    };
    Answer::raw(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        body,
    )
}

/// The `result` of a successful proxied answer.
pub(crate) fn result_of(answer: &Answer) -> Option<&Value> {
    (answer.status == StatusCode::OK && answer.body.get("ok") == Some(&Value::Bool(true)))
        .then(|| answer.body.get("result"))
        .flatten()
}

pub(crate) fn bytes_response(bytes: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response()
}

pub(crate) fn not_found() -> Response {
    Answer::error(404, "Not Found").into_response()
}
