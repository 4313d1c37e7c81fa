// Browser figures for bench/web.sh (not a test): the bytes a first load of the chat page
// transfers (compressed, headers included), and the time from the server's `approval.needed`
// (seen by a WebSocket client) to the approval dialog visible in Chromium, over N runs, and the
// time from each `span.update`'s server timestamp to its bar on the trace timeline.
// Prints one JSON object on stdout.
"use strict";

const { Skip, api, cfg, launch, signedInPage, requireHooks, script, wsClient } = require("./lib.js");
const { timedTurn, latencyOf } = require("./trace.js");
const { send, byId } = require("./flows.js");

/** Bytes on the wire for /chat in a fresh cache (signed in with the cookie of `signedIn`). */
async function firstLoad(browser, signedIn) {
  const context = await browser.newContext();
  await context.addCookies(await signedIn.cookies(cfg.base));
  const page = await context.newPage();
  const responses = [];
  page.on("response", (r) => responses.push(r));
  await page.goto(cfg.base + "/chat");
  await page.waitForLoadState("load");
  let bytes = 0;
  const files = [];
  for (const r of responses) {
    const sizes = await r.request().sizes();
    const n = sizes.responseBodySize + sizes.responseHeadersSize;
    bytes += n;
    files.push(`${new URL(r.url()).pathname} ${n} B (${r.headers()["content-encoding"] || "identity"})`);
  }
  await context.close();
  return { bytes, files };
}

/** ms from `approval.needed` at a WebSocket client to the dialog visible, `runs` times. */
async function approvalLatency(page, runs) {
  await requireHooks(page, "/chat", ["composer", "send"]);
  const ws = await wsClient(["approval.needed"]);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    await script([
      { tool_calls: [{ id: `l${i}`, name: "shell__exec", arguments: JSON.stringify({ command: `echo ${i}` }) }] },
      { text: `done ${i}` },
    ]);
    // The page notes (in wall-clock ms) when the dialog shows; the client notes the event.
    await page.evaluate(() => {
      window.__shownAt = null;
      const seen = () => {
        const d = document.querySelector('[data-testid="approval-dialog"]');
        if (d && d.checkVisibility() && window.__shownAt === null) window.__shownAt = performance.timeOrigin + performance.now();
      };
      new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await send(page, `run ${i}`);
    const needed = await ws.next((m) => m.event === "approval.needed" && !m.counted, "approval.needed");
    needed.counted = true;
    const eventAt = performance.timeOrigin + needed.receivedAt;
    await byId(page, "approval-dialog").waitFor();
    if ((await byId(page, "approve-once").count()) === 0) throw new Skip("the approval dialog has no [data-testid=approve-once] yet");
    const shownAt = await page.evaluate(() => window.__shownAt);
    samples.push(shownAt - eventAt);
    await byId(page, "approve-once").click();
    await byId(page, "assistant-message").filter({ hasText: `done ${i}` }).waitFor();
  }
  ws.close();
  return samples;
}

/** ms from each span update's server timestamp to its bar on the timeline, over `runs` turns. */
async function timelineLatency(page, runs) {
  const session = await api("POST", "/sessions", { title: "Timeline bench" });
  await page.goto(`${cfg.base}/sessions/${session.id}/timeline`);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const { events, shown } = await timedTurn(page, session.id, i);
    samples.push(...latencyOf(events, shown));
  }
  return samples;
}

async function main() {
  const runs = Number(process.env.PRYX_BENCH_RUNS || 20);
  const browser = await launch();
  const out = {};
  try {
    const { context, page } = await signedInPage(browser);
    Object.assign(out, await firstLoad(browser, context));
    try {
      out.approval_ms = await approvalLatency(page, runs);
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
      out.approval_skipped = e.message;
    }
    out.timeline_ms = await timelineLatency(page, runs);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`bench failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
