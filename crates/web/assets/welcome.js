// The onboarding wizard, made smoother: the base URL field shows the chosen preset's address,
// a connection test swaps in its result without a page load (errors included) and moves focus
// to it. Everything works without this file.
"use strict";

(() => {
  const CUSTOM_HINT = "Required: the server's API root, usually ending in /v1, e.g. http://127.0.0.1:8080/v1.";

  function presetChanged(select, byUser) {
    const option = select.selectedOptions[0];
    const base = document.getElementById("pv-base");
    const hint = document.getElementById("base-hint");
    if (!option || !base) return;
    const url = option.dataset.baseUrl || "";
    base.placeholder = url || "http://127.0.0.1:8080/v1";
    if (hint) hint.textContent = url ? `Leave empty for ${url}.` : CUSTOM_HINT;
    if (byUser) suggestModel(option.dataset.suggested || "");
  }

  // While the model list holds only a preset's suggestion (nothing listed yet), it follows
  // the chosen preset.
  function suggestModel(model) {
    const list = document.getElementById("pv-model");
    if (!list) return;
    const onlySuggestions = Array.from(list.options)
      .every((o) => o.hasAttribute("data-suggested") || o.hasAttribute("data-placeholder"));
    if (!onlySuggestions) return;
    list.replaceChildren(model
      ? pryx.el("option", { value: model, "data-suggested": true, selected: true }, `${model} (suggested)`)
      : pryx.el("option", { value: "", "data-placeholder": true }, "None listed yet: test the connection, or type an id below"));
  }

  document.addEventListener("change", (e) => {
    if (e.target && e.target.id === "pv-preset") presetChanged(e.target, true);
  });

  document.addEventListener("DOMContentLoaded", () => {
    const select = document.getElementById("pv-preset");
    if (select) presetChanged(select, false);
  });

  // A refused form (400) carries its errors next to the fields: show it like any answer.
  document.addEventListener("htmx:beforeSwap", (e) => {
    if (e.detail.xhr && e.detail.xhr.status === 400 && e.detail.target && e.detail.target.id === "provider-step") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", () => {
    const select = document.getElementById("pv-preset");
    if (select) presetChanged(select, false);
    const invalid = document.querySelector("#provider-step [aria-invalid=\"true\"]");
    const result = document.getElementById("test-result");
    if (invalid) invalid.focus();
    else if (result && result.textContent.trim()) result.focus();
  });
})();
