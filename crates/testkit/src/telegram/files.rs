//! Files, which the emulator does not have: the user's uploads and the bot's, `getFile` and
//! the download URL. A bot file gets its message id from the emulator (as a caption-only text
//! message), so ids stay unique across both.

use axum::response::Response;
use serde_json::{Value, json};

use super::messages::record_sent;
use super::params::Params;
use super::shim::{Answer, bytes_response, not_found, proxy, result_of};
use super::state::{SentFile, Shared, StoredFile};

pub(crate) fn download(shared: &Shared, file_path: &str) -> Response {
    let s = shared.lock();
    match s.files.values().find(|f| f.file_path == file_path) {
        Some(file) => bytes_response(file.bytes.clone()),
        None => not_found(),
    }
}

pub(crate) fn file_json(file: &StoredFile) -> Value {
    json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.bytes.len(),
        "file_path": file.file_path,
    })
}

pub(crate) fn get_file(shared: &Shared, params: &Params) -> Answer {
    let id = params.str("file_id").unwrap_or_default();
    match shared.lock().files.get(&id) {
        Some(file) => Answer::ok(file_json(file)),
        None => Answer::bad_request("Bad Request: invalid file_id"),
    }
}

/// The JSON a message carries for a file of `kind`.
pub(crate) fn attachment(kind: &str, file: &StoredFile, file_name: &str) -> Value {
    match kind {
        "photo" => json!([{
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": file.bytes.len(),
            // The emulator does not decode images.
            "width": 1,
            "height": 1,
        }]),
        _ => json!({
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_name": file_name,
            "file_size": file.bytes.len(),
        }),
    }
}

/// `sendDocument` / `sendPhoto`: an upload (multipart, or `attach://<part>`) or a known file_id.
pub(crate) async fn send_file(shared: &Shared, params: &Params, kind: &str) -> Answer {
    let chat_id = match params.int("chat_id") {
        Ok(Some(id)) => id,
        _ => return Answer::bad_request("Bad Request: chat not found"),
    };
    let given = params.str(kind);
    let part = match given.as_deref().and_then(|g| g.strip_prefix("attach://")) {
        Some(name) => params.upload(name),
        None => params.upload(kind),
    };
    let (file, file_name) = match (part, given) {
        (Some(upload), _) => {
            let dir = if kind == "photo" {
                "photos"
            } else {
                "documents"
            };
            let stored = shared
                .lock()
                .store_file(upload.bytes.clone(), dir, &upload.file_name);
            (stored, upload.file_name.clone())
        }
        (None, Some(file_id)) => match shared.lock().files.get(&file_id) {
            Some(file) => {
                let name = file
                    .file_path
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                (file.clone(), name)
            }
            None => {
                return Answer::bad_request(
                    "Bad Request: wrong file identifier/HTTP URL specified",
                );
            }
        },
        (None, None) => {
            return Answer::bad_request(&format!("Bad Request: there is no {kind} in the request"));
        }
    };
    let mut message = json!({
        "chat_id": chat_id,
        "text": params.str("caption").unwrap_or_default(),
    });
    for key in ["parse_mode", "reply_markup"] {
        if let Some(v) = params.fields.get(key) {
            message[key] = v.clone();
        }
    }
    let answer = proxy(shared, "sendMessage", &message).await;
    let Some(result) = result_of(&answer) else {
        return answer;
    };
    let mut result = result.clone();
    if let Some(obj) = result.as_object_mut() {
        obj.remove("text");
        if let Some(caption) = params.str("caption") {
            obj.insert("caption".into(), Value::String(caption));
        }
        obj.insert(kind.into(), attachment(kind, &file, &file_name));
    }
    let sent = SentFile {
        kind: kind.to_owned(),
        file_name,
        bytes: file.bytes.clone(),
        file_id: file.file_id.clone(),
    };
    record_sent(shared, chat_id, params, &result, Some(sent));
    Answer::ok(result)
}
