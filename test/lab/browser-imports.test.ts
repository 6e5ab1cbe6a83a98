/**
 * The lab's browser bundle imports library code (the optimisers, test functions, paths, the
 * formatter and palette). None of it may reach Node-only modules: node:* built-ins, the run
 * store, the SVG renderer (a native addon), or the jax-js Node shim. Followed here through every
 * value import, static and dynamic, from the UI's entry.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const ENTRY = "src/lab/ui/main.ts";
/** vite.config.ts swaps the engine's Node shim for the browser's, as here. */
const SWAPPED: Record<string, string> = { "src/engine/node-shim.ts": "src/lab/ui/engine-shim.ts" };
const NODE_ONLY = [/^node:/, /^@resvg\//, /^@hono\//, /^hono/, /^bullmq/, /^cli-progress/];

/** Every module the entry reaches through value imports, with the chain that reached it. */
function walk(entry: string): Map<string, { from?: string; externals: string[] }> {
  const seen = new Map<string, { from?: string; externals: string[] }>();
  const stack: [string, string | undefined][] = [[entry, undefined]];
  while (stack.length) {
    const [file, from] = stack.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, "utf8");
    const specs = [
      ...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms),
      ...text.matchAll(/^import\s+"([^"]+)"/gm),
      ...text.matchAll(/import\("([^"]+)"\)/g),
    ].map((m) => m[1]);
    const externals: string[] = [];
    for (const spec of specs) {
      if (!spec.startsWith(".")) {
        externals.push(spec);
        continue;
      }
      const resolved = normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts");
      const target = SWAPPED[resolved] ?? resolved;
      if (existsSync(target)) stack.push([target, file]);
    }
    seen.set(file, { from, externals });
  }
  return seen;
}

describe("the lab's browser bundle", () => {
  it("reaches no Node-only module through the library code it imports", () => {
    const graph = walk(ENTRY);
    const chain = (f: string): string[] => (graph.get(f)?.from ? [f, ...chain(graph.get(f)!.from!)] : [f]);
    const bad = [...graph].flatMap(([file, { externals }]) =>
      externals
        .filter((e) => NODE_ONLY.some((re) => re.test(e)))
        .map((e) => `${e} ← ${chain(file).join(" ← ")}`),
    );
    const store = [...graph.keys()].filter((f) => f.startsWith("src/runs/") || f === "src/report/vega.ts");
    expect(bad).toEqual([]);
    expect(store.map((f) => chain(f).join(" ← "))).toEqual([]);
    expect(graph.size).toBeGreaterThan(20); // the walk did follow the imports
  });
});
