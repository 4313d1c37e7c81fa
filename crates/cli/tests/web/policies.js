// The Policies page: the "would this be allowed?" tester answers every case of the policy engine's
// escape suite (the shared table in crates/policy/tests/judging/escape_cases.json) as the engine's
// own tests expect, and as POST /api/v1/policy/check does; a policy file is saved from the YAML
// editor only once the engine's parser accepts it, and the tester then judges by it.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { check, cfg, api, signedInPage, screenshot } = require("./lib.js");

const TABLE = path.join(__dirname, "../../../policy/tests/judging/escape_cases.json");

/** The table's layout in the core's workspace: links out of it to a folder beside it. */
function layout(table) {
  const ws = cfg.workspace;
  const root = path.dirname(ws);
  const outside = path.join(root, "escape-outside");
  const fill = (s) => s.replaceAll("{outside}", outside).replaceAll("{root}", root);
  const at = (p) => (path.isAbsolute(fill(p)) ? fill(p) : path.join(ws, p));
  fs.mkdirSync(outside, { recursive: true });
  for (const [file, text] of Object.entries(table.layout.files)) {
    fs.mkdirSync(path.dirname(at(file)), { recursive: true });
    fs.writeFileSync(at(file), text);
  }
  for (const [link, target] of Object.entries(table.layout.symlinks)) {
    fs.mkdirSync(path.dirname(at(link)), { recursive: true });
    fs.rmSync(at(link), { force: true });
    fs.symlinkSync(fill(target), at(link));
  }
  for (const [link, target] of Object.entries(table.layout.hardlinks)) {
    fs.rmSync(at(link), { force: true });
    fs.linkSync(fill(target), at(link));
  }
  return (value) => JSON.parse(JSON.stringify(value).replaceAll("{outside}", outside));
}

async function ask(page, tool, args, policy) {
  await page.locator('[data-testid="tester-tool"]').fill(tool);
  await page.locator('[data-testid="tester-arguments"]').fill(JSON.stringify(args));
  await page.locator('[data-testid="tester-policy"]').selectOption(policy);
  const answered = page.waitForResponse((r) => r.url().endsWith("/policies/check") && r.request().method() === "POST");
  await page.locator('[data-testid="tester-check"]').click();
  await answered;
  await page.waitForLoadState("domcontentloaded");
  const result = page.locator('[data-testid="tester-result"]');
  const decision = result.locator("[data-action]");
  if ((await decision.count()) === 0) throw new Error(`${tool} ${JSON.stringify(args)}: no decision: ${await result.textContent()}`);
  return {
    action: await decision.getAttribute("data-action"),
    rule: (await result.locator('[data-testid="tester-rule"]').textContent()).trim(),
  };
}

async function policies(browser) {
  const table = JSON.parse(fs.readFileSync(TABLE, "utf8"));
  const fill = layout(table);
  const { context, page } = await signedInPage(browser);
  await page.goto(cfg.base + "/policies");
  check((await page.locator("[data-policy]").count()) >= 3, "the built-in policies are not listed");

  const wrong = [];
  for (const c of table.cases) {
    const args = fill(c.arguments);
    const shown = await ask(page, c.tool, args, "workspace-only");
    const engine = await api("POST", "/policy/check", { tool: c.tool, arguments: args, policy: "workspace-only" });
    if (shown.action !== engine.action || shown.rule !== engine.rule) {
      wrong.push(`${c.name}: the page says ${shown.action} (${shown.rule}), the API ${engine.action} (${engine.rule})`);
    }
    const ok = c.expect === "deny" ? shown.action === "deny" : shown.action !== "allow";
    if (!ok) wrong.push(`${c.name}: expected ${c.expect}, the tester says ${shown.action} by ${shown.rule}`);
  }
  check(wrong.length === 0, `the tester disagrees with the escape suite:\n${wrong.join("\n")}`);
  check(table.cases.length >= 120, `only ${table.cases.length} cases`);
  await screenshot(page, "policies-tester");

  // Ordinary work is allowed; the answer names the rule.
  const read = await ask(page, "fs.read", { path: "src/main.rs" }, "workspace-only");
  check(read.action === "allow", `reading a workspace file: ${JSON.stringify(read)}`);

  // A policy file from the YAML editor: refused until it parses, then listed and used.
  const form = page.locator('[data-testid="policy-new"]');
  await form.locator('[data-testid="policy-name"]').fill("no-shell");
  await form.locator('[data-testid="policy-yaml"]').fill("name: no-shell\ntools:\n  deny: [shell.exec\n");
  await form.locator('[data-testid="policy-save"]').click();
  await page.locator("#new-policy-error").waitFor();
  check(!fs.existsSync(path.join(cfg.home, "policies/no-shell.yaml")), "a policy that does not parse was written");
  await page.locator('[data-testid="policy-yaml"]').fill("name: no-shell\ntools:\n  denied: [shell.exec]\n");
  await page.locator('[data-testid="policy-save"]').click();
  await page.waitForURL((u) => u.searchParams.get("saved") === "no-shell");
  check(fs.existsSync(path.join(cfg.home, "policies/no-shell.yaml")), "the policy file was not written");
  const denied = await ask(page, "shell.exec", { command: "ls" }, "no-shell");
  check(denied.action === "deny" && denied.rule.includes("no-shell"), `the saved policy is not used: ${JSON.stringify(denied)}`);
  await screenshot(page, "policies");

  // The form view: a copy of a built-in, one rule added, saved under a new name and used.
  await page.goto(cfg.base + "/policies/edit?name=read-only");
  const pf = page.locator('[data-testid="policy-form"]');
  await pf.locator('[name="name"]').fill("read-only");
  await pf.locator('[data-testid="policy-form-save"]').click();
  check((await page.locator('[data-testid="policy-form-error"]').textContent()).includes("built in"), "a built-in's name was accepted");
  await pf.locator('[name="name"]').fill("no-web");
  await pf.locator('[data-testid="policy-form-denied"]').fill("http.request");
  await screenshot(page, "policy-form");
  await pf.locator('[data-testid="policy-form-save"]').click();
  await page.waitForURL((u) => u.searchParams.get("saved") === "no-web");
  const web = await ask(page, "http.request", { url: "https://example.com/" }, "no-web");
  check(web.action === "deny" && web.rule.includes("no-web"), `the form's policy is not used: ${JSON.stringify(web)}`);
  const yaml = fs.readFileSync(path.join(cfg.home, "policies/no-web.yaml"), "utf8");
  check(yaml.includes("http.request") && yaml.includes("name: no-web"), `the saved YAML: ${yaml}`);

  // The same list as JSON; a file nothing uses is removed from the page, audited.
  const listed = (await api("GET", "/policies")).policies.map((p) => p.name);
  check(listed.includes("no-web") && listed.includes("no-shell") && listed.includes("read-only"), `GET /policies: ${listed}`);
  const entry = page.locator('[data-policy="no-web"]');
  await entry.locator("summary").click();
  await entry.getByRole("button", { name: "Remove policy no-web" }).click();
  await page.waitForURL((u) => u.searchParams.get("removed") === "no-web");
  check(!fs.existsSync(path.join(cfg.home, "policies/no-web.yaml")), "the removed policy file is still there");
  const audit = await api("GET", "/audit?action=policy.&limit=20");
  check(audit.entries.some((e) => e.action === "policy.removed" && e.resource_id === "no-web"), "the removal was not audited");
  await context.close();
}

module.exports = { policies };
