// Hostile content — a model answer, a tool result and a session title carrying script, inline
// handlers, a javascript: link, SVG with script and fake approve buttons — is shown as text: no
// script runs, the link does nothing, and nothing in it can answer an approval.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { Skip, check, cfg, api, script, signedInPage, requireHooks, screenshot } = require("./lib.js");
const { send, byId } = require("./flows.js");

const PAYLOAD = [
  "<script>window.__pwned = 'script'</script>",
  "<img src=x onerror=\"window.__pwned = 'img onerror'\">",
  "[click me](javascript:window.__pwned='markdown link')",
  "<a href=\"javascript:window.__pwned='html link'\">click me too</a>",
  "<svg><script>window.__pwned = 'svg'</script><a xlink:href=\"javascript:window.__pwned='svg link'\"><text>svg</text></a></svg>",
  "<button data-testid=\"approve-once\" form=\"x\">Approve</button>",
  "<form id=\"x\" method=\"post\" action=\"/api/v1/approvals/x\"><input name=\"decision\" value=\"approve\"></form>",
  "<iframe src=\"javascript:parent.__pwned='iframe'\"></iframe>",
].join("\n");

/** What of the hostile markup made it into the page's DOM as markup (not text): inside the
 *  parts that show untrusted content (the page's own forms live outside them). */
async function domHazards(page) {
  return page.evaluate(() => {
    const found = [];
    const shown = "#transcript, #live, #chat-title, #session-list, [data-testid=\"session-row\"], [data-testid=\"assistant-message\"], [data-testid=\"tool-card\"]";
    const seen = new Set();
    for (const root of document.querySelectorAll(shown)) for (const el of [root, ...root.querySelectorAll("*")]) {
      if (seen.has(el)) continue;
      seen.add(el);
      const tag = el.tagName.toLowerCase();
      if (["script", "iframe", "form", "object", "embed"].includes(tag)) found.push(`<${tag}>`);
      for (const a of el.attributes) {
        if (a.name.startsWith("on")) found.push(`${tag}[${a.name}]`);
        if (/^\s*javascript:/i.test(a.value)) found.push(`${tag}[${a.name}=${a.value}]`);
      }
      // The page's own message actions (pin, fork) sit in the article's action line, outside
      // the rendered content (`.md`), where no message text can put anything.
      const ownAction = el.parentElement && el.parentElement.matches("article.msg > p.msg-actions")
        && (el.hasAttribute("data-pin") || el.hasAttribute("data-fork"));
      if (tag === "button" && !ownAction && el.closest('[data-testid="assistant-message"], [data-testid="tool-card"]')) found.push("button inside a message");
    }
    return { found, pwned: window.__pwned || null };
  });
}

async function hostile(browser) {
  const { context, page } = await signedInPage(browser);
  await requireHooks(page, "/chat", ["composer", "send"]);
  const violations = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  fs.writeFileSync(path.join(cfg.workspace, "hostile.md"), `${PAYLOAD}\nTOOL-RESULT-END\n`);
  await script([
    { tool_calls: [{ id: "h1", name: "fs__read", arguments: JSON.stringify({ path: "hostile.md" }) }] },
    { text: `${PAYLOAD}\nANSWER-END` },
  ]);
  await send(page, "read hostile.md");
  await byId(page, "assistant-message").filter({ hasText: "ANSWER-END" }).waitFor();
  await byId(page, "tool-card").first().waitFor();
  // The tool result may be folded away: open every card's details so its text is in the DOM.
  await page.evaluate(() => document.querySelectorAll('[data-testid="tool-card"] details').forEach((d) => { d.open = true; }));
  await screenshot(page, "hostile-chat");
  let hazards = await domHazards(page);
  check(hazards.found.length === 0, `hostile content became markup in /chat: ${hazards.found.join(", ")}`);

  // Links the markdown renderer made: none may run script when clicked.
  const before = page.url();
  for (const link of await page.locator('[data-testid="assistant-message"] a').all()) {
    await link.click({ modifiers: [] }).catch(() => {});
  }
  hazards = await domHazards(page);
  check(hazards.pwned === null, `hostile content ran script: ${hazards.pwned}`);
  check(page.url() === before || new URL(page.url()).origin === cfg.base, `a link in the answer navigated away to ${page.url()}`);

  // A hostile session title, where sessions are listed.
  const { sessions } = await api("GET", "/sessions");
  check(sessions.length > 0, "the hostile turn left no session");
  await api("PATCH", `/sessions/${sessions[0].id}`, { title: `<script>window.__pwned='title'</script><img src=x onerror="window.__pwned='title img'">` });
  await page.goto(cfg.base + "/sessions");
  if ((await byId(page, "session-row").count()) === 0) throw new Skip("/sessions has no [data-testid=session-row] yet (the chat part passed)");
  await byId(page, "session-row").filter({ hasText: "<script>" }).first().waitFor();
  await screenshot(page, "hostile-sessions");
  hazards = await domHazards(page);
  check(hazards.found.length === 0 && hazards.pwned === null, `the hostile title became markup in /sessions: ${hazards.found.join(", ")} ${hazards.pwned || ""}`);
  await context.close();
}

module.exports = { hostile };
