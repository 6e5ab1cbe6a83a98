#!/usr/bin/env node
/* global process, console */
// Builds the optional OpenBLAS addon (this folder, src/engine/native-blas.ts) with npm's node-gyp.
// Run by `npm install`/`npm ci` (postinstall) and `npm run build:native`. It never fails the
// install: without a compiler or Node headers it says so in one line and Tiller uses wasm.
// TILLER_NATIVE=0 skips it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const native = dirname(fileURLToPath(import.meta.url));
if (process.env.TILLER_NATIVE === "0") process.exit(0);
if (process.platform !== "linux") {
  console.log("tiller: native OpenBLAS route is Linux-only for now; using wasm matmul");
  process.exit(0);
}
// npm exports its bundled node-gyp to lifecycle scripts; outside npm, look next to npm itself.
const candidates = [
  process.env.npm_config_node_gyp,
  join(
    dirname(process.execPath),
    "..",
    "lib",
    "node_modules",
    "npm",
    "node_modules",
    "node-gyp",
    "bin",
    "node-gyp.js",
  ),
  "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
].filter((p) => p && existsSync(p));
if (candidates.length === 0) {
  console.log("tiller: node-gyp not found; the OpenBLAS addon is not built (wasm matmul is used)");
  process.exit(0);
}
const args = [candidates[0], "rebuild", "--directory", native];
if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h"))
  args.push("--nodedir=/usr");
const r = spawnSync(process.execPath, args, { encoding: "utf8" });
if (r.status === 0) console.log("tiller: built the OpenBLAS addon (native/build/Release/tiller_blas.node)");
else {
  const why = `${r.stderr}${r.stdout}`.split("\n").find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  console.log(`tiller: the OpenBLAS addon did not build (${why.trim().slice(0, 160)}); wasm matmul is used`);
}
