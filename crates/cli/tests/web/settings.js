// Settings, generated from the config schema (GET /api/v1/config/schema): an entry is added to
// every collection through its Add form, then every key the schema lists is changed through its
// field and read back with `pryx config get`. A key without a field fails the scenario, so a key
// added to the schema later cannot go without one. Refused values are shown beside their field
// and leave config.json byte-identical; a form drawn before a change made elsewhere is refused as
// "changed elsewhere". Every section is screenshotted.
"use strict";

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { check, cfg, api, signedInPage, screenshot } = require("./lib.js");

const configFile = () => path.join(cfg.home, "config.json");
const configBytes = () => fs.readFileSync(configFile());

/** The entry name used in each collection. */
const entryId = (c) => (c.id === "model_ref" ? "p1/m1" : "e1");

/** A key path with the entry name in place of the placeholder, quoted as the config crate does. */
function concrete(template, placeholder, id) {
  return template
    .split(".")
    .map((s) => (s === placeholder ? id : s))
    .map((s, i) => (/[.[\]"]/.test(s) ? `["${s}"]` : i === 0 ? s : `.${s}`))
    .join("")
    .replace(/^\./, "");
}

/** The text a field shows for a value (the inverse of the server's reading). */
function fieldText(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join("\n");
  if (typeof v === "object") {
    const entries = Object.entries(v);
    if (entries.length === 0) return "";
    if (entries.every(([, x]) => typeof x === "string")) return entries.map(([k, x]) => `${k} = ${x}`).join("\n");
    return JSON.stringify(v, null, 2);
  }
  return String(v);
}

/** `pryx config get KEY`, as JSON when it parses (strings print bare). */
function configGet(key) {
  const out = execFileSync(cfg.bin, ["config", "get", key], {
    env: { ...process.env, PRYX_HOME: cfg.home },
    encoding: "utf8",
  }).trim();
  try {
    return JSON.parse(out);
  } catch (_) {
    return out;
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** A valid value for `k` that differs from what the field shows now. */
function target(k, shownText, checked) {
  if (k.kind === "bool") return !checked;
  if (k.kind === "choice") {
    const other = k.choices.find((c) => c !== shownText && c !== fieldText(k.example));
    return shownText === fieldText(k.example) ? other : k.example;
  }
  if (fieldText(k.example) !== shownText) return k.example;
  // The example is already set (a collection's required key): the next valid one.
  switch (k.kind) {
    case "integer": return k.min;
    case "number": return k.max;
    case "json": return { example: 2 };
    default: return typeof k.example === "string" ? k.example.replace("example", "example2") : k.example;
  }
}

/** Text the server must refuse for `k`, or null where a field cannot hold a wrong value. */
function badText(k) {
  switch (k.kind) {
    case "integer": return String(k.max + 1);
    case "number": return k.min === 0 ? "-1" : "lots";
    case "url": return "not a url";
    case "model_ref": return "no-slash";
    case "name": return "bad name!";
    case "choice_or_name": return "bad name!";
    case "secret_ref": return "sk-live-abcdefghijklmnopqrstuvwxyz0123";
    case "json": return "[1, 2";
    case "map": return "no equals sign";
    case "list": return k.item === "model_ref" ? "no-slash" : null;
    case "choice": return "not-a-choice";
    default: return null;
  }
}

async function fill(field, k, value) {
  if (k.kind === "bool") {
    if (value) await field.check();
    else await field.uncheck();
  } else if (k.kind === "choice") {
    await field.selectOption(fieldText(value));
  } else {
    await field.fill(fieldText(value));
  }
}

async function openSection(page, section) {
  if (new URL(page.url()).pathname !== `/settings/${section}`) {
    await page.goto(`${cfg.base}/settings/${section}`);
  }
}

async function settings(browser) {
  const schema = await api("GET", "/config/schema");
  check(schema.keys.length > 50, `the schema lists only ${schema.keys.length} keys`);
  const { context, page } = await signedInPage(browser);
  const section = (key) => key.split(/[.[]/)[0];

  // Before anything changes: telemetry says nothing leaves; the scripted provider needs no key.
  await page.goto(`${cfg.base}/settings/telemetry`);
  check((await page.locator('[data-testid="telemetry-preview"]').textContent()).includes("Nothing"), "the telemetry section does not say that nothing leaves");
  await page.goto(`${cfg.base}/settings/providers`);
  check((await page.locator('[data-testid="key-note"]').first().textContent()).includes("none needed"), "the local provider's key status is not shown");

  // One entry in every collection, through its Add form.
  const ids = {};
  for (const c of schema.collections) {
    await openSection(page, section(c.key));
    const form = page.locator(`form[data-add="${c.key}"]`);
    check((await form.count()) === 1, `${c.key} has no Add form`);
    ids[c.key] = entryId(c);
    await form.locator('[data-testid="new-id"]').fill(ids[c.key]);
    for (const [name, value] of Object.entries(c.example)) {
      const field = form.locator(`[name="k:new:${name}"]`);
      check((await field.count()) === 1, `the Add form of ${c.key} does not ask for its required ${name}`);
      await field.selectOption(fieldText(value)).catch(() => field.fill(fieldText(value)));
    }
    await form.locator('[data-testid="add"]').click();
    await page.waitForURL((u) => u.searchParams.has("saved"));
    const entry = configGet(concrete(`${c.key}.${c.placeholder}`, c.placeholder, ids[c.key]));
    check(entry && typeof entry === "object", `${c.key}.${ids[c.key]} was not added: ${JSON.stringify(entry)}`);
  }

  // Every key: its field, grouped by form.
  const keyOf = (k) => {
    const c = schema.collections.find((c) => k.key.startsWith(`${c.key}.${c.placeholder}`));
    return c ? concrete(k.key, c.placeholder, ids[c.key]) : k.key;
  };
  const forms = new Map();
  for (const k of schema.keys) {
    const key = keyOf(k);
    await openSection(page, section(key));
    const field = page.locator(`[data-key="${key}"]`);
    check((await field.count()) >= 1, `the key ${k.key} has no field on /settings/${section(key)} (looked for data-key=${key})`);
    const formId = await field.last().evaluate((el) => el.form && el.form.id);
    check(formId, `the field of ${key} is in no form`);
    const group = forms.get(formId) || { section: section(key), keys: [] };
    group.keys.push({ k, key });
    forms.set(formId, group);
  }

  let changed = 0;
  for (const [formId, group] of forms) {
    await openSection(page, group.section);
    const expected = [];
    for (const { k, key } of group.keys) {
      const field = page.locator(`[data-key="${key}"]`).last();
      const shown = k.kind === "bool" ? "" : await field.inputValue();
      const checked = k.kind === "bool" ? await field.isChecked() : false;
      const value = target(k, shown, checked);
      await fill(field, k, value);
      expected.push({ key, value });
    }
    await page.locator(`[id="${formId}"] [data-testid="save"]`).click();
    await page.waitForURL((u) => u.searchParams.get("saved") === formId);
    for (const { key, value } of expected) {
      const got = configGet(key);
      const want = value === "" ? null : value;
      check(same(got, want) || (typeof want === "number" && Number(got) === want),
        `${key}: set ${JSON.stringify(want)} in the form, pryx config get says ${JSON.stringify(got)}`);
      changed += 1;
    }
  }
  check(changed === schema.keys.length, `${changed} of ${schema.keys.length} keys were changed`);

  // A refused value: beside its field, nothing written. One key of every kind that can be wrong.
  const tried = new Set();
  for (const k of schema.keys) {
    const bad = badText(k);
    if (bad === null || tried.has(`${k.kind}/${k.item || ""}`)) continue;
    tried.add(`${k.kind}/${k.item || ""}`);
    const key = keyOf(k);
    await page.goto(`${cfg.base}/settings/${section(key)}`);
    const before = configBytes();
    const field = page.locator(`[data-key="${key}"]`).last();
    if (k.kind === "choice") {
      // A select cannot hold it; a tampered form can: the server refuses it all the same.
      await field.evaluate((el, v) => { el.add(new Option(v, v)); el.value = v; }, bad);
    } else {
      await field.fill(bad);
    }
    await field.evaluate((el) => el.form.querySelector('[data-testid="save"]').click());
    const error = page.locator(`[data-error-for="${key}"]`);
    await error.waitFor();
    check((await error.textContent()).trim().length > 10, `the error of ${key} says nothing useful`);
    check(await field.evaluate((el) => el.getAttribute("aria-invalid") === "true"), `${key} is not marked invalid`);
    check(configBytes().equals(before), `a refused ${key} changed config.json`);
    if (k.kind !== "choice") {
      check((await page.locator(`[data-key="${key}"]`).last().inputValue()) === bad, `the refused text of ${key} was not kept in the field`);
    }
  }
  check(tried.size >= 8, `only ${tried.size} kinds of refused values were tried`);
  await screenshot(page, "settings-refused");

  // A form drawn before a change made elsewhere: refused, not overwritten.
  await page.goto(`${cfg.base}/settings/updates`);
  execFileSync(cfg.bin, ["config", "set", "updates.channel", "beta"], { env: { ...process.env, PRYX_HOME: cfg.home } });
  const before = configBytes();
  await page.locator('[data-key="updates.channel"]').selectOption("alpha");
  await page.locator('[data-key="updates.channel"]').evaluate((el) => el.form.querySelector('[data-testid="save"]').click());
  await page.locator('[data-testid="stale"]').waitFor();
  check(configBytes().equals(before), "a stale form overwrote config.json");
  check(configGet("updates.channel") === "beta", "the change made elsewhere was lost");
  await page.getByRole("link", { name: "Reload" }).click();
  check((await page.locator('[data-key="updates.channel"]').inputValue()) === "beta", "reloading does not show the change made elsewhere");

  // The API answers the same document the forms edit.
  const doc = await api("GET", "/config");
  check(doc.config.updates.channel === "beta" && doc.revision > 0, `GET /config: ${JSON.stringify(doc).slice(0, 200)}`);

  // Every section, looked at.
  const sections = [...new Set(schema.keys.map((k) => section(k.key)))];
  for (const s of sections) {
    await page.goto(`${cfg.base}/settings/${s}`);
    await screenshot(page, `settings-${s}`);
  }
  await context.close();
}

module.exports = { settings };
