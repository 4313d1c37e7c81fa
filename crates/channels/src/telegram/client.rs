//! A Bot API client on reqwest. The token is part of every URL, so no error or log line this
//! client makes carries a URL; answers are read up to a cap, and Telegram's error answers become
//! [`ApiError`]s that say what to do (429 with its `retry_after`, 409 conflicts, a refused token).

use super::types::{Envelope, File, Message, Update, UpdateId, User};
use crate::{Outgoing, TextFormat};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Telegram's limit on a message's text (after entities are parsed), in UTF-16 units.
pub const MAX_MESSAGE_UNITS: usize = 4096;
/// Telegram's limit on a caption.
const MAX_CAPTION_UNITS: usize = 1024;
/// The largest API answer read (a full `getUpdates` page is far smaller).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Why a Bot API call failed. Never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error(
        "Telegram refused the bot token ({0}); check it with @BotFather and set it again with `pryx channels add`"
    )]
    Unauthorized(String),
    #[error("Telegram reports a conflict: {0}")]
    Conflict(String),
    #[error("Telegram asks to slow down: retry after {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("Telegram refused the request ({code}): {description}")]
    Rejected { code: u16, description: String },
    #[error("Telegram answered {code}: {description}; retrying")]
    Server { code: u16, description: String },
    #[error("cannot reach Telegram: {0}")]
    Network(String),
    #[error("Telegram's answer could not be read: {0}")]
    Protocol(String),
}

impl ApiError {
    /// Worth trying again later (the same request may succeed).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. } | ApiError::Server { .. } | ApiError::Network(_)
        )
    }

    /// Telegram could not parse our HTML: the text should go again as plain text.
    pub fn entities_rejected(&self) -> bool {
        matches!(self, ApiError::Rejected { description, .. }
            if description.contains("can't parse entities") || description.contains("Can't parse entities"))
    }
}

/// A transport error with its causes (never its URL, which holds the token).
fn network(e: reqwest::Error) -> ApiError {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    ApiError::Network(text)
}

/// A bot: its API base and token.
#[derive(Clone)]
pub struct Bot {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// What a sent message became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: String,
}

/// A file downloaded from Telegram.
#[derive(Debug, Clone)]
pub struct BotFile {
    pub bytes: Vec<u8>,
    pub path: String,
}

#[derive(Serialize)]
struct GetUpdates<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i64>,
    timeout: u64,
    limit: u32,
    allowed_updates: &'a [&'a str],
}

#[derive(Serialize)]
struct Button<'a> {
    text: &'a str,
    callback_data: &'a str,
}

#[derive(Serialize)]
struct Markup<'a> {
    inline_keyboard: Vec<Vec<Button<'a>>>,
}

#[derive(Serialize)]
struct SendMessage<'a> {
    chat_id: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_mode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_thread_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_markup: Option<Markup<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_parameters: Option<ReplyTo>,
    link_preview_options: NoPreview,
}

#[derive(Serialize)]
struct ReplyTo {
    message_id: i64,
    allow_sending_without_reply: bool,
}

#[derive(Serialize)]
struct NoPreview {
    is_disabled: bool,
}

#[derive(Serialize)]
struct ChatAction<'a> {
    chat_id: &'a str,
    action: &'a str,
}

#[derive(Serialize)]
struct AnswerCallback<'a> {
    callback_query_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    text: &'a str,
}

#[derive(Serialize)]
struct GetFile<'a> {
    file_id: &'a str,
}

#[derive(Serialize)]
struct SetWebhook<'a> {
    url: &'a str,
    secret_token: &'a str,
    allowed_updates: &'a [&'a str],
}

#[derive(Serialize)]
struct DeleteWebhook {
    drop_pending_updates: bool,
}

#[derive(Serialize)]
struct NoParams {}

/// The update kinds Pryx asks for.
pub const ALLOWED_UPDATES: &[&str] = &["message", "callback_query"];

fn parse_id(s: Option<&str>) -> Result<Option<i64>, ApiError> {
    s.map(|v| {
        v.parse::<i64>()
            .map_err(|_| ApiError::Protocol(format!("`{v}` is not a Telegram message id")))
    })
    .transpose()
}

impl Bot {
    /// A client of the bot `token` at `base` (default `https://api.telegram.org`).
    pub fn new(base: Option<&str>, token: &str) -> Result<Bot, ApiError> {
        let token = token.trim();
        if token.is_empty()
            || token
                .chars()
                .any(|c| c.is_whitespace() || c == '/' || c == '?' || c == '#')
        {
            return Err(ApiError::Unauthorized(
                "it is empty or has characters a token never has".into(),
            ));
        }
        let http = pryx_http::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(network)?;
        let base = base
            .unwrap_or("https://api.telegram.org")
            .trim_end_matches('/')
            .to_string();
        Ok(Bot {
            http,
            base,
            token: token.to_string(),
        })
    }

    fn url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base, self.token)
    }

    /// Calls `method`; `wait` bounds the whole call (long polls add their own timeout).
    async fn call<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        wait: Duration,
    ) -> Result<R, ApiError> {
        let req = self.http.post(self.url(method)).json(params).timeout(wait);
        self.finish(method, req).await
    }

    async fn finish<R: DeserializeOwned>(
        &self,
        method: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<R, ApiError> {
        let res = req.send().await.map_err(network)?;
        let status = res.status().as_u16();
        let body = read_capped(res, MAX_ANSWER_BYTES).await?;
        let env: Envelope<serde_json::Value> = serde_json::from_slice(&body).map_err(|e| {
            if status >= 500 {
                ApiError::Server {
                    code: status,
                    description: format!("{method}: an answer that is not the Bot API's"),
                }
            } else {
                ApiError::Protocol(format!("{method}: {e}"))
            }
        })?;
        if env.ok {
            // Some servers answer an edit with `"result": null` (or none); a caller that
            // needs a value says so when it cannot read one.
            let result = env.result.unwrap_or(serde_json::Value::Null);
            return serde_json::from_value(result)
                .map_err(|e| ApiError::Protocol(format!("{method}: {e}")));
        }
        let code = env.error_code.unwrap_or(status);
        let description = env.description.unwrap_or_else(|| format!("HTTP {status}"));
        Err(match code {
            401 | 404 if method == "getMe" || status == 401 => ApiError::Unauthorized(description),
            409 => ApiError::Conflict(description),
            429 => ApiError::RateLimited {
                retry_after: env.parameters.and_then(|p| p.retry_after).unwrap_or(1),
            },
            c if c >= 500 => ApiError::Server {
                code: c,
                description,
            },
            c => ApiError::Rejected {
                code: c,
                description,
            },
        })
    }

    /// The bot itself; checks the token.
    pub async fn get_me(&self) -> Result<User, ApiError> {
        self.call("getMe", &NoParams {}, Duration::from_secs(20))
            .await
    }

    /// The next updates after `offset` (confirming every earlier one), waiting up to
    /// `timeout_secs` for one. Each update comes as read, or as the id of one that could not be
    /// read (the poller moves past it and records why).
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout_secs: u64,
    ) -> Result<Vec<Result<Update, (i64, String)>>, ApiError> {
        let params = GetUpdates {
            offset,
            timeout: timeout_secs,
            limit: 100,
            allowed_updates: ALLOWED_UPDATES,
        };
        let raw: Vec<serde_json::Value> = self
            .call(
                "getUpdates",
                &params,
                Duration::from_secs(timeout_secs + 15),
            )
            .await?;
        raw.into_iter()
            .map(|v| match serde_json::from_value::<Update>(v.clone()) {
                Ok(u) => Ok(Ok(u)),
                Err(e) => match serde_json::from_value::<UpdateId>(v) {
                    Ok(id) => Ok(Err((id.update_id, e.to_string()))),
                    Err(_) => Err(ApiError::Protocol(format!(
                        "getUpdates: an update without an `update_id` ({e})"
                    ))),
                },
            })
            .collect()
    }

    /// Sends (or, with `out.edit`, edits) a text message: Markdown goes as Telegram HTML and,
    /// when Telegram rejects that, again as the plain text.
    pub async fn send(&self, chat_id: &str, out: &Outgoing) -> Result<Sent, ApiError> {
        if let Some(f) = &out.file {
            return Err(ApiError::Protocol(format!(
                "{}: files are sent with `send_document`",
                f.path
            )));
        }
        match out.format {
            TextFormat::Markdown => {
                let html = super::html::render(&out.text);
                match self.send_text(chat_id, out, &html, Some("HTML")).await {
                    Err(e) if e.entities_rejected() => {
                        self.send_text(chat_id, out, &out.text, None).await
                    }
                    other => other,
                }
            }
            TextFormat::Plain => self.send_text(chat_id, out, &out.text, None).await,
        }
    }

    async fn send_text(
        &self,
        chat_id: &str,
        out: &Outgoing,
        text: &str,
        parse_mode: Option<&str>,
    ) -> Result<Sent, ApiError> {
        let markup = (!out.buttons.is_empty()).then(|| Markup {
            inline_keyboard: out
                .buttons
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|b| Button {
                            text: &b.label,
                            callback_data: &b.data,
                        })
                        .collect()
                })
                .collect(),
        });
        let edit = parse_id(out.edit.as_deref())?;
        let params = SendMessage {
            chat_id,
            text,
            parse_mode,
            message_id: edit,
            message_thread_id: parse_id(out.thread.as_deref())?,
            reply_markup: markup,
            reply_parameters: parse_id(out.reply_to.as_deref())?.map(|message_id| ReplyTo {
                message_id,
                allow_sending_without_reply: true,
            }),
            link_preview_options: NoPreview { is_disabled: true },
        };
        let method = if edit.is_some() {
            "editMessageText"
        } else {
            "sendMessage"
        };
        let answer: serde_json::Value = self.call(method, &params, Duration::from_secs(30)).await?;
        // `editMessageText` may answer `true` instead of the message.
        let id = match serde_json::from_value::<Message>(answer) {
            Ok(m) => m.message_id.to_string(),
            Err(_) => out.edit.clone().unwrap_or_default(),
        };
        Ok(Sent { message_id: id })
    }

    /// Sends a file with a caption.
    pub async fn send_document(
        &self,
        chat_id: &str,
        name: &str,
        bytes: Vec<u8>,
        caption: &str,
    ) -> Result<Sent, ApiError> {
        let caption: String = caption
            .chars()
            .scan(0usize, |n, c| {
                *n += c.len_utf16();
                (*n <= MAX_CAPTION_UNITS).then_some(c)
            })
            .collect();
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new()
            .text("chat_id", chat_id.to_string())
            .text("caption", caption)
            .part("document", part);
        let req = self
            .http
            .post(self.url("sendDocument"))
            .multipart(form)
            .timeout(Duration::from_secs(120));
        let m: Message = self.finish("sendDocument", req).await?;
        Ok(Sent {
            message_id: m.message_id.to_string(),
        })
    }

    /// Shows "typing…" in the chat for a few seconds.
    pub async fn typing(&self, chat_id: &str) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .call(
                "sendChatAction",
                &ChatAction {
                    chat_id,
                    action: "typing",
                },
                Duration::from_secs(10),
            )
            .await?;
        Ok(())
    }

    /// Acknowledges a button press (stops the client's spinner), with a short notice.
    pub async fn answer_press(&self, press_id: &str, text: &str) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .call(
                "answerCallbackQuery",
                &AnswerCallback {
                    callback_query_id: press_id,
                    text,
                },
                Duration::from_secs(10),
            )
            .await?;
        Ok(())
    }

    /// Downloads a file the user sent, refusing one over `max_bytes`.
    pub async fn download(&self, file_id: &str, max_bytes: usize) -> Result<BotFile, ApiError> {
        let f: File = self
            .call("getFile", &GetFile { file_id }, Duration::from_secs(20))
            .await?;
        if f.file_size.is_some_and(|n| n > max_bytes as u64) {
            return Err(ApiError::Rejected {
                code: 413,
                description: format!("the file is larger than {max_bytes} bytes"),
            });
        }
        let path = f
            .file_path
            .ok_or_else(|| ApiError::Protocol("getFile: no `file_path`".into()))?;
        let url = format!("{}/file/bot{}/{path}", self.base, self.token);
        let res = self
            .http
            .get(url)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(network)?;
        if !res.status().is_success() {
            return Err(ApiError::Rejected {
                code: res.status().as_u16(),
                description: "the file could not be downloaded".into(),
            });
        }
        let bytes = read_capped(res, max_bytes).await?;
        Ok(BotFile { bytes, path })
    }

    /// Has Telegram POST updates to `url` with `secret` in `X-Telegram-Bot-Api-Secret-Token`.
    pub async fn set_webhook(&self, url: &str, secret: &str) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .call(
                "setWebhook",
                &SetWebhook {
                    url,
                    secret_token: secret,
                    allowed_updates: ALLOWED_UPDATES,
                },
                Duration::from_secs(30),
            )
            .await?;
        Ok(())
    }

    /// Stops webhook delivery (polling works again); pending updates are kept.
    pub async fn delete_webhook(&self) -> Result<(), ApiError> {
        let _: serde_json::Value = self
            .call(
                "deleteWebhook",
                &DeleteWebhook {
                    drop_pending_updates: false,
                },
                Duration::from_secs(30),
            )
            .await?;
        Ok(())
    }
}

/// Reads a body, refusing one longer than `max` without holding more than that.
async fn read_capped(mut res: reqwest::Response, max: usize) -> Result<Vec<u8>, ApiError> {
    if res.content_length().is_some_and(|n| n > max as u64) {
        return Err(ApiError::Protocol(format!("an answer over {max} bytes")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > max {
            return Err(ApiError::Protocol(format!("an answer over {max} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
