/* global process, console */
/**
 * Prints the node_modules packages that the given entry points import, transitively (one per
 * line), from esbuild's dependency graph: what scripts/pack-device.sh copies for the GPU machine.
 * `webgpu` is left out: it is packed on its own, with only its linux-x64 binary.
 */
import { build } from "esbuild";

const result = await build({
  entryPoints: process.argv.slice(2),
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
  metafile: true,
  outdir: "/tmp/tiller-deps",
  external: ["webgpu"],
  // Native addons (resvg's binary) count as files of their package.
  loader: { ".node": "file" },
  logLevel: "error",
});
const packages = new Set();
for (const file of Object.keys(result.metafile.inputs)) {
  const m = file.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (m) packages.add(m[1]);
}
console.log([...packages].sort().join("\n"));
