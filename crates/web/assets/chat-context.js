// The chat page's context parts: how full the model's window is (a meter that follows the
// session), compaction with its cost shown first, pinning messages and forking the session.
// Everything shown is text from the API, set with textContent.
"use strict";

(() => {
  const root = document.getElementById("chat");
  if (!root || !root.dataset.session) return;
  const { api } = window.pryx;
  const $ = (id) => document.getElementById(id);
  const session = root.dataset.session;
  const path = `/api/v1/sessions/${encodeURIComponent(session)}`;
  const status = $("picker-status");

  function say(text) {
    if (status) status.textContent = text;
  }

  function failure(err) {
    const body = err && err.body && err.body.error;
    return body ? body.message : String(err && err.message ? err.message : err);
  }

  function show(ctx) {
    const bar = $("context-bar");
    if (!bar) return;
    bar.hidden = false;
    const meter = $("context-meter");
    meter.low = ctx.warn_at_percent;
    meter.high = ctx.compact_at_percent;
    meter.value = Math.min(100, ctx.percent);
    const parts = [`${ctx.percent.toFixed(1)}% of ${ctx.window.toLocaleString()} tokens`];
    if (ctx.compactions > 0) parts.push(`${ctx.compactions} compaction(s)`);
    if (ctx.pinned.length > 0) parts.push(`${ctx.pinned.length} pinned`);
    if (ctx.pruned.length > 0) parts.push(`${ctx.pruned.length} old result(s) pruned`);
    $("context-label").textContent = parts.join(" · ");
    meter.title = `system ${ctx.parts.system}, tools ${ctx.parts.tools}, summary ${ctx.parts.summary}, ` +
      `pinned ${ctx.parts.pinned}, messages ${ctx.parts.history}, tool results ${ctx.parts.tool_results} tokens`;
  }

  async function refresh() {
    try {
      const ctx = await api(`${path}/context`);
      show(ctx);
      return ctx;
    } catch (_) {
      return null; // No model yet, or the session is gone: the meter stays hidden.
    }
  }

  const confirmBox = $("compact-confirm");
  $("compact")?.addEventListener("click", async () => {
    const ctx = await refresh();
    if (!ctx) return;
    if (!ctx.compaction) {
      say(ctx.compactions > 0
        ? "Nothing to compact: only the latest request came after the last compaction."
        : "Nothing to compact yet: the session holds only its latest request.");
      return;
    }
    const e = ctx.compaction;
    $("compact-text").textContent =
      `Compacting replaces ${e.messages} earlier messages with a summary written by ${e.model}: ` +
      `about ${e.input_tokens.toLocaleString()} tokens in, at most $${e.cost_usd.toFixed(4)}. ` +
      "The messages stay in the session and its exports; pinned ones are kept verbatim.";
    confirmBox.hidden = false;
    $("compact-go").focus();
  });
  $("compact-cancel")?.addEventListener("click", () => { confirmBox.hidden = true; });
  $("compact-go")?.addEventListener("click", async () => {
    const go = $("compact-go");
    go.disabled = true;
    say("Compacting…");
    try {
      const done = await api(`${path}/compact`, { method: "POST", body: {} });
      say(`Compacted ${done.messages} messages: about ${done.tokens_before.toLocaleString()} → ` +
        `${done.tokens_after.toLocaleString()} tokens ($${done.cost_usd.toFixed(4)}).`);
      confirmBox.hidden = true;
    } catch (err) {
      say(`Could not compact: ${failure(err)}`);
    } finally {
      go.disabled = false;
      refresh();
    }
  });

  async function fork(messageId) {
    say("Forking…");
    try {
      const child = await api(`${path}/fork`, { method: "POST", body: messageId ? { message_id: messageId } : {} });
      window.location.assign(`/chat/${encodeURIComponent(child.id)}`);
    } catch (err) {
      say(`Could not fork: ${failure(err)}`);
    }
  }
  $("fork")?.addEventListener("click", () => fork(null));

  document.getElementById("transcript")?.addEventListener("click", async (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest("button[data-pin], button[data-fork]") : null;
    if (!target) return;
    if (target.dataset.fork) { fork(target.dataset.fork); return; }
    const pinned = target.dataset.pinned === "true";
    try {
      await api(`${path}/messages/${encodeURIComponent(target.dataset.pin)}/pin`, { method: pinned ? "DELETE" : "PUT" });
      target.dataset.pinned = String(!pinned);
      target.textContent = pinned ? "Pin" : "Unpin";
      target.setAttribute("aria-label", target.getAttribute("aria-label").replace(pinned ? "Unpin" : "Pin", pinned ? "Pin" : "Unpin"));
      target.closest("article")?.classList.toggle("pinned", !pinned);
      say(pinned ? "Unpinned." : "Pinned: this message reaches the model verbatim through compaction.");
      refresh();
    } catch (err) {
      say(`Could not ${pinned ? "unpin" : "pin"}: ${failure(err)}`);
    }
  });

  // Background processes: listed with their last lines, followed every 2 s while one runs.
  const { el } = window.pryx;
  let following = null;
  async function processes() {
    let list;
    try {
      list = (await api(`${path}/processes`)).processes;
    } catch (_) {
      return;
    }
    const box = $("processes");
    if (!box) return;
    box.hidden = list.length === 0;
    const running = list.filter((p) => p.running).length;
    $("processes-summary").textContent =
      `Background processes: ${list.length}` + (running ? ` (${running} running)` : "");
    const items = list.map((p) => {
      const lines = p.stdout_tail.concat(p.stderr_tail.map((l) => `! ${l}`));
      return el("div", { class: "process", "data-process": p.id },
        el("p", {}, `${p.id} · ${p.status} · ${p.command}`),
        el("pre", {}, lines.join("\n") || "(no output yet)"));
    });
    $("processes-list").replaceChildren(...items);
    clearTimeout(following);
    if (running) following = setTimeout(processes, 2000);
  }

  // chat.js says when a turn ends or the context changes.
  document.addEventListener("pryx:context", () => { refresh(); processes(); });
  // While a turn starts, its stream comes first: the end of the turn brings both.
  if (root.dataset.busy !== "true") {
    refresh();
    processes();
  }
})();
