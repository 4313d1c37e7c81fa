//! A Bot API call's parameters, which the real API accepts in the query string, as JSON, as
//! a URL-encoded form or as multipart form data (the only way to upload a file).

use serde_json::{Map, Value};

/// A file part of a multipart request.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The parameters of one call: form and query values are strings, JSON keeps its types.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pub fields: Map<String, Value>,
    pub uploads: Vec<Upload>,
}

impl Params {
    pub fn parse(query: Option<&str>, content_type: &str, body: &[u8]) -> Result<Params, String> {
        let mut params = Params::default();
        if let Some(query) = query {
            for (k, v) in url_decoded_pairs(query) {
                params.fields.insert(k, Value::String(v));
            }
        }
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if body.is_empty() {
            return Ok(params);
        }
        match mime.as_str() {
            "application/json" => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => params.fields.extend(map),
                Ok(_) => return Err("the JSON body is not an object".into()),
                Err(e) => return Err(format!("can't parse JSON: {e}")),
            },
            "application/x-www-form-urlencoded" => {
                let text = String::from_utf8_lossy(body);
                for (k, v) in url_decoded_pairs(&text) {
                    params.fields.insert(k, Value::String(v));
                }
            }
            "multipart/form-data" => {
                let boundary = boundary(content_type).ok_or("multipart body without boundary")?;
                for part in multipart_parts(body, &boundary)? {
                    match part.file_name {
                        Some(file_name) => params.uploads.push(Upload {
                            field: part.name,
                            file_name,
                            bytes: part.bytes,
                        }),
                        None => {
                            let text = String::from_utf8_lossy(&part.bytes).into_owned();
                            params.fields.insert(part.name, Value::String(text));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(params)
    }

    /// An integer given as a JSON number or as a decimal string.
    pub fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| format!("Bad Request: wrong parameter {key}")),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("Bad Request: wrong parameter {key}")),
            Some(_) => Err(format!("Bad Request: wrong parameter {key}")),
        }
    }

    pub fn str(&self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub fn bool(&self, key: &str) -> bool {
        match self.fields.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true" || s == "1",
            _ => false,
        }
    }

    /// A JSON-serialized object (`reply_markup`) given as an object or as a string.
    pub fn json(&self, key: &str) -> Option<Value> {
        match self.fields.get(key)? {
            Value::String(s) => serde_json::from_str(s).ok(),
            Value::Null => None,
            other => Some(other.clone()),
        }
    }

    pub fn upload(&self, field: &str) -> Option<&Upload> {
        self.uploads.iter().find(|u| u.field == field)
    }
}

fn url_decoded_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_owned())
    })
}

struct Part {
    name: String,
    file_name: Option<String>,
    bytes: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| haystack[i..].starts_with(needle))
}

fn multipart_parts(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    let mut pos = find(body, &delimiter, 0).ok_or("multipart body without a first boundary")?
        + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        let headers_start = pos + 2; // after CRLF
        let headers_end =
            find(body, b"\r\n\r\n", headers_start).ok_or("multipart part without headers")?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]);
        let content_start = headers_end + 4;
        let content_end = find(body, &next_delimiter, content_start)
            .ok_or("multipart part without a closing boundary")?;
        let disposition = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or_default();
        let name = disposition_param(disposition, "name").unwrap_or_default();
        parts.push(Part {
            name,
            file_name: disposition_param(disposition, "filename"),
            bytes: body[content_start..content_end].to_vec(),
        });
        pos = content_end + next_delimiter.len();
    }
}

fn disposition_param(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').skip(1).find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        (k == key).then(|| v.trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_encoding_gives_the_same_parameters() {
        let q = Params::parse(Some("offset=5&timeout=0"), "", b"").unwrap();
        assert_eq!(q.int("offset").unwrap(), Some(5));
        let f = Params::parse(
            None,
            "application/x-www-form-urlencoded",
            b"text=a+b%21&chat_id=-7",
        )
        .unwrap();
        assert_eq!(f.str("text").as_deref(), Some("a b!"));
        assert_eq!(f.int("chat_id").unwrap(), Some(-7));
        let j = Params::parse(None, "application/json", br#"{"offset":-1,"x":true}"#).unwrap();
        assert_eq!(j.int("offset").unwrap(), Some(-1));
        assert!(j.bool("x"));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n--XyZ\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n\r\n--XyZ--\r\n";
        let m = Params::parse(None, "multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(m.int("chat_id").unwrap(), Some(42));
        let up = m.upload("document").unwrap();
        assert_eq!(up.file_name, "a.txt");
        assert_eq!(up.bytes, b"hello\r\n");
    }
}
