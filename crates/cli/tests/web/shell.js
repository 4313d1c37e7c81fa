// Scenarios on what every page has today: signing in and out, revoking a browser, accessibility
// (axe-core) and the narrow layout, on every page.
"use strict";

const fs = require("node:fs");
const { check, cfg, peer, signIn, signedInPage, screenshot, WAIT_MS } = require("./lib.js");

/** Every page a signed-in browser can open, by screenshot name. */
const PAGES = [
  ["chat", "/chat"],
  ["sessions", "/sessions"],
  ["approvals", "/approvals"],
  ["integrations", "/integrations"],
  ["tasks", "/tasks"],
  ["costs", "/costs"],
  ["audit", "/audit"],
  ["welcome", "/welcome"],
  ["policies-page", "/policies"],
  ["diagnostics", "/diagnostics"],
  ["settings", "/settings"],
  ["settings-providers-page", "/settings/providers"],
  ["settings-channels-page", "/settings/channels"],
];

const cookieName = () => `pryx_session_${cfg.port}`;

/** Clicks a form's submit button and checks the POST was accepted (answered with a redirect). */
async function submit(page, button, what) {
  const answer = page.waitForResponse((r) => r.request().method() === "POST");
  await button.click();
  const res = await answer;
  if (res.status() !== 303) {
    const origin = await res.request().headerValue("origin");
    const body = (await res.text()).slice(0, 200);
    check(false, `${what}: the form's POST to ${new URL(res.url()).pathname} answered ${res.status()} (Origin sent: ${origin}): ${body}`);
  }
}

async function signedOut(page) {
  await page.getByRole("heading", { name: "Sign in to Pryx" }).waitFor();
}

/** Login link → cookie → code gone from the address bar; a used link, logout, revocation. */
async function login(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const { url, landed, hops } = await signIn(page);
  const code = new URL(url).searchParams.get("code");
  check(!landed.includes(code) && !landed.includes("code="), `the login code stayed in the address bar: ${landed}`);
  check(hops[0] === url && new URL(hops[1]).pathname === "/" && !hops[1].includes("?"), `the login link did not redirect to / (hops: ${hops.join(" → ")})`);
  check(["/chat", "/welcome"].includes(new URL(landed).pathname), `after login the browser is at ${landed}, not the chat or the onboarding`);
  await screenshot(page, "login-landed");

  const cookies = await context.cookies(cfg.base);
  const session = cookies.find((c) => c.name === cookieName());
  check(session, `no ${cookieName()} cookie after login: ${JSON.stringify(cookies.map((c) => c.name))}`);
  check(session.httpOnly, "the session cookie is not HttpOnly");
  check(session.sameSite === "Strict", `the session cookie is SameSite=${session.sameSite}, not Strict`);
  check(session.path === "/", `the session cookie's path is ${session.path}`);
  check(!(await page.evaluate(() => document.cookie)).includes(cookieName()), "scripts can read the session cookie");

  // The same link a second time, from another browser: refused with the sign-in page.
  const other = await browser.newContext();
  const thief = await other.newPage();
  thief.setDefaultTimeout(WAIT_MS);
  const reused = await thief.goto(url);
  check(reused.status() === 401, `a used login link answered ${reused.status()}, not 401`);
  await signedOut(thief);
  check((await thief.textContent("main")).includes("used, expired"), "the used link's page does not say the link is used");
  check(!(await other.cookies(cfg.base)).some((c) => c.name === cookieName()), "a used login link still set a cookie");
  await screenshot(thief, "login-reused-link");
  await other.close();

  // Sign out from the header: the cookie is gone and the pages ask to sign in.
  await submit(page, page.getByRole("button", { name: "Sign out" }).first(), "signing out from the header");
  await signedOut(page);
  check(!(await context.cookies(cfg.base)).some((c) => c.name === cookieName()), "signing out left the cookie");
  const after = await page.goto(cfg.base + "/settings");
  check(after.status() === 401, `/settings after sign-out answered ${after.status()}`);
  await signedOut(page);
  await screenshot(page, "signed-out");

  // Settings lists this browser and a second one; revoke the second, then this one.
  await signIn(page);
  const second = await signedInPage(browser, { userAgent: "SecondBrowser/1.0" });
  await page.goto(cfg.base + "/settings");
  const rows = page.locator("table.list tbody tr");
  await rows.nth(1).waitFor();
  check((await rows.count()) === 2, `settings lists ${await rows.count()} browsers, not 2`);
  const mine = rows.filter({ hasText: "(this browser)" });
  check((await mine.count()) === 1, "settings does not mark this browser");
  const ua = await page.evaluate(() => navigator.userAgent);
  check((await mine.textContent()).includes(ua.slice(0, 40)), "this browser's row does not show its user agent");
  await screenshot(page, "settings-two-browsers");
  await submit(page, rows.filter({ hasText: "SecondBrowser/1.0" }).getByRole("button", { name: "Sign out" }), "revoking another browser");
  await page.waitForURL(cfg.base + "/settings");
  await rows.first().waitFor();
  check((await rows.count()) === 1, "the revoked browser is still listed");
  const revoked = await second.page.goto(cfg.base + "/chat");
  check(revoked.status() === 401, `the revoked browser still opens /chat (${revoked.status()})`);
  await signedOut(second.page);
  await second.context.close();

  await submit(page, mine.getByRole("button", { name: "Sign out" }), "revoking this browser");
  await signedOut(page);
  const gone = await page.goto(cfg.base + "/settings");
  check(gone.status() === 401, `revoking this browser left it signed in (${gone.status()})`);
  await context.close();
}

/** axe-core on every page (light and dark): no serious or critical violation. */
async function accessibility(browser) {
  const axeSource = fs.readFileSync(peer.resolve("axe-core/axe.min.js"), "utf8");
  const failures = [];
  for (const scheme of ["light", "dark"]) {
    const { context, page } = await signedInPage(browser, { colorScheme: scheme });
    const anonymous = await browser.newPage({ colorScheme: scheme });
    anonymous.setDefaultTimeout(WAIT_MS);
    const targets = [["sign-in", anonymous, "/"], ...PAGES.map(([n, p]) => [n, page, p])];
    for (const [name, tab, pathname] of targets) {
      await tab.goto(cfg.base + pathname);
      await tab.waitForLoadState("load");
      // Evaluated through the DevTools protocol, so the page's CSP stays on for the page itself.
      await tab.evaluate(axeSource);
      const violations = await tab.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ["violations"] });
        return r.violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
      });
      for (const v of violations) {
        failures.push(`${pathname} (${scheme}): ${v.id} [${v.impact}] ${v.help} at ${v.targets.join(", ")}`);
      }
      await screenshot(tab, scheme === "light" ? name : `${name}-dark`);
    }
    await anonymous.close();
    await context.close();
  }
  check(failures.length === 0, `axe found serious or critical violations:\n  ${failures.join("\n  ")}`);
}

/** At 360 px wide no page scrolls sideways. */
async function narrow_layout(browser) {
  const viewport = { width: 360, height: 740 };
  const { context, page } = await signedInPage(browser, { viewport, isMobile: true, hasTouch: true });
  const anonymous = await browser.newPage({ viewport });
  const failures = [];
  for (const [name, tab, pathname] of [["sign-in", anonymous, "/"], ...PAGES.map(([n, p]) => [n, page, p])]) {
    await tab.goto(cfg.base + pathname);
    await tab.waitForLoadState("load");
    const { scroll, inner, widest } = await tab.evaluate(() => {
      const inner = window.innerWidth;
      let widest = "";
      for (const el of document.querySelectorAll("body *")) {
        const r = el.getBoundingClientRect();
        if (r.right > inner + 0.5) { widest = `${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""} (right edge ${Math.round(r.right)} px)`; break; }
      }
      return { scroll: document.documentElement.scrollWidth, inner, widest };
    });
    if (scroll > inner) failures.push(`${pathname}: ${scroll} px wide in a ${inner} px window; first overflowing element: ${widest || "?"}`);
    await screenshot(tab, `${name}-360`);
  }
  await anonymous.close();
  await context.close();
  check(failures.length === 0, `pages scroll sideways at 360 px:\n  ${failures.join("\n  ")}`);
}

module.exports = { login, accessibility, narrow_layout, PAGES };
