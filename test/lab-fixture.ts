/**
 * A small run store on disk, laid out as `tiller train` writes it (config.json, status.json,
 * metrics.jsonl, checkpoints/, figures/), for the lab's API and browser tests.
 */
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type FixtureRun = {
  id: string;
  optimizer?: string;
  status?: "running" | "done" | "failed" | "interrupted" | "diverged";
  epochs?: number;
  /** Test accuracy per finished epoch. */
  accuracies?: number[];
  limit?: number;
  batchSize?: number;
  createdAt?: string;
  figures?: Record<string, string>;
};

export const SVG = (label: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><text x="4" y="24">${label}</text></svg>`;

export function makeStore(runs: FixtureRun[]): { parent: string; root: string } {
  const parent = mkdtempSync(join(tmpdir(), "tiller-lab-"));
  const root = join(parent, "runs");
  mkdirSync(root);
  for (const r of runs) writeRun(root, r);
  return { parent, root };
}

export function writeRun(root: string, r: FixtureRun): string {
  const dir = join(root, r.id);
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
  mkdirSync(join(dir, "figures"), { recursive: true });
  const epochs = r.epochs ?? 2;
  const batchSize = r.batchSize ?? 100;
  const limit = r.limit ?? 500;
  const config = {
    id: r.id,
    createdAt: r.createdAt ?? "2026-11-01T10:00:00.000Z",
    command: "train",
    model: { name: "mlp", hidden: [32] },
    optimizer: { name: r.optimizer ?? "adam", lr: 0.001 },
    data: { dataset: "fashion-mnist", limit, normalize: "standardize" },
    epochs,
    batchSize,
    seed: 0,
    paramCount: 25450,
    logEvery: 1,
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  const accs = r.accuracies ?? [];
  writeFileSync(
    join(dir, "status.json"),
    JSON.stringify({ status: r.status ?? "done", epochsCompleted: accs.length, updatedAt: config.createdAt }),
  );
  writeFileSync(join(dir, "metrics.jsonl"), "");
  const stepsPerEpoch = Math.ceil(limit / batchSize);
  accs.forEach((acc, i) => {
    for (let s = 1; s <= stepsPerEpoch; s++)
      appendStep(dir, i + 1, i * stepsPerEpoch + s, 2 / (i * stepsPerEpoch + s));
    appendFileSync(
      join(dir, "metrics.jsonl"),
      JSON.stringify({
        type: "epoch",
        epoch: i + 1,
        train_loss: 1 / (i + 1),
        train_accuracy: acc + 0.01,
        test_loss: 1.1 / (i + 1),
        test_accuracy: acc,
        elapsed_s: 10 * (i + 1),
      }) + "\n",
    );
  });
  writeFileSync(join(dir, "checkpoints", "epoch-1.safetensors"), Buffer.alloc(16));
  for (const [name, text] of Object.entries(r.figures ?? {})) writeFileSync(join(dir, "figures", name), text);
  return dir;
}

export function appendStep(dir: string, epoch: number, step: number, loss: number): void {
  appendFileSync(
    join(dir, "metrics.jsonl"),
    JSON.stringify({ type: "step", epoch, step, loss, grad_norm: 1, elapsed_s: step * 0.1 }) + "\n",
  );
}

export function setStatus(dir: string, status: string, epochsCompleted = 0): void {
  writeFileSync(
    join(dir, "status.json"),
    JSON.stringify({ status, epochsCompleted, updatedAt: new Date().toISOString() }),
  );
}
