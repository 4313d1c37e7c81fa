// The chat page's approval dialog: the exact preview of a call waiting for an answer in this
// session, answered once / session / always / deny. The first answer from any surface wins: an
// answer given elsewhere closes the dialog with a note. Esc closes it without answering; a button
// brings it back. Untrusted text only ever goes into textContent.
"use strict";

/** Wires the dialog for `opts.session`; returns what the event handler calls. */
window.pryxApprovalDialog = (opts) => {
  const { api, el } = window.pryx;
  const $ = (id) => document.getElementById(id);
  const { setStep, showNotice, showError, errorText } = opts;
  const state = {
    session: opts.session,
    approvals: [], // pending approvals of this session, oldest first
    shown: null, // the approval in the dialog
    answeredHere: new Set(),
  };

  const dialog = $("approval-dialog");

  function showApproval(a) {
    state.shown = a;
    $("approval-tool").textContent = a.tool;
    $("approval-reason").textContent = `${a.reason} (rule ${a.rule})`;
    $("approval-preview").textContent = a.preview;
    $("approval-arguments").textContent = JSON.stringify(a.arguments, null, 2);
    const where = [];
    if (a.workspace) where.push(`workspace ${a.workspace}`);
    if (a.policy) where.push(`policy ${a.policy}`);
    if (a.timeout_secs) where.push(`denied by default after ${a.timeout_secs} s without an answer`);
    $("approval-where").textContent = where.join(" · ");
    const secret = $("approval-secret");
    const looks = a.looks_like_secret || [];
    secret.hidden = looks.length === 0;
    secret.textContent = looks.length ? `This call contains what looks like a secret: ${looks.join(", ")}.` : "";
    $("approval-status").textContent = "";
    dialog.querySelectorAll(".approval-actions button").forEach((b) => { b.disabled = false; });
    if (!dialog.open) dialog.showModal();
    // Focus the question, not a button: Enter must not approve by accident.
    const preview = $("approval-preview");
    preview.setAttribute("tabindex", "0");
    preview.focus();
    setStep(`Waiting for approval of ${a.tool}…`);
  }

  function nextApproval() {
    state.shown = null;
    if (dialog.open) dialog.close();
    reopenBtn.hidden = true;
    if (state.approvals.length) showApproval(state.approvals[0]);
  }

  // Esc (or the browser) may close the dialog; that never answers. The question stays pending
  // and this button brings it back.
  const reopenBtn = el("button", { type: "button", class: "secondary approval-reopen", id: "approval-reopen", "data-testid": "approval-reopen", hidden: true }, "An approval is waiting: review it");
  $("turn-indicator").before(reopenBtn);
  reopenBtn.addEventListener("click", () => {
    reopenBtn.hidden = true;
    if (state.approvals.length) showApproval(state.approvals[0]);
  });
  dialog.addEventListener("close", () => {
    if (!state.shown) return;
    state.shown = null;
    reopenBtn.hidden = false;
    reopenBtn.focus();
  });

  function queueApproval(a) {
    if (a.session_id !== state.session) return;
    if (state.approvals.some((x) => x.id === a.id)) return;
    state.approvals.push(a);
    if (!state.shown && reopenBtn.hidden) showApproval(a);
  }

  function dropApproval(id) {
    state.approvals = state.approvals.filter((x) => x.id !== id);
  }

  async function answer(decision, scope) {
    const a = state.shown;
    if (!a) return;
    dialog.querySelectorAll(".approval-actions button").forEach((b) => { b.disabled = true; });
    state.answeredHere.add(a.id);
    try {
      await api(`/api/v1/approvals/${encodeURIComponent(a.id)}`, {
        method: "POST",
        body: { decision, scope, surface: "web" },
      });
      dropApproval(a.id);
      nextApproval();
      if (decision === "approve") setStep(`Running ${a.tool}…`);
    } catch (err) {
      state.answeredHere.delete(a.id);
      if (err.status === 404) {
        dropApproval(a.id);
        nextApproval();
        showNotice(`The approval for ${a.tool} was already answered elsewhere or timed out.`);
      } else {
        $("approval-status").textContent = `Not sent: ${errorText(err)}`;
        dialog.querySelectorAll(".approval-actions button").forEach((b) => { b.disabled = false; });
      }
    }
  }

  $("approve-once").addEventListener("click", () => answer("approve", "once"));
  $("approve-session").addEventListener("click", () => answer("approve", "session"));
  $("approve-always").addEventListener("click", () => answer("approve", "always"));
  $("deny").addEventListener("click", () => answer("deny", "once"));

  function onResolved(p) {
    const wasShown = state.shown && state.shown.id === p.id;
    const here = state.answeredHere.has(p.id);
    state.answeredHere.delete(p.id);
    dropApproval(p.id);
    if (!state.shown && !state.approvals.length) reopenBtn.hidden = true;
    if (wasShown) {
      nextApproval();
      if (!here) {
        const o = p.outcome || {};
        const what = o.outcome === "answered"
          ? `answered in ${o.surface}: ${o.decision === "approve" ? "approved" : "denied"}`
          : o.outcome === "timed_out" ? "timed out" : "cancelled";
        showNotice(`The approval was ${what}.`);
      }
    }
  }

  async function loadPending() {
    if (!state.session) return;
    try {
      const list = await api("/api/v1/approvals");
      (list.approvals || []).forEach(queueApproval);
    } catch (err) {
      showError(`Cannot read pending approvals: ${errorText(err)}`);
    }
  }

  return { queue: queueApproval, onResolved, loadPending };
};
