// A long conversation in the browser: the context meter, pinning a message, compaction with
// its cost shown before it runs (and the session's messages still there after), and forking
// the session at a message into a new one.
"use strict";

const { check, cfg, api, script, signedInPage, screenshot } = require("./lib.js");

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

async function sendAndWait(page, text, answer) {
  await byId(page, "composer").fill(text);
  await byId(page, "send").click();
  await byId(page, "assistant-message").filter({ hasText: answer }).waitFor();
}

async function context_compact_fork(browser) {
  const { context, page } = await signedInPage(browser);
  await page.goto(cfg.base + "/chat");
  await script([{ text: "first answer" }, { text: "second answer" }]);
  await sendAndWait(page, "RULE: answer in French", "first answer");
  await page.waitForURL((u) => /^\/chat\/.+/.test(u.pathname));
  const session = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  await sendAndWait(page, "second request", "second answer");

  // The meter shows how full the context is.
  const label = page.locator("#context-label");
  await label.filter({ hasText: /% of [\d,.]+ tokens/ }).waitFor();

  // Pin the first message: it is marked, and the API lists it.
  const first = page.locator("article.msg.user").first();
  await first.getByRole("button", { name: "Pin message 1" }).click();
  await first.getByRole("button", { name: "Unpin message 1" }).waitFor();
  check(await first.evaluate((a) => a.classList.contains("pinned")), "the pinned message is not marked");
  let ctx = await api("GET", `/sessions/${session}/context`);
  check(ctx.pinned.length === 1 && ctx.pinned[0].seq === 1, `pins: ${JSON.stringify(ctx.pinned)}`);

  // Compact: the cost first, then the summary on confirmation.
  await byId(page, "compact").click();
  const confirm = page.locator("#compact-confirm");
  await confirm.filter({ hasText: /replaces 2 earlier messages .* at most \$\d+\.\d{4}/ }).waitFor();
  await screenshot(page, "context-compact-confirm");
  await script([{ text: "## Goal\n- answer in French\n## Decisions\n- none" }]);
  await byId(page, "compact-go").click();
  await page.locator("#picker-status").filter({ hasText: /^Compacted 2 messages/ }).waitFor();
  const shown = page.locator('[data-testid="compaction-summary"]');
  await shown.filter({ hasText: "2 earlier messages summarised" }).waitFor();
  await shown.locator("summary").click();
  await shown.filter({ hasText: "answer in French" }).waitFor();
  await label.filter({ hasText: "1 compaction(s)" }).waitFor();
  ctx = await api("GET", `/sessions/${session}/context`);
  check(ctx.compactions === 1 && ctx.messages === 4, `after compaction: ${JSON.stringify(ctx)}`);
  await screenshot(page, "context-compacted");

  // Nothing more to compact is said, not attempted.
  await byId(page, "compact").click();
  await page.locator("#picker-status").filter({ hasText: "Nothing to compact" }).waitFor();

  // Fork at the first message: a new session with just it (and its answer's absence).
  await first.getByRole("button", { name: "Fork the session at message 1" }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/chat/") && !u.pathname.endsWith(encodeURIComponent(session)));
  const child = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  await page.locator("article.msg.user").filter({ hasText: "RULE: answer in French" }).waitFor();
  check((await page.locator("article.msg").count()) === 1, "the fork holds more than its first message");
  const summary = (await api("GET", `/sessions/${child}`)).session;
  check(summary.parent_id === session, `the fork's parent is ${summary.parent_id}`);
  await screenshot(page, "context-fork");
  await context.close();
}

/** A background command approved in the browser is listed with its output while it runs. */
async function background_process_panel(browser) {
  const { context, page } = await signedInPage(browser);
  await page.goto(cfg.base + "/chat");
  await script([
    { tool_calls: [{ id: "b1", name: "shell__exec", arguments: JSON.stringify({ command: "echo serving on 8080; sleep 60", background: true }) }] },
    { text: "It runs in the background as p1." },
  ]);
  await byId(page, "composer").fill("start the server");
  await byId(page, "send").click();
  const dialog = byId(page, "approval-dialog");
  await dialog.waitFor();
  check((await dialog.textContent()).includes("runs in the background: no timeout"), "the approval does not say the command runs in the background");
  await byId(page, "approve-once").click();
  await byId(page, "assistant-message").filter({ hasText: "It runs in the background as p1." }).waitFor();
  const panel = byId(page, "processes");
  await panel.waitFor();
  await page.locator("#processes-summary").filter({ hasText: "Background processes: 1 (1 running)" }).waitFor();
  await panel.locator("summary").click();
  await panel.locator(".process").filter({ hasText: "p1 · running" }).filter({ hasText: "serving on 8080" }).waitFor();
  await screenshot(page, "background-process-panel");
  await context.close();
}

module.exports = { context_compact_fork, background_process_panel };
