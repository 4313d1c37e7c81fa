// The trace timeline: a turn with a model call, an approval wait and a tool call is drawn live
// while it runs (each `span.update` reaches the page as a bar), a bar's details show the call's
// arguments, result and trace id, and the page works without JavaScript. Also the latency from
// each event's server timestamp to its bar in the DOM, which bench/web.sh reports as p50/p95.
"use strict";

const { check, cfg, api, script, signIn, signedInPage, screenshot, wsClient } = require("./lib.js");

/** Wall-clock ms of an RFC 3339 timestamp with up to nanoseconds (`...:01.123456Z`). */
function epochMs(ts) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  check(m, `not a timestamp: ${ts}`);
  const frac = Number(`0.${m[2] || "0"}`);
  return Date.parse(`${m[1]}${m[3]}`) + frac * 1000;
}

/** Notes in the page when each span first shows, and in which status. */
async function watch(page) {
  await page.evaluate(() => {
    window.__spans = {};
    const note = () => {
      const now = performance.timeOrigin + performance.now();
      for (const g of document.querySelectorAll("[data-span]")) {
        const key = `${g.dataset.span} ${g.dataset.status}`;
        if (!(key in window.__spans)) window.__spans[key] = now;
        if (!(g.dataset.span in window.__spans)) window.__spans[g.dataset.span] = now;
      }
    };
    note();
    new MutationObserver(note).observe(document.getElementById("timeline-live"), { subtree: true, childList: true, attributes: true });
  });
}

/**
 * Runs one turn (a model call, an approval wait, a tool call, a second model call) in a session
 * whose timeline page is open: the approval wait must show while nobody has answered. Returns the
 * turn's `span.update` events, when the page first showed each span (and each of its states),
 * and the turn span's last update.
 */
async function timedTurn(page, sessionId, n) {
  const ws = await wsClient(["span.update", "approval.needed"]);
  await script([
    { tool_calls: [{ id: `t${n}`, name: "shell__exec", arguments: JSON.stringify({ command: `echo timeline ${n}` }) }], frame_delay_ms: 20 },
    { text: `Ran it ${n}.`, chunk_chars: 3, frame_delay_ms: 20 },
  ]);
  await watch(page);
  await api("POST", `/sessions/${sessionId}/messages`, { content: `run the timeline ${n}` });
  const mine = (m) => m.type === "event" && m.session_id === sessionId;
  const needed = await ws.next((m) => mine(m) && m.event === "approval.needed", "approval.needed");
  const waiting = await ws.next((m) => mine(m) && m.event === "span.update" && m.payload.kind === "approval_wait", "the approval wait's span");
  await page.locator(`[data-span="${waiting.payload.span_id}"][data-status="running"]`).waitFor();
  await api("POST", `/approvals/${needed.payload.id}`, { decision: "approve", scope: "once", surface: "tui" });
  const end = await ws.next((m) => mine(m) && m.event === "span.update" && m.payload.kind === "turn" && m.payload.status !== "running", "the turn's end");
  await page.locator(`[data-span="${end.payload.span_id}"][data-status="${end.payload.status}"]`).waitFor();
  const events = [];
  for (;;) {
    const m = await ws.next((x) => mine(x) && x.event === "span.update" && !x.taken, "span.update");
    m.taken = true;
    events.push(m);
    if (m === end) break;
  }
  const shown = await page.evaluate(() => window.__spans);
  ws.close();
  return { events, shown, end: end.payload };
}

async function trace(browser) {
  const { context, page } = await signedInPage(browser);
  const session = await api("POST", "/sessions", { title: "Timeline" });
  await page.goto(`${cfg.base}/sessions/${session.id}/timeline`);
  await page.getByText("No turns yet").waitFor();

  const { events, shown, end } = await timedTurn(page, session.id, 0);
  const kinds = new Set(events.map((e) => e.payload.kind));
  for (const k of ["turn", "model_call", "approval_wait", "tool_call"]) check(kinds.has(k), `no span.update of a ${k}`);
  const latencies = latencyOf(events, shown);
  check(latencies.length === events.length, `${events.length - latencies.length} span updates never reached the page`);
  console.log(`timeline: ${latencies.length} span updates; event to bar p50 ${pct(latencies, 50).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);

  // Every bar of the turn, with its tool call's details one click away.
  const chart = page.locator(`[data-trace="${end.trace_id}"]`);
  check((await chart.locator("[data-span]").count()) >= 5, "the turn's chart lacks bars");
  await screenshot(page, "timeline");
  await chart.locator('[data-kind="tool_call"] rect').first().click();
  const details = page.locator('[data-testid="span-details"]');
  await details.waitFor();
  check((await details.locator('[data-testid="span-arguments"]').textContent()).includes("echo timeline 0"), "the tool call's arguments are not shown");
  check((await details.locator('[data-testid="span-result"]').textContent()).includes("timeline 0"), "the tool call's result is not shown");
  check((await details.locator('[data-testid="span-trace"]').textContent()) === end.trace_id, "the trace id is not shown");
  await screenshot(page, "timeline-details");
  await context.close();

  // Without JavaScript: the same charts, drawn by the server.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const p2 = await plain.newPage();
  await signIn(p2);
  await p2.goto(`${cfg.base}/sessions/${session.id}/timeline`);
  check((await p2.locator(`[data-span="${end.span_id}"]`).count()) === 1, "without JavaScript the timeline is not drawn");
  await plain.close();
}

/** ms from each event's server time to the page showing it (or a later state of its span). */
function latencyOf(events, shown) {
  const out = [];
  for (const e of events) {
    const p = e.payload;
    const at = p.status === "running" ? shown[p.span_id] : shown[`${p.span_id} ${p.status}`];
    if (at !== undefined) out.push(Math.max(0, at - epochMs(e.timestamp)));
  }
  return out;
}

function pct(values, p) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.max(0, Math.ceil((v.length * p) / 100) - 1)];
}

module.exports = { trace, timedTurn, latencyOf, pct };
