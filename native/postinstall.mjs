#!/usr/bin/env node
/* global process, console */
// npm's postinstall for Tiller: (1) jax-js's patches (patches/, docs/engine-patches.md) through
// patch-package, where jax-js sits in this package's own node_modules (a clone after `npm ci`); in
// a consumer's project jax-js is hoisted beside Tiller, patch-package cannot reach it, and Tiller
// then notices the missing hook and keeps the wasm matmul; (2) the optional OpenBLAS addon.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
if (existsSync(join(root, "node_modules", "@jax-js", "jax")) && existsSync(join(root, "patches"))) {
  const bin = createRequire(import.meta.url).resolve("patch-package/index.js");
  const r = spawnSync(process.execPath, [bin], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
} else {
  console.log(
    "tiller: jax-js is not in this package's node_modules; its patches are not applied (wasm matmul)",
  );
}
const r = spawnSync(process.execPath, [join(here, "build.mjs")], { stdio: "inherit" });
process.exit(r.status ?? 0);
