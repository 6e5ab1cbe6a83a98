import { describe, expect, it } from "vitest";
import type { DynamicsRecord } from "../../src/train/dynamics.js";
import { dynamicsFigures } from "../../src/train/dynamics-figures.js";

const record = (type: "epoch" | "step", i: number): DynamicsRecord => ({
  type,
  epoch: type === "epoch" ? i : Math.ceil(i / 5),
  step: type === "step" ? i : 5 * i,
  loss: 2 / i,
  grad_norm: 1 / i,
  param_change: 0.5 / i,
  param_change_from_start: 0.5 * i,
  weight_norm: 10 + i,
  loss_improvement: i === 1 ? 0 : 2 / (i - 1) - 2 / i,
});

type Panels = {
  title: string;
  columns: number;
  concat: { title: string; data: { values: { x: number }[] } }[];
};

describe("training dynamics figures", () => {
  const records = [1, 2, 3].map((i) => record("epoch", i)).concat([1, 2, 3, 4].map((i) => record("step", i)));
  const f = dynamicsFigures("optimizers-383c74be08/members/adam", records);
  const epochs = f.epochs as unknown as Panels;
  const steps = f.steps as unknown as Panels;

  it("per step show the same five panels as per epoch", () => {
    expect(steps.concat.map((p) => p.title)).toEqual(epochs.concat.map((p) => p.title));
    expect(epochs.concat).toHaveLength(5);
  });

  it("name the run by its last part, not by its path inside the store", () => {
    expect(epochs.title).toBe("Training dynamics per epoch · adam");
    expect(steps.title).not.toContain("/");
  });

  it("leave out the first loss improvement, which has no previous loss to improve on", () => {
    const improvement = epochs.concat.find((p) => p.title === "Loss improvement")!;
    expect(improvement.data.values.map((v) => v.x)).toEqual([2, 3]);
  });

  it("wrap into three columns so the axis text stays readable at page width", () => {
    expect(epochs.columns).toBe(3);
  });
});
