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

module.exports = { audit };
