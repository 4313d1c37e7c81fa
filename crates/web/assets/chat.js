// The chat page's live parts: the event socket (resumed by version after a reconnect), the live
// answer bubble (plain text), tool cards, sending and stopping, the model
// and policy pickers and the long-running indicator. Untrusted text only ever goes into
// textContent; the only HTML inserted is the transcript fragment the server rendered.
"use strict";

(() => {
  const root = document.getElementById("chat");
  if (!root) return;
  const { api, el } = window.pryx;
  const $ = (id) => document.getElementById(id);

  const state = {
    session: root.dataset.session || "",
    lastVersion: 0,
    turn: root.dataset.turn || "",
    busy: root.dataset.busy === "true",
    startedAt: 0,
    step: "Thinking…",
    longShown: false,
    ws: null,
    backoff: 1000,
    sending: false,
  };

  const transcript = $("transcript");
  const live = $("live");
  const composer = $("composer");
  const sendBtn = $("send");
  const stopBtn = $("stop");

  // ---- small helpers -------------------------------------------------------------------

  function readVersion() {
    const body = $("transcript-body");
    const v = body ? Number(body.dataset.lastVersion || "0") : 0;
    if (v > state.lastVersion) state.lastVersion = v;
  }

  function scrollToEnd() {
    const atEnd = window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
    if (atEnd) window.scrollTo(0, document.body.scrollHeight);
  }

  /** An error shown whole, in the transcript, announced; stays until the transcript reloads. */
  function showError(message, keep) {
    const p = el("p", { class: "notice error", role: "alert" }, message);
    if (keep) p.dataset.keep = "true";
    live.append(p);
    scrollToEnd();
    return p;
  }

  function showNotice(message) {
    live.append(el("p", { class: "notice", role: "status" }, message));
    scrollToEnd();
  }

  function errorText(err) {
    const code = err.body && err.body.error && err.body.error.code;
    return code ? `${err.message} (${code})` : err.message;
  }

  // ---- code copy buttons ---------------------------------------------------------------

  function addCopyButtons(scope) {
    scope.querySelectorAll(".md pre").forEach((pre) => {
      if (pre.parentElement && pre.parentElement.classList.contains("code-wrap")) return;
      const wrap = el("div", { class: "code-wrap" });
      pre.replaceWith(wrap);
      const btn = el("button", { type: "button", class: "secondary copy-btn" }, "Copy");
      btn.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(pre.textContent);
          btn.textContent = "Copied";
        } catch (_) {
          btn.textContent = "Copy failed";
        }
        setTimeout(() => { btn.textContent = "Copy"; }, 1500);
      });
      wrap.append(btn, pre);
    });
  }

  // ---- sidebar -------------------------------------------------------------------------

  const toggle = $("sidebar-toggle");
  const sidebar = $("chat-sidebar");
  if (toggle && sidebar) {
    toggle.addEventListener("click", () => {
      const open = !sidebar.classList.contains("open");
      sidebar.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  function chosenAgent() {
    const pick = $("new-chat-agent");
    return pick && pick.value ? pick.value : undefined;
  }

  async function createSession() {
    const body = {};
    const agent = chosenAgent();
    if (agent) body.agent = agent;
    return api("/api/v1/sessions", { method: "POST", body });
  }

  const newChat = $("new-chat-form");
  if (newChat) {
    newChat.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const s = await createSession();
        window.location.assign(`/chat/${encodeURIComponent(s.id)}`);
      } catch (err) {
        showError(`Cannot start a chat: ${errorText(err)}`, true);
      }
    });
  }

  // ---- busy state and the long-running indicator -----------------------------------------

  const indicator = $("turn-indicator");
  const notifyBtn = $("notify-me");
  let ticker = null;

  function setStep(text) {
    state.step = text;
    $("turn-step").textContent = text;
  }

  function tick() {
    const secs = Math.floor((Date.now() - state.startedAt) / 1000);
    if (secs >= 10 && !state.longShown) {
      state.longShown = true;
      indicator.hidden = false;
      if ("Notification" in window && Notification.permission === "default") notifyBtn.hidden = false;
    }
    const m = Math.floor(secs / 60);
    $("turn-elapsed").textContent = m > 0 ? `${m} min ${secs % 60} s` : `${secs} s`;
  }

  function setBusy(busy) {
    state.busy = busy;
    stopBtn.hidden = !busy;
    sendBtn.disabled = busy;
    if (busy) {
      if (!ticker) {
        state.startedAt = Date.now();
        state.longShown = false;
        ticker = setInterval(tick, 1000);
      }
    } else {
      if (ticker) clearInterval(ticker);
      ticker = null;
      indicator.hidden = true;
      notifyBtn.hidden = true;
      setStep("Thinking…");
    }
  }

  notifyBtn.addEventListener("click", async () => {
    try {
      await Notification.requestPermission();
    } finally {
      notifyBtn.hidden = true;
    }
  });

  function notifyDone(text) {
    if (!state.longShown || !("Notification" in window) || Notification.permission !== "granted") return;
    try {
      new Notification("Pryx", { body: text });
    } catch (_) { /* some browsers only notify from a service worker */ }
  }

  // ---- sending and stopping --------------------------------------------------------------

  async function send() {
    const text = composer.value;
    if (!text.trim() || state.sending || state.busy) return;
    state.sending = true;
    sendBtn.disabled = true;
    try {
      let fresh = false;
      if (!state.session) {
        const s = await createSession();
        state.session = s.id;
        fresh = true;
      }
      const res = await api(`/api/v1/sessions/${encodeURIComponent(state.session)}/messages`, {
        method: "POST",
        body: { content: text },
      });
      composer.value = "";
      if (fresh) {
        window.location.assign(`/chat/${encodeURIComponent(state.session)}`);
        return;
      }
      state.turn = res.turn_id;
      setBusy(true);
    } catch (err) {
      showError(`Not sent: ${errorText(err)}. Your message is still in the box.`, true);
    } finally {
      state.sending = false;
      sendBtn.disabled = state.busy;
    }
  }

  $("composer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  composer.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });

  async function stop() {
    if (!state.turn) {
      showError("This turn was started elsewhere and its id is unknown here; reload the page to stop it.");
      return;
    }
    try {
      await api(`/api/v1/turns/${encodeURIComponent(state.turn)}/cancel`, { method: "POST" });
      setStep("Stopping…");
    } catch (err) {
      showError(`Cannot stop the turn: ${errorText(err)}`);
    }
  }
  stopBtn.addEventListener("click", stop);
  $("indicator-stop").addEventListener("click", stop);

  // ---- live transcript -----------------------------------------------------------------

  let liveBubble = null;

  function bubble() {
    if (liveBubble) return liveBubble;
    const text = el("div", { class: "live-text" });
    const node = el("article", { class: "msg assistant live", "data-testid": "assistant-live", "aria-label": "Assistant (writing)" }, text);
    live.append(node);
    liveBubble = { node, text, reasoning: null };
    return liveBubble;
  }

  function onDelta(p) {
    const b = bubble();
    if (typeof p.text === "string") b.text.textContent += p.text;
    if (typeof p.reasoning === "string") {
      if (!b.reasoning) {
        b.reasoning = el("pre");
        b.node.prepend(el("details", { class: "reasoning" }, el("summary", {}, "Reasoning"), b.reasoning));
      }
      b.reasoning.textContent += p.reasoning;
    }
    scrollToEnd();
  }

  function messageText(content) {
    const parts = content && Array.isArray(content.content) ? content.content : [];
    return parts.filter((x) => x.type === "text").map((x) => x.text).join("");
  }

  function onMessage(p) {
    if (p.role === "user") {
      live.append(el("article", { class: "msg user", "aria-label": "You" }, el("div", { class: "live-text" }, messageText(p.content))));
    } else if (p.role === "assistant") {
      // This step's answer is stored: the bubble keeps its text and a new one starts.
      const b = bubble();
      b.text.textContent = messageText(p.content);
      b.node.removeAttribute("data-testid");
      b.node.classList.remove("live");
      liveBubble = null;
    }
    scrollToEnd();
  }

  function card(id) {
    return live.querySelector(`.tool-card[data-tool-call-id="${CSS.escape(id)}"]`) ||
      transcript.querySelector(`.tool-card[data-tool-call-id="${CSS.escape(id)}"]`);
  }

  function setCardStatus(node, status, extra) {
    const s = node.querySelector(".tool-status");
    s.textContent = status;
    s.dataset.status = status;
    if (extra) {
      const d = el("span", { class: "tool-duration" }, extra);
      s.after(" ", d);
    }
  }

  function onToolRequest(p) {
    const args = typeof p.arguments === "string" ? p.arguments : JSON.stringify(p.arguments, null, 2);
    const node = el("details", { class: "tool-card", "data-testid": "tool-card", "data-tool-call-id": p.tool_call_id },
      el("summary", {}, el("span", { class: "tool-name" }, p.tool), " ",
        el("span", { class: "tool-status", "data-status": "requested" }, "requested")),
      el("div", { class: "tool-body" }, el("p", { class: "tool-label" }, "Arguments"), el("pre", { class: "tool-args" }, args)));
    // Cards follow the answer text of their step.
    const b = liveBubble;
    (b ? b.node : live).append(node);
    setStep(`Calling ${p.tool}…`);
    scrollToEnd();
  }

  function onToolExecuting(p) {
    const node = card(p.tool_call_id);
    if (node) setCardStatus(node, "running");
    setStep(`Running ${p.tool}…`);
  }

  function onToolComplete(p) {
    const node = card(p.tool_call_id);
    const status = p.status || (p.cancelled ? "cancelled" : p.is_error ? "failed" : "completed");
    if (node) {
      setCardStatus(node, status, typeof p.duration_ms === "number" ? duration(p.duration_ms) : "");
      if (p.is_error) node.classList.add("tool-error");
      if (p.message) node.querySelector(".tool-body").append(el("p", { class: "tool-label" }, "Result"), el("pre", { class: "tool-result" }, p.message));
    }
    setStep("Thinking…");
  }

  function duration(ms) {
    return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
  }

  function endText(p) {
    switch (p.stop) {
      case "completed": return "The answer is ready.";
      case "cancelled": return "Stopped.";
      case "step_limit": return `Stopped after ${p.steps} steps (the step limit).`;
      case "budget_exceeded": return p.message ? `Stopped: ${p.message}` : "Stopped: a budget would be passed.";
      case "error": return `The turn failed (${p.code}): ${p.message}`;
      case "interrupted": return "The turn was interrupted.";
      default: return "The turn ended.";
    }
  }

  async function onTurnCompleted(ev) {
    const p = ev.payload;
    setBusy(false);
    state.turn = "";
    liveBubble = null;
    notifyDone(endText(p));
    const link = document.querySelector(`#session-list a[href="/chat/${CSS.escape(state.session)}"]`);
    const dot = link && link.parentElement.querySelector(".busy-dot");
    if (dot) dot.remove();
    // An ending the store could not keep is not in the fragment: keep it on screen.
    const unsaved = ev.unsaved && p.stop !== "completed" ? endText(p) : null;
    await refresh();
    if (unsaved) showError(unsaved, true);
    document.dispatchEvent(new CustomEvent("pryx:context"));
  }

  /** Replaces the transcript with the server's rendering (markdown, stored cards, endings). */
  async function refresh() {
    if (!state.session) return;
    try {
      const res = await fetch(`/chat/${encodeURIComponent(state.session)}/transcript`, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      const html = await res.text();
      const kept = Array.from(live.querySelectorAll('[data-keep="true"]'));
      // The fragment is the server's escaped rendering of the store, never client text.
      transcript.innerHTML = html;
      live.replaceChildren(...kept);
      readVersion();
      // The fragment covers every event up to its version: when it says no turn runs, the
      // ending may be one of them (a `reset` skips events), and none is left to end the wait.
      const body = $("transcript-body");
      if (body && body.dataset.busy === "false" && state.busy) {
        setBusy(false);
        state.turn = "";
        liveBubble = null;
      }
      addCopyButtons(transcript);
      updateTotals();
      scrollToEnd();
    } catch (err) {
      showError(`Cannot reload the transcript: ${err.message}. Reload the page.`);
    }
  }

  function updateTotals() {
    const body = $("transcript-body");
    const tokens = $("totals-tokens");
    if (!body || !tokens) return;
    tokens.textContent = `${body.dataset.tokensIn} in / ${body.dataset.tokensOut} out tokens`;
    $("totals-cost").textContent = body.dataset.cost;
  }

  // ---- approvals (chat-approval.js) ------------------------------------------------------

  const approvals = window.pryxApprovalDialog({
    session: state.session,
    setStep,
    showNotice,
    showError,
    errorText,
  });

  // ---- the event socket ----------------------------------------------------------------

  function subscribe() {
    const since = {};
    since[state.session] = state.lastVersion;
    state.ws.send(JSON.stringify({ type: "subscribe", sessions: [state.session], since }));
  }

  function handleEvent(ev) {
    if (ev.session_id !== state.session) return;
    if (typeof ev.version === "number") {
      if (ev.version <= state.lastVersion) return;
      state.lastVersion = ev.version;
    }
    const p = ev.payload || {};
    switch (ev.event) {
      case "session.delta": onDelta(p); break;
      case "session.message": onMessage(p); break;
      case "turn.started": if (!state.busy) setBusy(true); setStep("Thinking…"); break;
      case "tool.request": onToolRequest(p); break;
      case "tool.executing": onToolExecuting(p); break;
      case "approval.needed": approvals.queue(p); window.pryx.refreshBadge(); break;
      case "approval.resolved": approvals.onResolved(p); window.pryx.refreshBadge(); break;
      case "error.occurred": showError(`The turn failed (${p.code}): ${p.message}`); break;
      case "model.fallback": showNotice(`${p.from} failed (${p.code}: ${p.message}); going on with ${p.to}.`); break;
      case "budget.warning": showNotice(`Budget warning: $${Number(p.spent_usd).toFixed(4)} of $${Number(p.limit_usd).toFixed(2)} ${p.budget} (${p.setting}).`); break;
      case "context.warning":
        showNotice(`The context is ${Number(p.percent).toFixed(0)}% full (${p.tokens} of ${p.window} tokens); older messages are summarised at ${p.compact_at_percent}%. Compact… does it now; Pin keeps a message verbatim.`);
        document.dispatchEvent(new CustomEvent("pryx:context"));
        break;
      case "context.compacted":
        // Asked for between turns: the transcript shows the summary where it applies. During a
        // turn (the threshold) it says so now, and the summary shows when the turn ends.
        if (p.trigger === "user" && !state.busy) refresh();
        else showNotice(`${p.messages} earlier messages are now a summary (about ${p.tokens_before} → ${p.tokens_after} tokens, $${Number(p.cost_usd).toFixed(4)}); they stay in the session.`);
        document.dispatchEvent(new CustomEvent("pryx:context"));
        break;
      case "process.matched":
        showNotice(`Background process ${p.process_id} (${p.command}) printed a line matching ${p.pattern}: ${p.line}`);
        document.dispatchEvent(new CustomEvent("pryx:context"));
        break;
      case "tool.complete": onToolComplete(p); if (p.tool === "shell.exec" || String(p.tool).startsWith("process.")) document.dispatchEvent(new CustomEvent("pryx:context")); break;
      case "turn.completed": onTurnCompleted(ev); break;
      default: break;
    }
  }

  function handleControl(m) {
    switch (m.type) {
      case "subscribed":
        state.backoff = 1000;
        if (m.errors && m.errors[state.session]) {
          showError(`Live updates are off for this session: ${m.errors[state.session].message}`);
        }
        break;
      case "reset":
        state.lastVersion = m.last_version;
        refresh();
        break;
      case "resync": subscribe(); break;
      case "error": showError(`The live connection refused a request: ${m.error && m.error.message}`); break;
      default: break;
    }
  }

  function connect() {
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${window.location.host}/api/v1/ws`);
    state.ws = ws;
    ws.addEventListener("open", subscribe);
    ws.addEventListener("message", (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      if (m.type === "event") handleEvent(m);
      else handleControl(m);
    });
    ws.addEventListener("close", () => {
      if (state.ws !== ws) return;
      const wait = state.backoff + Math.floor(Math.random() * 500);
      state.backoff = Math.min(state.backoff * 2, 30000);
      setTimeout(connect, wait);
    });
  }

  // ---- pickers -------------------------------------------------------------------------

  async function loadModels() {
    const pick = $("model-picker");
    if (!pick) return;
    try {
      const list = await api("/api/v1/models");
      const current = pick.dataset.current;
      const ids = (list.models || []).map((m) => m.id);
      pick.replaceChildren();
      if (current && !ids.includes(current)) ids.unshift(current);
      ids.forEach((id) => pick.append(el("option", { value: id, selected: id === current }, id)));
    } catch (err) {
      $("picker-status").textContent = `Cannot list models: ${errorText(err)}`;
    }
  }

  function picker(id, field, label) {
    const pick = $(id);
    if (!pick) return;
    pick.addEventListener("change", async () => {
      const value = pick.value;
      const status = $("picker-status");
      try {
        await api(`/api/v1/sessions/${encodeURIComponent(state.session)}`, { method: "PATCH", body: { [field]: value } });
        pick.dataset.current = value;
        status.textContent = `${label} set to ${value} for the next turns.`;
      } catch (err) {
        pick.value = pick.dataset.current;
        status.textContent = `${label} not changed: ${errorText(err)}`;
      }
    });
  }

  // ---- start ---------------------------------------------------------------------------

  readVersion();
  addCopyButtons(transcript);
  if (state.busy) setBusy(true);
  if (state.session) {
    picker("model-picker", "model", "Model");
    picker("policy-picker", "policy", "Policy");
    loadModels();
    connect();
    approvals.loadPending();
  }
  if (window.location.hash !== "#top") window.scrollTo(0, document.body.scrollHeight);
})();
