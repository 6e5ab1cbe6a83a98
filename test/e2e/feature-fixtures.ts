/** Runs of each kind the lab shows, as their commands write them, kept small (a few kB each). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FixtureRun } from "../lab-fixture.js";

const json = (path: string, v: unknown) => writeFileSync(path, JSON.stringify(v));

function surface() {
  const x = Array.from({ length: 9 }, (_, i) => -1 + i / 4);
  return {
    format: "tiller-landscape-v1",
    kind: "surface",
    name: "tour-surface",
    center: { loss: 0.7, accuracy: 0.74 },
    panels: [
      { directions: [0, 1], grid: { x, y: x, loss: x.map((b) => x.map((a) => 1 + a * a + 2 * b * b)) } },
    ],
    directions: { kind: "hessian", eigenvalues: [127.1, 118.1] },
  };
}

export function writeFeatureFixtures(root: string, writeRun: (root: string, r: FixtureRun) => string): void {
  const cmp = writeRun(root, { id: "compare-fixture", epochs: 2, createdAt: "2026-10-01T09:00:00.000Z" });
  const config = JSON.parse(
    JSON.stringify({ command: "compare", members: ["sgd", "adam", "lion"].map((label) => ({ label })) }),
  );
  json(join(cmp, "config.json"), {
    id: "compare-fixture",
    createdAt: "2026-10-01T09:00:00.000Z",
    model: { name: "mlp" },
    epochs: 2,
    batchSize: 100,
    ...config,
  });
  json(
    join(cmp, "summary.json"),
    ["sgd", "adam", "lion"].map((optimizer, i) => ({
      optimizer,
      best_test_accuracy: [0.5024, 0.8457, 0.5588][i],
      opt_state_bytes: 1_741_612 * (optimizer === "adam" ? 2 : 1),
      run: `/tmp/somewhere/compare-fixture/members/${optimizer}`,
    })),
  );
  for (const [i, m] of ["sgd", "adam", "lion"].entries()) {
    const dir = join(cmp, "members", m);
    mkdirSync(join(dir, "landscape"), { recursive: true });
    writeFileSync(
      join(dir, "metrics.jsonl"),
      [1, 2, 3, 4]
        .map((s) =>
          JSON.stringify({ type: "step", epoch: 1, step: s, loss: (3 - i) / s, grad_norm: 1, elapsed_s: s }),
        )
        .join("\n") + "\n",
    );
    if (m === "adam") json(join(dir, "landscape", "tour-surface.json"), surface());
  }
  const land = writeRun(root, { id: "landscape-fixture", createdAt: "2026-10-02T09:00:00.000Z" });
  json(join(land, "config.json"), {
    id: "landscape-fixture",
    command: "tour-landscape",
    subject: "compare-fixture/members/adam",
  });
  mkdirSync(join(cmp, "members", "adam", "figures"), { recursive: true });
  writeFileSync(
    join(cmp, "members", "adam", "figures", "tour-surface.svg"),
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40"/></svg>',
  );

  const ct = writeRun(root, { id: "ct-fixture", createdAt: "2026-10-03T09:00:00.000Z" });
  json(join(ct, "config.json"), { id: "ct-fixture", command: "ct-compare" });
  json(join(ct, "results.json"), {
    rows: [
      { method: "linear probe", trainableParams: 325, testAccuracy: 0.715, note: "backbone frozen" },
      { method: "full fine-tuning", trainableParams: 435077, testAccuracy: 0.75, note: "all weights" },
    ],
  });
  writeFileSync(
    join(ct, "table.md"),
    "| method | trainable params | test acc | note |\n| --- | ---: | ---: | --- |\n| linear probe | 325 | 71.50% | backbone frozen |\n| full fine-tuning | 435,077 | 75.00% | all weights |\n",
  );

  const svf = writeRun(root, { id: "svf-eval-fixture", createdAt: "2026-10-04T09:00:00.000Z" });
  json(join(svf, "config.json"), { kind: "svf-eval", createdAt: "2026-10-04T09:00:00.000Z" });
  json(join(svf, "results.json"), {
    rows: [
      {
        task: "code",
        base: { accuracy: 0.0625, n: 16 },
        svf: { accuracy: 0.125, n: 16, run: "/abs/svf-code" },
      },
    ],
  });

  const inits = writeRun(root, { id: "inits-fixture", createdAt: "2026-10-05T09:00:00.000Z" });
  json(join(inits, "config.json"), { id: "inits-fixture", command: "init-compare" });
  json(join(inits, "table.json"), {
    columns: ["Method", "Error Rate %", "Convergence Speed"],
    definitions: { "Error Rate %": "100·(1 − test accuracy)" },
    rows: [
      { method: "torch_default", status: "done", errorRate: 41.22, convergenceSpeed: 1, reason: null },
      { method: "kaiming_normal", status: "done", errorRate: 33.69, convergenceSpeed: 0.75, reason: null },
    ],
  });
}
