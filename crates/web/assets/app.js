// Shared by every dashboard page: sends the page's CSRF token with every htmx and fetch request,
// and keeps the approvals and notifications badges in the header current. No inline script anywhere (CSP).
"use strict";

const pryx = (() => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  /** fetch() against the gateway's API with the cookie session and the CSRF token. */
  async function api(path, options = {}) {
    const headers = Object.assign({ "x-csrf-token": csrf }, options.headers || {});
    if (options.body !== undefined && typeof options.body !== "string") {
      headers["content-type"] = "application/json";
      options = Object.assign({}, options, { body: JSON.stringify(options.body) });
    }
    const res = await fetch(path, Object.assign({ credentials: "same-origin" }, options, { headers }));
    let body = null;
    const text = await res.text();
    if (text) {
      try { body = JSON.parse(text); } catch (_) { body = text; }
    }
    if (!res.ok) {
      const err = new Error(body && body.error ? body.error.message : `HTTP ${res.status}`);
      err.status = res.status;
      err.body = body;
      throw err;
    }
    return body;
  }

  /** Text → element, never HTML. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  async function refreshBadge() {
    const badge = document.getElementById("approvals-badge");
    if (!badge || !csrf) return;
    try {
      const list = await api("/api/v1/approvals");
      const n = Array.isArray(list) ? list.length : (list && list.approvals ? list.approvals.length : 0);
      badge.textContent = n > 0 ? String(n) : "";
      badge.hidden = n === 0;
      badge.setAttribute("aria-label", `${n} pending`);
    } catch (_) { /* the badge is a hint; the inbox page shows errors */ }
  }

  /** The bell in the header: notifications of finished task runs nobody has read. */
  async function refreshTasksBadge() {
    const badge = document.getElementById("tasks-badge");
    if (!badge || !csrf) return;
    try {
      const inbox = await api("/api/v1/notifications?limit=1");
      const n = inbox && typeof inbox.unread === "number" ? inbox.unread : 0;
      badge.textContent = n > 0 ? String(n) : "";
      badge.hidden = n === 0;
      badge.setAttribute("aria-label", `${n} unread notifications`);
    } catch (_) { /* the badge is a hint; the tasks page shows errors */ }
  }

  /**
   * Once after an update: what is new, or that it was rolled back and why (then the core is told
   * it was shown, so no other surface shows it again). Else a newer release a background check
   * found. A banner at the top of the page, dismissable.
   */
  async function showUpdate() {
    const main = document.querySelector("main");
    if (!main || !csrf) return;
    let status;
    try { status = await api("/api/v1/update"); } catch (_) { return; }
    const last = status && status.last;
    let text = null;
    let failed = false;
    if (last && status.unseen && last.outcome === "installed") {
      const news = (last.notes || "").split("\n").map((l) => l.trim()).find((l) => l);
      text = `Updated to Pryx ${last.to}` + (news ? `: ${news}` : ".");
    } else if (last && status.unseen && last.outcome === "rolled_back") {
      text = `The update to Pryx ${last.to} was rolled back: ${last.detail}`;
      failed = true;
    } else if (status && status.available) {
      text = `Pryx ${status.available} is available: run \`pryx update\`.`;
    }
    if (!text) return;
    // Told first, so once the banner is up no other surface shows the same news.
    if (status.unseen) {
      try { await api("/api/v1/update/seen", { method: "POST" }); } catch (_) { /* shown again next time */ }
    }
    const close = el("button", { type: "button", class: "link", "aria-label": "Dismiss" }, "Dismiss");
    const banner = el("div", { id: "update-banner", class: failed ? "update-banner failed" : "update-banner", role: "status" },
      el("span", { text }), close);
    close.addEventListener("click", () => banner.remove());
    main.prepend(banner);
  }

  document.addEventListener("htmx:configRequest", (e) => {
    e.detail.headers["x-csrf-token"] = csrf;
  });
  document.addEventListener("DOMContentLoaded", () => {
    refreshBadge();
    refreshTasksBadge();
    showUpdate();
    // Approvals asked in other sessions and finished task runs show up in the header within a
    // few seconds.
    setInterval(() => {
      if (document.visibilityState !== "visible") return;
      refreshBadge();
      refreshTasksBadge();
    }, 10000);
  });

  return { api, el, csrf, refreshBadge, refreshTasksBadge };
})();
window.pryx = pryx;
