// The Audit page: settings changed through the API appear as entries with their actor and
// details; the filters narrow the list (and agree with GET /api/v1/audit); a bad number is
// refused next to the form; verification says the log is intact.
"use strict";

const { check, cfg, api, signedInPage, requireHooks, screenshot } = require("./lib.js");

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

async function audit(browser) {
  await api("PUT", "/policy", { name: "read-only" });
  await api("PUT", "/policy", { name: "workspace-only" });
  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/audit", ["audit-table", "audit-action"]);
  const rows = byId(page, "audit-row");
  check((await rows.count()) >= 2, `the two policy changes are not listed: ${await rows.count()} rows`);

  // Filter by action: only policy changes, the same ones the API lists.
  await byId(page, "audit-action").fill("policy.");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL((u) => u.searchParams.get("action") === "policy.");
  const shown = await rows.allTextContents();
  check(shown.length === 2, `policy. shows ${shown.length} rows`);
  for (const text of shown) {
    check(text.includes("policy.changed") && text.includes("api"), `a row is not a policy change by the API: ${text}`);
  }
  const listed = await api("GET", "/audit?action=policy.");
  check(listed.entries.length === shown.length, `the API lists ${listed.entries.length}, the page ${shown.length}`);
  await rows.first().locator("summary").click();
  const details = await rows.first().locator("pre").textContent();
  check(details.includes('"to": "read-only"'), `the details do not say what changed: ${details}`);
  await screenshot(page, "audit-filtered");

  // Nothing matches: said so. A bad number: said next to the form, nothing listed.
  await page.goto(cfg.base + "/audit?outcome=no-such-outcome");
  await page.getByText("No entries match these filters").waitFor();
  await page.goto(cfg.base + "/audit?limit=lots");
  await page.getByRole("alert").filter({ hasText: "a number from 1 to 1000" }).waitFor();

  // Verification of the whole log.
  await page.goto(cfg.base + "/audit");
  await page.getByRole("link", { name: "verify" }).click();
  await page.waitForURL((u) => u.pathname === "/audit/verify");
  const result = page.getByRole("status");
  await result.filter({ hasText: "The audit log verifies" }).waitFor();
  check((await result.textContent()).includes("rows checked"), "the verification does not say what it checked");
  await screenshot(page, "audit-verified");
  await context.close();
}

/** Diagnostics: the doctor's checks as `pryx doctor --json` gives them, each problem with its fix. */
async function diagnostics(browser) {
  const { execFileSync } = require("node:child_process");
  let cli;
  try {
    cli = execFileSync(cfg.bin, ["doctor", "--json"], { env: { ...process.env, PRYX_HOME: cfg.home }, encoding: "utf8" });
  } catch (e) {
    cli = e.stdout; // a failed check exits 1 with the report
  }
  const names = JSON.parse(cli).map((c) => c.name).sort();
  const { context, page } = await signedInPage(browser);
  await page.goto(cfg.base + "/diagnostics");
  await page.locator('[data-testid="doctor-summary"]').waitFor();
  const rows = page.locator("tr[data-check]");
  const shown = (await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.check))).sort();
  check(JSON.stringify(shown) === JSON.stringify(names), `the page shows ${shown} but pryx doctor checks ${names}`);
  for (const tr of await rows.all()) {
    const status = await tr.getAttribute("data-status");
    const fix = (await tr.locator("td").nth(3).textContent()).trim();
    if (status !== "ok") check(fix.length > 0, `${await tr.getAttribute("data-check")} is ${status} without a fix`);
  }
  const report = await api("GET", "/doctor");
  check(report.checks.length === names.length, `GET /doctor has ${report.checks.length} checks`);
  await screenshot(page, "diagnostics-checks");
  await context.close();
}

module.exports = { audit, diagnostics };
