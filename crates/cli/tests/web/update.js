// Updates on the dashboard: after a rollback, every page's banner says so with the reason, once
// (the core is told it was shown, so the TUI does not show it again); a newer release a
// background check found is announced instead from then on.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { check, cfg, api, signedInPage, screenshot } = require("./lib.js");

async function update_banner(browser) {
  // What `pryx update` leaves after a release that did not start.
  const dir = path.join(cfg.home, "update");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const rollback = {
    at: "2026-12-02T10:00:00Z", from: "0.1.0", to: "0.2.0", channel: "stable",
    outcome: "rolled_back", detail: "the new core was not ready within 15 s", notes: "",
  };
  fs.writeFileSync(path.join(dir, "history.jsonl"), JSON.stringify(rollback) + "\n", { mode: 0o600 });
  let status = await api("GET", "/update");
  check(status.unseen && status.last.outcome === "rolled_back", `GET /update: ${JSON.stringify(status)}`);

  // The first page after signing in shows it.
  const { context, page } = await signedInPage(browser);
  const banner = page.locator("#update-banner");
  await banner.filter({ hasText: "The update to Pryx 0.2.0 was rolled back: the new core was not ready within 15 s" }).waitFor();
  await screenshot(page, "update-rollback-banner");
  // Shown once: the page told the core before showing it.
  status = await api("GET", "/update");
  check(!status.unseen, "the rollback is still unseen after the page showed it");

  // From now on only a newer release is announced (never the rollback again).
  fs.writeFileSync(path.join(dir, "available.json"),
    JSON.stringify({ version: "99.0.0", channel: "stable", checked_at: "2026-12-02T11:00:00Z" }), { mode: 0o600 });
  await page.goto(cfg.base + "/sessions");
  await banner.filter({ hasText: "Pryx 99.0.0 is available: run `pryx update`." }).waitFor();
  check(!(await banner.textContent()).includes("rolled back"), "the rollback was shown twice");
  await banner.getByRole("button", { name: "Dismiss" }).click();
  await banner.waitFor({ state: "detached" });
  await context.close();
}

module.exports = { update_banner };
