// Every page module loads in Node and its imports resolve (a renamed or missing export fails
// here in milliseconds, before any browser test). main.js starts the page and needs a DOM.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";

const dir = new URL("../../server/static/js/", import.meta.url);
const modules = readdirSync(dir).filter((name) => name.endsWith(".js") && name !== "main.js");

test("every page module imports cleanly", async () => {
  assert.ok(modules.length >= 10, modules);
  for (const name of modules) await import(new URL(name, dir));
});
