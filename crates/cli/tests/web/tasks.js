// The Tasks page: a task made through the API shows with its status and schedule; Run now starts
// a run (the scripted model answers) that appears on the live list and in the task's history; its
// notification raises the header's badge and Mark all read clears it.
"use strict";

const { check, cfg, api, script, signedInPage, requireHooks, screenshot } = require("./lib.js");

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

async function tasks(browser) {
  const made = await api("POST", "/tasks", {
    name: "browser digest",
    prompt: "Summarise what changed today",
    trigger: { kind: "manual" },
  });
  const id = made.task.id;
  const answer = "Nothing changed today: the notes are as they were.";
  await script([{ text: answer }]);
  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/tasks", ["task-row", "task-run"]);
  const row = page.locator(`[data-testid="task-row"][data-task-id="${id}"]`);
  await row.waitFor();
  const status = (await row.locator('[data-testid="task-status"]').textContent()).trim();
  check(status === "active", `a new task shows as ${JSON.stringify(status)}, not active`);
  check((await row.textContent()).includes("only when run by hand"), `the schedule in words is missing: ${await row.textContent()}`);
  check((await row.locator('[data-testid="task-last-run"]').textContent()).includes("never"), "a task that never ran shows a last run");

  await row.locator('[data-testid="task-run"]').click();
  await page.waitForURL((u) => u.pathname === "/tasks" && u.searchParams.get("done") === "run");
  await byId(page, "tasks-notice").filter({ hasText: "browser digest started" }).waitFor();
  // The list refreshes itself: the run shows as succeeded once the model answered.
  const done = page.locator(`[data-testid="task-row"][data-task-id="${id}"]`);
  await done.locator('[data-testid="task-last-run"]').filter({ hasText: "succeeded" }).waitFor();
  check((await done.locator('[data-testid="task-runs"]').textContent()).trim() === "1", "the run count is not 1 after one run");
  await byId(page, "notification").filter({ hasText: "Task browser digest ran (run #1)" }).waitFor();
  await byId(page, "unread-count").waitFor();
  await screenshot(page, "tasks-after-run");

  // The header's badge counts the unread notification on any page.
  await page.goto(cfg.base + "/sessions");
  const badge = page.locator("#tasks-badge");
  await badge.filter({ hasText: "1" }).waitFor();

  // The task's history: the run with its answer and where its notification went.
  await page.goto(`${cfg.base}/tasks/${id}`);
  const run = byId(page, "run-row").first();
  await run.waitFor();
  const text = await run.textContent();
  check(text.includes("#1") && text.includes("succeeded") && text.includes(answer), `the history's run lacks its outcome: ${text}`);
  check(text.includes("dashboard: delivered"), `the history does not say the notification reached the dashboard: ${text}`);
  await screenshot(page, "task-history");

  await page.goto(cfg.base + "/tasks");
  await byId(page, "mark-read").click();
  await page.waitForURL((u) => u.searchParams.get("done") === "read");
  check((await byId(page, "unread-count").count()) === 0, "Mark all read left unread notifications");
  await page.locator("#tasks-badge[hidden]").waitFor({ state: "attached" });
  const inbox = await api("GET", "/notifications");
  check(inbox.unread === 0, `the API still counts ${inbox.unread} unread`);
  await context.close();
}

module.exports = { tasks };
