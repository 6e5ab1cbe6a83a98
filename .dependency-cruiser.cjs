/**
 * Tiller's layers (DESIGN.md): arrows point down only.
 *   cli/ lab/ tour/ sessions.ts     shells (sessions.ts: request kind → the session that runs it)
 *   train/ landscape/ steer/ lm/    sessions (lm/ is the language model: it never imports steer/)
 *   requests/                       one schema per request, which sessions carry out
 *   nn/ optim/ init/                models and their training pieces
 *   report/ runs/ data/             storage, data and figures
 *   engine/                         jax-js and what it needs
 * src/index.ts (the library entry) may import anything; src/errors.ts is below everything.
 * test/structure/layering.test.ts runs this; .dependency-cruiser-known-violations.json lists the violations
 * that existed when the rule came in, and may only shrink.
 */
const layers = [
  ["cli", "lab", "tour", "sessions.ts"],
  ["train", "landscape", "steer", "lm"],
  ["requests"],
  ["nn", "optim", "init"],
  ["report", "runs", "data"],
  ["engine"],
];
const folders = (names) =>
  `^src/(${names.map((n) => (n.endsWith(".ts") ? `${n.replace(".", "[.]")}$` : `${n}/`)).join("|")})`;

const layerRules = layers.slice(1).map((_, i) => {
  const below = layers.slice(i + 1).flat();
  const above = layers.slice(0, i + 1).flat();
  return {
    name: `no-up-from-${below.join("-")}`,
    comment: `${below.join(", ")} must not import ${above.join(", ")} (layers point down)`,
    severity: "error",
    from: { path: folders(below) },
    to: { path: folders(above) },
  };
});

/* global module */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "no-lm-to-steer",
      comment: "lm/ is the language model; adapters and their sessions live in steer/",
      severity: "error",
      from: { path: "^src/lm/" },
      to: { path: "^src/steer/" },
    },
    {
      name: "errors-is-a-leaf",
      comment: "src/errors.ts is imported by every layer, so it imports none",
      severity: "error",
      from: { path: "^src/errors\\.ts$" },
      to: { path: "^src/" },
    },
    {
      name: "no-circular",
      comment: "no import cycles",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/lab/ui/vite\\.config\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
