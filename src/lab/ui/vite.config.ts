/**
 * Builds the lab's browser app into dist/lab. The playground imports the library's optimisers and
 * test functions unchanged; their one Node-only import (the engine's Node shim) is swapped for a
 * browser no-op here.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const engineJax = resolve(here, "../../engine/jax.ts");

const browserEngine: Plugin = {
  name: "tiller-browser-engine",
  enforce: "pre",
  resolveId(source, importer) {
    if (importer && resolve(importer) === engineJax && source === "./node-shim.js")
      return resolve(here, "engine-shim.ts");
    return null;
  },
};

export default defineConfig({
  root: here,
  base: "/",
  logLevel: "warn",
  plugins: [browserEngine],
  build: {
    outDir: resolve(here, "../../../dist/lab"),
    emptyOutDir: true,
    target: "es2022",
    // Plotly's WebGL bundle is one large file by design; it is loaded only by 3-D views.
    chunkSizeWarningLimit: 4096,
  },
});
