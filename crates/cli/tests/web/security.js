// The browser-side defences: the CSP blocks injected script, scripts cannot read the session
// cookie, another origin cannot post to the dashboard or open its WebSocket, and the API token
// never reaches anything the browser loads.
"use strict";

const http = require("node:http");
const { check, cfg, api, signedInPage, screenshot } = require("./lib.js");
const { PAGES } = require("./shell.js");

/** A page on another local port (another origin, the same site) that attacks the dashboard. */
function attackerSite() {
  const target = cfg.base;
  const html = `<!doctype html><html><head><title>attacker</title></head><body>
<form id="f" method="post" action="${target}/logout"><input name="_csrf" value="guess"></form>
<script>
window.results = {};
window.attack = async () => {
  const r = window.results;
  try {
    await fetch("${target}/api/v1/sessions", { method: "POST", mode: "no-cors", credentials: "include",
      headers: { "content-type": "text/plain" }, body: JSON.stringify({ title: "cross-origin" }) });
    r.fetch = "sent";
  } catch (e) { r.fetch = "error: " + e.message; }
  r.ws = await new Promise((resolve) => {
    const ws = new WebSocket("${target.replace("http", "ws")}/api/v1/ws");
    ws.onopen = () => resolve("open");
    ws.onclose = (e) => resolve("closed " + e.code);
  });
  return r;
};
</script></body></html>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(html);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function security(browser) {
  const token = cfg.token();
  check(token.length >= 32, "the data dir's token file is empty");
  const { context, page } = await signedInPage(browser);

  // Everything the browser loads, scanned for the token.
  const leaks = [];
  const scans = [];
  context.on("response", (res) => {
    scans.push(
      res.body().then(
        (b) => { if (b.toString("latin1").includes(token)) leaks.push(res.url()); },
        () => {},
      ),
    );
  });

  for (const [, pathname] of PAGES) {
    const res = await page.goto(cfg.base + pathname);
    const csp = res.headers()["content-security-policy"] || "";
    check(csp.includes("script-src 'self'") && csp.includes("default-src 'none'") && csp.includes("frame-ancestors 'none'"),
      `${pathname} has no strict CSP: ${JSON.stringify(csp)}`);
    check(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), `${pathname}'s CSP allows inline script or eval: ${csp}`);
    await page.waitForLoadState("load");
  }

  // Injected inline script and inline handlers are blocked and reported, and run nothing.
  const blocked = await page.evaluate(async () => {
    const violations = [];
    const seen = new Promise((resolve) => {
      document.addEventListener("securitypolicyviolation", (e) => {
        violations.push(`${e.violatedDirective}`);
        if (violations.length === 2) resolve();
      });
    });
    const s = document.createElement("script");
    s.textContent = "window.__pwned = 'inline script';";
    document.body.append(s);
    const holder = document.createElement("div");
    holder.innerHTML = '<img src="data:," onerror="window.__pwned = \'inline handler\'">';
    document.body.append(holder);
    await seen;
    return { violations, pwned: window.__pwned || null };
  });
  check(blocked.pwned === null, `injected script ran: ${blocked.pwned}`);
  check(blocked.violations.every((v) => v.startsWith("script-src")), `unexpected violations: ${blocked.violations}`);
  check(!(await page.evaluate(() => document.cookie)).includes(`pryx_session_${cfg.port}`), "document.cookie shows the session cookie");

  // The dashboard's own page may open the WebSocket with its cookie (control for the refusal below).
  const ownWs = await page.evaluate((port) => new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onclose = (e) => resolve(`closed ${e.code}`);
  }), cfg.port);
  check(ownWs === "open", `the dashboard's own page cannot open the WebSocket: ${ownWs}`);

  // The dashboard's own scripts may change things (control for the refusals below): a POST with
  // the cookie and the CSRF token, as pryx.api sends it.
  const count = async () => (await api("GET", "/sessions")).sessions.length;
  const initial = await count();
  const own = await page.evaluate(() => window.pryx.api("/api/v1/sessions", { method: "POST", body: { title: "own page" } })
    .then(() => "created", (e) => `refused: ${e.status} ${e.message}`));
  check(own === "created", `the dashboard's own page cannot POST to the API: ${own}`);
  check((await count()) === initial + 1, "the dashboard's own POST created no session");

  // Another origin (another port on 127.0.0.1: same site, so the SameSite cookie is sent).
  const before = await count();
  const attacker = await attackerSite();
  try {
    const evil = await context.newPage();
    const evilUrl = `http://127.0.0.1:${attacker.address().port}/`;
    await evil.goto(evilUrl);
    const refused = [];
    evil.on("response", (r) => { if (r.url().startsWith(cfg.base)) refused.push([r.url(), r.status()]); });
    const postAnswer = evil.waitForResponse((r) => r.url() === `${cfg.base}/api/v1/sessions`);
    const results = await evil.evaluate(() => window.attack());
    const answer = await postAnswer;
    check(answer.status() === 403, `a cross-origin POST to the API answered ${answer.status()}, not 403`);
    check(results.ws !== "open", "a page of another origin opened the dashboard's WebSocket");
    const formAnswer = evil.waitForResponse((r) => r.url() === `${cfg.base}/logout`);
    await evil.evaluate(() => document.getElementById("f").submit());
    const logout = await formAnswer;
    check(logout.status() === 403, `a cross-origin form POST to /logout answered ${logout.status()}, not 403`);
    await screenshot(evil, "cross-origin-refused");
    await evil.close();
  } finally {
    attacker.close();
  }
  check((await count()) === before, "a cross-origin POST created a session");
  const still = await page.goto(cfg.base + "/settings");
  check(still.status() === 200, `the cross-origin form signed the browser out (${still.status()})`);

  await Promise.all(scans);
  check(scans.length >= PAGES.length, `only ${scans.length} responses were scanned`);
  check(leaks.length === 0, `the API token appears in what the browser loaded: ${leaks.join(", ")}`);
  await context.close();
}

module.exports = { security };
