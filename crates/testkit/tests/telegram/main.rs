#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Telegram emulator's Bot API, driven by a plain HTTP client as a bot would.

mod bot;
mod faults;
mod updates;

use pryx_testkit::telegram::{TelegramEmulator, TgUser};
use serde_json::Value;

#[macro_export]
macro_rules! emulator {
    ($name:literal) => {
        match pryx_testkit::telegram::TelegramEmulator::start_or_skip(concat!("telegram::", $name))
            .await
        {
            Some(emulator) => emulator,
            None => return,
        }
    };
}

pub struct Bot {
    pub http: reqwest::Client,
    pub base: String,
}

impl Bot {
    pub fn new(emulator: &TelegramEmulator) -> Bot {
        Bot {
            http: pryx_http::builder().no_proxy().build().unwrap(),
            base: format!("{}/bot{}", emulator.api_base(), emulator.token()),
        }
    }

    pub async fn call(&self, method: &str, params: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .json(&params)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn ok(&self, method: &str, params: Value) -> Value {
        let (status, body) = self.call(method, params).await;
        assert_eq!(status, 200, "{method}: {body}");
        assert_eq!(body["ok"], true, "{method}: {body}");
        body["result"].clone()
    }

    pub async fn updates(&self, params: Value) -> Vec<Value> {
        self.ok("getUpdates", params)
            .await
            .as_array()
            .unwrap()
            .clone()
    }
}

pub fn ids(updates: &[Value]) -> Vec<i64> {
    updates
        .iter()
        .map(|u| u["update_id"].as_i64().unwrap())
        .collect()
}

pub fn alice() -> TgUser {
    TgUser::new(1001, "Alice").with_username("alice")
}
