#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A Telegram bot hosted by the real `pryx serve`, against the Bot API emulator: pairing, turns,
//! typing, chunking, approvals from buttons, restarts, 429s and a second poller.

use crate::common;

mod chat;
mod durability;
mod escape;
mod soak;
mod task_notice;
mod webhook_mode;

use common::{Env, ScriptedLlm, Serve};
use pryx_testkit::telegram::{TelegramEmulator, TgUser};
use std::io::Write as _;
use std::process::Stdio;

/// The emulator, the scripted model and a data dir with a Telegram channel `tg`.
pub struct Rig {
    pub tg: TelegramEmulator,
    pub llm: ScriptedLlm,
    pub env: Env,
}

impl Rig {
    /// `None` (reported as skipped) when the emulator is not installed.
    pub async fn start(test: &str) -> Option<Rig> {
        let tg = TelegramEmulator::start_with_token_or_skip(test, &token_for(test)).await?;
        let llm = ScriptedLlm::start().await;
        let env = Env::scripted(&llm);
        let rig = Rig { tg, llm, env };
        rig.add_channel(&[]);
        let shown = rig.env.run(&["channels", "show", "tg", "--json"]);
        assert!(String::from_utf8_lossy(&shown.stdout).contains("\"kind\":\"telegram\""));
        Some(rig)
    }

    /// `pryx channels add tg` as a user runs it: the token typed on stdin.
    pub fn add_channel(&self, extra: &[&str]) {
        let mut child = self
            .env
            .cmd()
            .args(["channels", "add", "tg", "--api-base", &self.tg.api_base()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{}\n", self.tg.token()).as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "channels add: {stdout}\n{stderr}");
        // The token is checked when it is given (not when an existing channel is changed).
        assert!(stdout.contains("added tg (telegram"), "{stdout}");
    }

    /// `pryx serve`, once its bot is polling.
    pub async fn serve(&self) -> Serve {
        let serve = Serve::start(&self.env, &[]);
        self.tg
            .wait_for("the bot's first poll", |j| j.poll_waiting.then_some(()))
            .await;
        serve
    }

    /// A pairing code from `pryx channels pair tg`.
    pub fn pair_code(&self) -> String {
        let out = self.env.run(&["channels", "pair", "tg"]);
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        stdout.lines().next().unwrap().trim().to_string()
    }

    /// Pairs `user` through the chat, as a person would.
    pub async fn pair(&self, user: &TgUser) {
        let code = self.pair_code();
        self.tg.send_private_text(user, &code).await.unwrap();
        self.tg.wait_for_text(user.id, "Paired").await;
    }
}

/// A bot token of its own for each test: Pryx polls one token from one process per machine, and
/// the tests run side by side.
pub fn token_for(test: &str) -> String {
    let n: u64 = test.bytes().fold(7_000_000_001_u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 9_000_000_000
        + 1_000_000_000;
    format!(
        "{n}:AAEpryx-test-token_{}",
        test.replace("::", "-").replace('_', "-")
    )
}

pub fn ann() -> TgUser {
    TgUser::new(4242, "Ann").with_username("ann")
}
