// The dashboard's flows, each switched on by its page's data-testid hooks (skipped with the
// missing hooks named until the page has them): onboarding against aimock, a streamed chat
// answer, an approval answered in the browser, search and export, the approvals inbox.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { Skip, check, cfg, api, script, signedInPage, requireHooks, screenshot, wsClient } = require("./lib.js");

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

/** First start in the browser: workspace, provider (tested against aimock), model, first chat. */
async function onboarding(browser) {
  check(cfg.aimock, "onboarding needs aimock (PRYX_AIMOCK)");
  const { context, page } = await signedInPage(browser);
  check(new URL(page.url()).pathname === "/welcome", `with no provider the front door led to ${page.url()}, not /welcome`);
  await requireHooks(page, "/welcome", ["workspace-input", "workspace-save"]);
  await screenshot(page, "onboarding-workspace");
  await byId(page, "workspace-input").fill(cfg.workspace);
  await byId(page, "workspace-save").click();
  await byId(page, "provider-preset").waitFor();
  await requireHooks(page, new URL(page.url()).pathname, ["provider-preset", "provider-key", "provider-base-url", "provider-test"]);
  const preset = byId(page, "provider-preset");
  const options = await preset.locator("option").allTextContents();
  const custom = options.find((o) => /openai.compatible|custom/i.test(o));
  if (!custom) throw new Skip(`the provider presets have no OpenAI-compatible entry: ${options.join(", ")}`);
  await preset.selectOption({ label: custom });
  await byId(page, "provider-base-url").fill(cfg.aimock);
  await byId(page, "provider-key").fill("sk-test-aimock");
  await byId(page, "provider-test").click();
  const result = byId(page, "provider-test-result");
  await result.filter({ hasText: /ok|works|latency|success/i }).waitFor();
  await screenshot(page, "onboarding-provider-tested");
  await byId(page, "model-select").waitFor();
  const models = await byId(page, "model-select").locator("option").evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  check(models.length > 0, "the model list is empty after a successful provider test");
  await byId(page, "model-select").selectOption(models.find((m) => m.includes("gpt-4o-mini")) || models[0]);
  await byId(page, "provider-save").click();
  // Optional steps (channels, MCP, …) may come between; skip them until the chat can start.
  for (let i = 0; i < 10 && !(await byId(page, "start-chat").isVisible()); i++) {
    await page.locator('[data-testid="start-chat"], [data-testid="step-skip"]').first().waitFor();
    if (await byId(page, "start-chat").isVisible()) break;
    await byId(page, "step-skip").first().click();
  }
  await screenshot(page, "onboarding-done");
  await byId(page, "start-chat").click();
  await page.waitForURL((u) => u.pathname.startsWith("/chat"));
  const providers = await api("GET", "/providers");
  check(JSON.stringify(providers).includes(cfg.aimock.replace(/\/v1$/, "")), `the saved provider does not use aimock: ${JSON.stringify(providers)}`);
  await context.close();
}

/** Sends `text` from the chat composer. */
async function send(page, text) {
  await byId(page, "composer").fill(text);
  await byId(page, "send").click();
}

/** A chat answer streams into the page (live first, then the stored message). */
async function chat(browser) {
  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/chat", ["composer", "send"]);
  const answer = "Streaming works: the quick brown fox jumps over the lazy dog.";
  await script([{ text: answer, chunk_chars: 4, frame_delay_ms: 40 }]);
  await send(page, "say something");
  await byId(page, "assistant-live").first().waitFor();
  const live = await byId(page, "assistant-live").first().textContent();
  check(live.length < answer.length, `the answer arrived whole instead of streaming (${JSON.stringify(live)})`);
  await byId(page, "assistant-message").filter({ hasText: answer }).waitFor();
  await screenshot(page, "chat-answer");
  await context.close();
}

/** Reads the approval dialog's tool, approves with `button`, and waits for the turn to end. */
async function approveInDialog(page, button) {
  const dialog = byId(page, "approval-dialog");
  await dialog.waitFor();
  await byId(page, button).click();
  await dialog.waitFor({ state: "hidden" });
}

/** A tool call approved in the browser; another surface (a WebSocket client) sees it resolved. */
async function approval(browser) {
  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/chat", ["composer", "send"]);
  const ws = await wsClient(["approval.needed", "approval.resolved"]);
  await script([
    { tool_calls: [{ id: "a1", name: "shell__exec", arguments: JSON.stringify({ command: "echo approved > proof.txt" }) }] },
    { text: "Wrote the proof." },
  ]);
  await send(page, "write the proof");
  const needed = await ws.event("approval.needed");
  const dialog = byId(page, "approval-dialog");
  await dialog.waitFor();
  if ((await byId(page, "approve-once").count()) === 0) throw new Skip("the approval dialog has no [data-testid=approve-once] yet");
  for (const id of ["approve-session", "approve-always", "deny"]) {
    check((await byId(page, id).count()) === 1, `the approval dialog has no [data-testid=${id}]`);
  }
  check((await dialog.textContent()).includes("echo approved > proof.txt"), "the approval dialog does not show the exact command");
  await screenshot(page, "approval-dialog");
  await approveInDialog(page, "approve-once");
  const resolved = await ws.next((m) => m.event === "approval.resolved" && m.payload.id === needed.payload.id, "approval.resolved");
  const outcome = resolved.payload.outcome;
  check(outcome.outcome === "answered" && outcome.decision === "approve" && outcome.scope === "once" && outcome.surface === "web",
    `the approval resolved as ${JSON.stringify(outcome)}`);
  await byId(page, "assistant-message").filter({ hasText: "Wrote the proof." }).waitFor();
  check(fs.readFileSync(path.join(cfg.workspace, "proof.txt"), "utf8").trim() === "approved", "the approved command did not run");
  await byId(page, "tool-card").filter({ hasText: "shell.exec" }).first().waitFor();
  await screenshot(page, "approval-approved");

  // First answer wins across surfaces: answered elsewhere, the open dialog closes itself.
  await script([
    { tool_calls: [{ id: "a2", name: "shell__exec", arguments: JSON.stringify({ command: "echo again > again.txt" }) }] },
    { text: "Not allowed, fine." },
  ]);
  await send(page, "write it again");
  const second = await ws.next((m) => m.event === "approval.needed" && m.payload.id !== needed.payload.id, "a second approval.needed");
  await dialog.waitFor({ state: "visible" });
  await api("POST", `/approvals/${second.payload.id}`, { decision: "deny", scope: "once", surface: "tui" });
  await dialog.waitFor({ state: "hidden" });
  // Nothing waits any more: the header's approvals badge goes away.
  await page.locator("#approvals-badge").waitFor({ state: "hidden" });
  await byId(page, "assistant-message").filter({ hasText: "Not allowed, fine." }).waitFor();
  check(!fs.existsSync(path.join(cfg.workspace, "again.txt")), "the command denied in the TUI ran anyway");
  await screenshot(page, "approval-answered-elsewhere");
  ws.close();
  await context.close();
}

/** A finished session with `word` in it, made through the API (as the CLI would). */
async function sessionWith(word, title) {
  const s = await api("POST", "/sessions", { title });
  await script([{ text: `The answer mentions ${word}.` }]);
  const ws = await wsClient(["turn.completed"]);
  await api("POST", `/sessions/${s.id}/messages`, { content: `tell me about ${word}` });
  await ws.next((m) => m.type === "event" && m.session_id === s.id, "the turn's end");
  ws.close();
  return s;
}

/** The sessions page finds a session by a word of its text, and exports it as Markdown and JSON. */
async function search_export(browser) {
  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/sessions", ["search-input"]);
  const word = "quokkaphrase";
  const s = await sessionWith(word, "Marsupial notes");
  await sessionWith("unrelated", "Other notes");
  await page.goto(cfg.base + "/sessions");
  await byId(page, "search-input").fill(word);
  await byId(page, "search-input").press("Enter");
  const rows = byId(page, "session-row");
  await rows.filter({ hasText: "Marsupial notes" }).waitFor();
  await rows.filter({ hasText: "Other notes" }).waitFor({ state: "detached" });
  check((await rows.count()) === 1, `search for ${word} lists ${await rows.count()} sessions, not 1`);
  await screenshot(page, "sessions-search");
  await rows.first().getByRole("link").first().click();
  await page.waitForURL((u) => u.pathname.includes(s.id) || u.search.includes(s.id));
  await requireHooks(page, new URL(page.url()).pathname, ["export-md", "export-json"]);
  for (const [id, check_] of [
    ["export-md", (t, name) => name.endsWith(".md") && t.includes(word)],
    ["export-json", (t, name) => name.endsWith(".json") && JSON.stringify(JSON.parse(t)).includes(word)],
  ]) {
    const download = page.waitForEvent("download");
    await byId(page, id).click();
    const d = await download;
    const text = fs.readFileSync(await d.path(), "utf8");
    check(check_(text, d.suggestedFilename()), `${id} downloaded ${d.suggestedFilename()} without the session's text`);
  }
  await screenshot(page, "session-exported");
  await context.close();
}

/** A pending approval is listed in the inbox and can be answered there. */
async function approvals_inbox(browser) {
  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/approvals", []);
  const s = await api("POST", "/sessions", { title: "Needs approval" });
  const ws = await wsClient(["approval.needed", "approval.resolved"]);
  await script([
    { tool_calls: [{ id: "b1", name: "shell__exec", arguments: JSON.stringify({ command: "echo inbox > inbox.txt" }) }] },
    { text: "Done." },
  ]);
  await api("POST", `/sessions/${s.id}/messages`, { content: "write the inbox file" });
  const needed = await ws.event("approval.needed");
  await page.goto(cfg.base + "/approvals");
  if ((await byId(page, "approval-row").count()) === 0) throw new Skip("/approvals has no [data-testid=approval-row] yet");
  const row = byId(page, "approval-row").filter({ hasText: "echo inbox > inbox.txt" });
  await row.waitFor();
  await screenshot(page, "approvals-inbox");
  await row.locator('[data-testid="approve-once"]').click();
  const resolved = await ws.next((m) => m.event === "approval.resolved" && m.payload.id === needed.payload.id, "approval.resolved");
  check(resolved.payload.outcome.decision === "approve" && resolved.payload.outcome.surface === "web",
    `the inbox answer resolved as ${JSON.stringify(resolved.payload.outcome)}`);
  await row.waitFor({ state: "detached" });
  ws.close();
  await context.close();
}

module.exports = { onboarding, chat, approval, search_export, approvals_inbox, send, byId, sessionWith };
