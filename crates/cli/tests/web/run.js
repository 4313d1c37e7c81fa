// Runs one browser scenario against a running `pryx serve`: `node run.js SCENARIO`.
// Exit 0: passed. Exit 3: skipped (the page lacks the hooks it needs; stdout's `skip:` line says
// which). Any
// other exit: failed, with the reason on stderr.
"use strict";

const { Skip, launch, screenshot } = require("./lib.js");

const scenarios = {
  ...require("./shell.js"),
  ...require("./security.js"),
  ...require("./flows.js"),
  ...require("./hostile.js"),
  ...require("./tasks.js"),
  ...require("./update.js"),
  ...require("./context.js"),
  ...require("./audit.js"),
  ...require("./costs.js"),
  ...require("./settings.js"),
  ...require("./policies.js"),
  ...require("./extensions.js"),
  trace: require("./trace.js").trace,
};

/** Screenshots of every open page, to see where a failed scenario stood. */
async function failureShots(browser, name) {
  let n = 0;
  for (const context of browser.contexts()) {
    for (const page of context.pages()) {
      const shot = `failed-${name}-${n++}`;
      await screenshot(page, shot).then(
        () => console.error(`  page ${page.url()}: screenshot ${shot}.png`),
        () => {},
      );
    }
  }
}

async function main() {
  const name = process.argv[2];
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`no scenario ${JSON.stringify(name)}; known: ${Object.keys(scenarios).join(", ")}`);
    return 2;
  }
  const browser = await launch();
  try {
    await scenario(browser);
    console.log(`PASSED: ${name}`);
    return 0;
  } catch (e) {
    if (e instanceof Skip) {
      console.log(`skip: ${e.message}`);
      return 3;
    }
    console.error(`FAILED: ${name}: ${e && e.stack ? e.stack : e}`);
    await failureShots(browser, name);
    return 1;
  } finally {
    await browser.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`FAILED: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);
