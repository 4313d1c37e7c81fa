// The trace timeline follows a running turn: each `span.update` of the session (and the turn's
// end) redraws the charts from the server. One redraw at a time; updates that arrive meanwhile
// are folded into one more.
"use strict";

(function () {
  const live = document.getElementById("timeline-live");
  if (!live) return;
  const turns = () => document.getElementById("timeline-turns");
  const session = turns() && turns().dataset.session;
  if (!session) return;
  let busy = false;
  let again = false;
  let backoff = 1000;

  async function redraw() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const picked = (turns() && turns().dataset.picked) || "";
      const res = await fetch(`/sessions/${encodeURIComponent(session)}/timeline/live?span=${encodeURIComponent(picked)}`, { credentials: "same-origin" });
      if (res.ok) live.innerHTML = await res.text();
    } catch (_) {
      // The next update redraws.
    } finally {
      busy = false;
      if (again) { again = false; redraw(); }
    }
  }

  function connect() {
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${window.location.host}/api/v1/ws`);
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "subscribe", sessions: [session] }));
    });
    ws.addEventListener("message", (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      if (m.type === "subscribed") { backoff = 1000; redraw(); return; }
      if (m.type !== "event" || m.session_id !== session) return;
      if (m.event === "span.update" || m.event === "turn.completed") redraw();
    });
    ws.addEventListener("close", () => {
      const wait = backoff + Math.floor(Math.random() * 500);
      backoff = Math.min(backoff * 2, 30000);
      setTimeout(connect, wait);
    });
  }
  connect();
})();
