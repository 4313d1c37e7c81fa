// Shared by the dashboard's browser scenarios: the environment the Rust harness hands over, a
// Chromium driven by playwright-core, sign-in through `pryx dashboard --json`, the API with the
// bearer token (as another surface would use it), a WebSocket client, screenshots, and the
// outcomes a scenario can have (pass, fail with a message, skip with a reason).
"use strict";

const { createRequire } = require("node:module");
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run this through the web_browser test of pryx`);
  return v;
};

/** Packages from testdeps/node_modules (installed by scripts/test.sh). */
const peer = createRequire(path.join(env("PRYX_TESTDEPS"), "package.json"));

const cfg = {
  bin: env("PRYX_BIN"),
  home: env("PRYX_HOME"),
  port: Number(env("PRYX_PORT")),
  llm: process.env.PRYX_LLM || "",
  aimock: process.env.PRYX_AIMOCK || "",
  workspace: process.env.PRYX_WORKSPACE || "",
  artifacts: env("PRYX_ARTIFACTS"),
  chromium: env("PRYX_CHROMIUM"),
};
cfg.base = `http://127.0.0.1:${cfg.port}`;
cfg.token = () => fs.readFileSync(path.join(cfg.home, "token"), "utf8").trim();

/** A skipped scenario: reported by the harness as SKIPPED with this reason, never as a pass. */
class Skip extends Error {}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** How long any single wait may take before the scenario fails. */
const WAIT_MS = 15000;

async function launch() {
  const { chromium } = peer("playwright-core");
  // Root (as CI runs) needs --no-sandbox; the dashboard's own defences are what is tested.
  return chromium.launch({ executablePath: cfg.chromium, args: ["--no-sandbox"] });
}

/** A one-time login URL from the real CLI. */
function loginUrl() {
  const out = execFileSync(cfg.bin, ["dashboard", "--json"], {
    env: { ...process.env, PRYX_HOME: cfg.home },
    encoding: "utf8",
  });
  const link = JSON.parse(out);
  check(typeof link.url === "string" && link.url.includes("code="), `pryx dashboard --json gave no login URL: ${out}`);
  return link.url;
}

/** Signs a page in with a fresh login link; returns where it landed. */
async function signIn(page) {
  const url = loginUrl();
  const res = await page.goto(url);
  check(res && res.ok(), `the login link answered ${res && res.status()}`);
  const hops = [];
  for (let r = res.request(); r; r = r.redirectedFrom()) hops.unshift(r.url());
  return { url, landed: page.url(), hops };
}

/** A new context (its own cookie jar) and page, signed in. */
async function signedInPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await signIn(page);
  return { context, page };
}

function screenshotPath(name) {
  fs.mkdirSync(cfg.artifacts, { recursive: true });
  return path.join(cfg.artifacts, `${name}.png`);
}

async function screenshot(page, name) {
  await page.screenshot({ path: screenshotPath(name), fullPage: true });
}

/** Skips the scenario unless the page at `pathname` has every `data-testid` named. */
async function requireHooks(page, pathname, testids) {
  if (new URL(page.url()).pathname !== pathname) await page.goto(cfg.base + pathname);
  const missing = [];
  for (const id of testids) {
    if ((await page.locator(`[data-testid="${id}"]`).count()) === 0) missing.push(id);
  }
  if (missing.length > 0) {
    throw new Skip(`${pathname} has no ${missing.map((m) => `[data-testid=${m}]`).join(", ")} yet`);
  }
}

/** A call to the gateway's API with the bearer token (what the CLI and TUI do). */
async function api(method, apiPath, body) {
  const res = await fetch(cfg.base + "/api/v1" + apiPath, {
    method,
    headers: Object.assign(
      { authorization: `Bearer ${cfg.token()}` },
      body === undefined ? {} : { "content-type": "application/json" },
    ),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { json = text; }
  if (!res.ok) throw new Error(`${method} ${apiPath}: ${res.status} ${text}`);
  return json;
}

/** Queues answers of the scripted model (tool names on the wire: `shell__exec`). */
async function script(turns) {
  check(cfg.llm, "this scenario needs the scripted model (PRYX_LLM)");
  const res = await fetch(cfg.llm + "/_turns", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(turns),
  });
  check(res.status === 204, `the scripted model refused the turns: ${res.status} ${await res.text()}`);
}

/**
 * A WebSocket client of the API with the bearer token (the `ws` package: Node's own WebSocket
 * cannot send headers). `next(pred)` resolves with the first event matching `pred`.
 */
async function wsClient(events) {
  const WebSocket = peer("ws");
  const sock = new WebSocket(`ws://127.0.0.1:${cfg.port}/api/v1/ws`, {
    headers: { authorization: `Bearer ${cfg.token()}` },
  });
  const seen = [];
  const waiters = [];
  sock.on("message", (data) => {
    const msg = JSON.parse(String(data));
    msg.receivedAt = performance.now();
    seen.push(msg);
    for (const w of waiters.slice()) {
      if (w.pred(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  });
  await new Promise((resolve, reject) => {
    sock.once("open", resolve);
    sock.once("error", reject);
  });
  const next = (pred, what) =>
    new Promise((resolve, reject) => {
      const hit = seen.find(pred);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`the WebSocket client never saw ${what}`)), WAIT_MS);
      waiters.push({ pred, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  sock.send(JSON.stringify({ type: "subscribe", events }));
  await next((m) => m.type === "subscribed", "`subscribed`");
  return {
    next,
    event: (name) => next((m) => m.type === "event" && m.event === name, `a ${name} event`),
    close: () => sock.close(),
  };
}

module.exports = {
  Skip, check, cfg, peer, launch, loginUrl, signIn, signedInPage, screenshot, screenshotPath,
  requireHooks, api, script, wsClient, WAIT_MS,
};
