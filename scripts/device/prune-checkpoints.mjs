/* global process, console */
// Drops checkpoint files of a run, with their checkpoints/index.json entries (a file and its entry
// go together, or the run store refuses the run), so that a run fits what a device call brings back.
//   node scripts/device/prune-checkpoints.mjs <run> --drop <regexp>           every file matching
//   node scripts/device/prune-checkpoints.mjs <run> --steps [--keep-every N]  step-N files but the
//                                                                           newest (and every N-th)
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const [run, mode, arg, value] = process.argv.slice(2);
const dir = `${run}/checkpoints`;
if (!existsSync(`${dir}/index.json`)) process.exit(0);
const index = JSON.parse(readFileSync(`${dir}/index.json`, "utf8"));
const stepOf = (f) => Number(/^step-(\d+)\.safetensors$/.exec(f)?.[1] ?? NaN);
let drop;
if (mode === "--drop") {
  const re = new RegExp(arg);
  drop = (f) => re.test(f);
} else if (mode === "--steps") {
  const every = arg === "--keep-every" ? Number(value) || 0 : 0;
  const newest = Math.max(...Object.keys(index).map(stepOf).filter(Number.isFinite));
  drop = (f) => Number.isFinite(stepOf(f)) && stepOf(f) !== newest && !(every > 0 && stepOf(f) % every === 0);
} else {
  console.error("usage: prune-checkpoints.mjs <run> --drop <regexp> | --steps [--keep-every N]");
  process.exit(2);
}
for (const f of Object.keys(index))
  if (drop(f)) {
    rmSync(`${dir}/${f}`, { force: true });
    delete index[f];
  }
writeFileSync(`${dir}/index.json`, JSON.stringify(index, null, 2));
