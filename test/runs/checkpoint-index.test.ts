/**
 * A checkpoint's file and its checksum in checkpoints/index.json are two writes; a SIGKILL between
 * them must leave a run that resumes (the robustness suite's kill tests once hit that window).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { HostTensors } from "../../src/engine/tree.js";
import { Run } from "../../src/runs/store.js";

const tensors = (v: number) =>
  ({ w: { dtype: "float32", shape: [2], data: new Float32Array([v, v]) } }) as unknown as HostTensors;

/** A run whose next index write throws after `allowed` more writes: a kill at that moment. */
function killedAfterIndexWrites(run: Run, allowed: number): void {
  const write = run.writeJson.bind(run);
  let left = allowed;
  run.writeJson = (rel: string, value: unknown) => {
    if (rel.endsWith("index.json") && left-- <= 0) throw new Error("killed");
    return write(rel, value);
  };
}

describe("checkpoint writes", () => {
  it("leave a loadable checkpoint when killed between the file and the index (the new one)", () => {
    const run = Run.create(mkdtempSync(join(tmpdir(), "tiller-ckpt-")), "r", {});
    run.saveCheckpoint("latest", tensors(1), { step: "1" });
    killedAfterIndexWrites(run, 1); // the pending entry is written, the final one is not
    expect(() => run.saveCheckpoint("latest", tensors(2), { step: "2" })).toThrow("killed");
    const loaded = run.loadCheckpoint("latest");
    expect(loaded.metadata.step).toBe("2");
    expect(Array.from(loaded.tensors.w.data as Float32Array)).toEqual([2, 2]);
  });

  it("leave the old checkpoint loadable when killed before the file is replaced", () => {
    const run = Run.create(mkdtempSync(join(tmpdir(), "tiller-ckpt-")), "r", {});
    run.saveCheckpoint("latest", tensors(1), { step: "1" });
    killedAfterIndexWrites(run, 0);
    expect(() => run.saveCheckpoint("latest", tensors(2), { step: "2" })).toThrow("killed");
    expect(run.loadCheckpoint("latest").metadata.step).toBe("1");
  });

  it("still refuse a file that matches neither checksum", () => {
    const run = Run.create(mkdtempSync(join(tmpdir(), "tiller-ckpt-")), "r", {});
    run.saveCheckpoint("latest", tensors(1), { step: "1" });
    run.writeFile(join("checkpoints", "latest.safetensors"), new Uint8Array([1, 2, 3]));
    expect(() => run.loadCheckpoint("latest")).toThrow(/checksum mismatch, the file is corrupt/);
  });
});
