//! `pryx tasks add|list|show|edit|pause|resume|run|rm|history|templates`: prompts an agent runs
//! on a schedule (`--every 4h`, `--cron '0 */2 * * *' --tz Europe/Berlin`, `--at 2026-12-01T09:00`),
//! when files change (`--on-change 'logs/*.log'`), on a signed webhook, or by hand; with
//! `--heartbeat`, the agent's heartbeat over the workspace's `HEARTBEAT.md`. Through the
//! running core when there is one, otherwise on the data dir (the schedule runs with `pryx serve`;
//! `run` then runs the task right here and waits for it).

mod spec_args;

use super::backend::{Backend, local};
use crate::term::{out_raw, say};
use anyhow::Context;
use pryx_protocol::api::{
    BeatOutcome, NotifyTarget, RunStatus, TaskList, TaskRunList, TaskRunView, TaskStatus,
    TaskTemplateList, TaskView,
};
use spec_args::SpecArgs;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Add a task.
    Add {
        name: String,
        #[command(flatten)]
        spec: SpecArgs,
        #[arg(long)]
        json: bool,
    },
    /// List the tasks with their status, next run and last result.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One task in full.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a task (what is not given stays); its schedule starts again from now.
    Edit {
        name: String,
        /// A new name.
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        spec: SpecArgs,
        #[arg(long)]
        json: bool,
    },
    /// Stop running a task until resumed.
    Pause { name: String },
    /// Run a paused (or disabled) task again; its next run is computed from now.
    Resume { name: String },
    /// Run a task now.
    Run {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a task and its history (its runs' sessions stay).
    Rm { name: String },
    /// A task's runs, newest first: status, duration, tokens, cost, result.
    History {
        name: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// The built-in templates.
    Templates {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let backend = Backend::open().await?;
        match args.command {
            Sub::Add { name, spec, json } => {
                let spec = spec.new_spec(&name)?;
                let created = match &backend {
                    Backend::Remote(c) => c.create_task(&spec).await?,
                    Backend::Local(core) => local(core, move |c| c.task_create(spec)).await?,
                };
                if json {
                    out_raw(&serde_json::to_string(&created)?);
                } else {
                    let t = &created.task;
                    say!("added {} — {}", t.spec.name, t.schedule);
                    if let Some(n) = &t.next_run_at {
                        say!("next run: {n}");
                    }
                    if let Some(secret) = &created.secret {
                        out_raw(secret);
                        say!(
                            "the signing key above is shown only now; sign POSTs to /hooks/tasks/{} with it",
                            t.id
                        );
                    }
                    if matches!(backend, Backend::Local(_)) {
                        say!("it runs while `pryx serve` (or the core `pryx` starts) runs");
                    }
                }
            }
            Sub::List { json } => {
                let tasks = list(&backend).await?;
                if json {
                    out_raw(&serde_json::to_string(&TaskList { tasks })?);
                } else if tasks.is_empty() {
                    say!("no tasks; add one with `pryx tasks add NAME --prompt '…' --every 4h` or from `pryx tasks templates`");
                } else {
                    for t in &tasks {
                        say!(
                            "{}  {}  {}  next {}  last {}  ${:.4} this month",
                            t.spec.name,
                            status_name(t.status),
                            t.schedule,
                            t.next_run_at.as_deref().unwrap_or("—"),
                            t.last_run.as_ref().map(run_word).unwrap_or("never"),
                            t.cost_this_month_usd
                        );
                    }
                }
            }
            Sub::Show { name, json } => {
                let t = get(&backend, &name).await?;
                if json {
                    out_raw(&serde_json::to_string(&t)?);
                } else {
                    show(&t);
                }
            }
            Sub::Edit { name, rename, spec: given, json } => {
                let current = get(&backend, &name).await?;
                let mut spec = current.spec.clone();
                if let Some(n) = rename {
                    spec.name = n;
                }
                given.apply(&mut spec)?;
                let t = match &backend {
                    Backend::Remote(c) => c.update_task(&current.id, &spec).await?,
                    Backend::Local(core) => {
                        let id = current.id.clone();
                        local(core, move |c| c.task_update(&id, spec)).await?
                    }
                };
                if json {
                    out_raw(&serde_json::to_string(&t)?);
                } else {
                    say!("changed {} — {}; next run {}", t.spec.name, t.schedule, t.next_run_at.as_deref().unwrap_or("—"));
                }
            }
            Sub::Pause { name } => {
                let t = set_active(&backend, &name, false).await?;
                say!("paused {}; `pryx tasks resume {}` runs it again", t.spec.name, t.spec.name);
            }
            Sub::Resume { name } => {
                let t = set_active(&backend, &name, true).await?;
                say!("resumed {}; next run {}", t.spec.name, t.next_run_at.as_deref().unwrap_or("—"));
            }
            Sub::Run { name, json } => {
                let run = match &backend {
                    Backend::Remote(c) => c.run_task(&name).await?,
                    Backend::Local(core) => core.task_run_here(&name).await?,
                };
                if json {
                    out_raw(&serde_json::to_string(&run)?);
                } else if run.status == RunStatus::Running {
                    say!("run #{} started; its session is {}", run.run_number, run.session_id.as_deref().unwrap_or("being made"));
                    say!("`pryx tasks history {name}` shows how it went");
                } else {
                    print_run(&run);
                }
                if matches!(run.status, RunStatus::Failed | RunStatus::Interrupted) {
                    return Ok(ExitCode::FAILURE);
                }
            }
            Sub::Rm { name } => {
                match &backend {
                    Backend::Remote(c) => c.delete_task(&name).await?,
                    Backend::Local(core) => {
                        let owned = name.clone();
                        local(core, move |c| c.task_delete(&owned)).await?
                    }
                }
                say!("removed {name}; the sessions of its runs stay");
            }
            Sub::History { name, limit, json } => {
                let runs = match &backend {
                    Backend::Remote(c) => c.task_runs(&name, limit.clamp(1, 100)).await?,
                    Backend::Local(core) => {
                        let owned = name.clone();
                        local(core, move |c| c.task_runs(&owned, limit.clamp(1, 100))).await?
                    }
                };
                if json {
                    out_raw(&serde_json::to_string(&TaskRunList { runs })?);
                } else if runs.is_empty() {
                    say!("{name} has not run yet");
                } else {
                    for r in &runs {
                        print_run(r);
                    }
                }
            }
            Sub::Templates { json } => {
                let templates = match &backend {
                    Backend::Remote(c) => c.task_templates().await?,
                    Backend::Local(core) => core.task_templates(),
                };
                if json {
                    out_raw(&serde_json::to_string(&TaskTemplateList { templates })?);
                } else {
                    for t in &templates {
                        say!("{} — {}: {}", t.id, t.title, t.description);
                        for v in &t.vars {
                            let d = v.default.as_deref().map(|d| format!(" (default {d})")).unwrap_or_default();
                            say!("    --var {}=…  {}{d}", v.name, v.description);
                        }
                        say!("    allow for unattended runs: {}", t.suggested_tools.join(", "));
                    }
                    say!("use one with `pryx tasks add NAME --template ID --var name=value`");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn list(backend: &Backend) -> anyhow::Result<Vec<TaskView>> {
    Ok(match backend {
        Backend::Remote(c) => c.tasks().await?,
        Backend::Local(core) => local(core, |c| c.task_list()).await?,
    })
}

async fn get(backend: &Backend, name: &str) -> anyhow::Result<TaskView> {
    Ok(match backend {
        Backend::Remote(c) => c.task(name).await?,
        Backend::Local(core) => {
            let owned = name.to_string();
            local(core, move |c| c.task_show(&owned)).await?
        }
    })
}

async fn set_active(backend: &Backend, name: &str, resume: bool) -> anyhow::Result<TaskView> {
    Ok(match backend {
        Backend::Remote(c) => c.set_task_active(name, resume).await?,
        Backend::Local(core) => {
            let owned = name.to_string();
            if resume {
                local(core, move |c| c.task_resume(&owned)).await?
            } else {
                local(core, move |c| c.task_pause(&owned)).await?
            }
        }
    })
}

fn status_name(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Active => "active",
        TaskStatus::Paused => "paused",
        TaskStatus::Failed => "failed",
        TaskStatus::Disabled => "disabled",
    }
}

fn run_word(r: &TaskRunView) -> &'static str {
    match r.status {
        RunStatus::Running => "running",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
        RunStatus::Interrupted => "interrupted",
    }
}

fn print_run(r: &TaskRunView) {
    let took = r
        .duration_ms
        .map(|d| format!("{:.1}s", d as f64 / 1000.0))
        .unwrap_or_else(|| "—".into());
    let retry = if r.attempt > 0 {
        format!(" (retry {})", r.attempt)
    } else {
        String::new()
    };
    say!(
        "#{}{retry}  {}  {}  {took}  {} in / {} out  ${:.4}  {:?}",
        r.run_number,
        run_word(r),
        r.started_at,
        r.tokens_in,
        r.tokens_out,
        r.cost_usd,
        r.reason
    );
    if let Some(e) = &r.error {
        say!("    error: {e}");
    }
    for d in &r.denied {
        say!("    needed approval: {d}");
    }
    if let Some(s) = &r.summary {
        say!("    {}", s.lines().next().unwrap_or_default());
    }
    for n in &r.notifications {
        say!(
            "    notified {}: {}{}",
            n.target,
            n.state,
            n.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
    if let Some(s) = &r.session_id {
        say!("    session {s}");
    }
}

fn beat_word(o: BeatOutcome) -> &'static str {
    match o {
        BeatOutcome::Idle => "idle (no model call)",
        BeatOutcome::Ok => "all well (HEARTBEAT_OK, not delivered)",
        BeatOutcome::Alert => "alert delivered",
        BeatOutcome::Failed => "failed",
        BeatOutcome::OutsideHours => "held back: outside the active hours",
        BeatOutcome::BudgetSpent => "held back: today's budget is spent",
    }
}

fn show(t: &TaskView) {
    say!(
        "{} ({}) — {}",
        t.spec.name,
        status_name(t.status),
        t.schedule
    );
    if let Some(e) = &t.error {
        say!("  error: {e}");
    }
    say!("  id: {}", t.id);
    say!("  agent: {}", t.spec.agent.as_deref().unwrap_or("main"));
    say!("  next run: {}", t.next_run_at.as_deref().unwrap_or("—"));
    if !t.spec.prompt.is_empty() {
        say!("  prompt: {}", t.spec.prompt);
    }
    for (k, v) in &t.spec.vars {
        say!("  var {k} = {v}");
    }
    let r = &t.spec.retry;
    say!(
        "  retries: {} (first after {}s, at most {}s apart); on failure: {:?}; catch-up: {:?}",
        r.max_retries,
        r.backoff_secs,
        r.max_backoff_secs,
        t.spec.on_failure,
        t.spec.catch_up
    );
    say!(
        "  notify: {:?}, to the dashboard{}",
        t.spec.notify,
        t.spec
            .notify_targets
            .iter()
            .map(|n| match n {
                NotifyTarget::Channel { channel, chat } => format!(", telegram {channel}:{chat}"),
                NotifyTarget::Webhook { url } => format!(", {url}"),
            })
            .collect::<String>()
    );
    say!(
        "  runs: {}{}; cost this month ${:.4}",
        t.runs,
        if t.running { " (one is going now)" } else { "" },
        t.cost_this_month_usd
    );
    if let (Some(hb), Some(st)) = (&t.spec.heartbeat, &t.heartbeat) {
        say!(
            "  heartbeat: active {} ({}); today {} beat(s) with the model, {} idle, {} held back; ${:.4} of ${:.2}",
            hb.active_hours.as_deref().unwrap_or("all day"),
            hb.tz.as_deref().unwrap_or("UTC"),
            st.model_beats_today,
            st.idle_beats_today,
            st.skipped_beats_today,
            st.cost_today_usd,
            st.daily_budget_usd
        );
        if !st.checklist {
            say!(
                "  no HEARTBEAT.md in the agent's workspace: every beat is idle until there is one"
            );
        }
        if let Some(o) = st.last_outcome {
            say!(
                "  last beat{}: {} — {}",
                st.last_beat_at
                    .as_deref()
                    .map(|a| format!(" {a}"))
                    .unwrap_or_default(),
                beat_word(o),
                st.last_detail.as_deref().unwrap_or_default()
            );
        }
    }
    if t.own_changes_ignored > 0 {
        say!(
            "  changes its own runs made, not run again for: {}",
            t.own_changes_ignored
        );
    }
    if let Some(r) = &t.last_run {
        say!("  last run:");
        print_run(r);
    }
}
