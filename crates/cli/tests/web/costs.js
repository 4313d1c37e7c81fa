// The Costs page: a priced turn shows in every breakdown over the chosen range, the CSV download
// holds the same totals, and a bad range is refused next to the form.
"use strict";

const { check, cfg, api, script, signedInPage, requireHooks, screenshot, WAIT_MS } = require("./lib.js");

const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

async function costs(browser) {
  await script([{ text: "priced answer", usage: { input_tokens: 1200, output_tokens: 300, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 } }]);
  const session = await api("POST", "/sessions", {});
  await api("POST", `/sessions/${session.id}/messages`, { content: "what does this cost?" });
  // The spend is recorded when the model call ends.
  const deadline = Date.now() + WAIT_MS;
  let report = await api("GET", "/costs?since=7d");
  while (report.total.calls < 1) {
    check(Date.now() < deadline, `no spend recorded: ${JSON.stringify(report.total)}`);
    await new Promise((r) => setTimeout(r, 50));
    report = await api("GET", "/costs?since=7d");
  }
  check(report.total.tokens_in >= 1200 && report.total.cost_usd > 0, `the turn is not priced: ${JSON.stringify(report.total)}`);

  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/costs", ["costs-since", "costs-csv"]);
  await page.getByRole("link", { name: "7 days" }).click();
  await page.waitForURL((u) => u.searchParams.get("since") === "7d");
  const total = await byId(page, "costs-total").textContent();
  check(total.includes(`$${report.total.cost_usd.toFixed(4)}`), `the page's total differs from the API's: ${total}`);
  for (const table of ["costs-by-day", "costs-by-agent", "costs-by-model", "costs-by-session"]) {
    check((await byId(page, table).locator("tbody tr").count()) >= 1, `${table} is empty`);
  }
  check((await byId(page, "costs-by-model").textContent()).includes("mock/gpt-4o"), "the model is not listed");
  check((await byId(page, "costs-by-session").textContent()).includes(session.id), "the session is not listed");
  await screenshot(page, "costs-priced");

  // The CSV: the same total, as a download.
  const csv = await page.request.get(cfg.base + "/costs/export.csv?since=7d");
  check(csv.status() === 200, `the CSV answered ${csv.status()}`);
  check((csv.headers()["content-disposition"] || "").includes("attachment"), "the CSV is not a download");
  const lines = (await csv.text()).trim().split("\n");
  check(lines[0] === "breakdown,key,calls,tokens_in,tokens_out,cost_usd", `CSV header: ${lines[0]}`);
  const last = lines[lines.length - 1].split(",");
  check(last[0] === "total" && Number(last[5]).toFixed(4) === report.total.cost_usd.toFixed(4), `CSV total: ${lines[lines.length - 1]}`);
  check(lines.some((l) => l.startsWith("session," + session.id)), "the CSV lacks the session");

  // A range that is not one.
  await byId(page, "costs-since").fill("last week");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("alert").filter({ hasText: "YYYY-MM-DD" }).waitFor();
  await context.close();
}

module.exports = { costs };
