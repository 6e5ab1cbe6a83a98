/** Parallel coordinates: where each run crosses each axis (closed forms), and the spec's layers. */
import { describe, expect, it } from "vitest";
import { parallelData, parallelSpec } from "../../src/report/parallel.js";

const runs = [
  { id: "a", values: { optimizer: "sgd", lr: 1e-4 }, metric: 0.5 },
  { id: "b", values: { optimizer: "adam", lr: 1e-2 }, metric: 0.9 },
  { id: "c", values: { optimizer: "lion", lr: 1e-3 }, metric: 0.7 },
];
const at = (axis: string, id: string) =>
  parallelData(runs, ["optimizer", "lr"], "acc").points.find((p) => p.axis === axis && p.id === id)!.y;

describe("parallel coordinates", () => {
  it("a learning rate spanning decades sits on a log axis: 1e-3 is halfway between 1e-4 and 1e-2", () => {
    expect(at("lr", "a")).toBe(0);
    expect(at("lr", "b")).toBe(1);
    expect(at("lr", "c")).toBeCloseTo(0.5, 12);
  });

  it("names are evenly spaced in the order first seen, and the metric axis is linear", () => {
    expect([at("optimizer", "a"), at("optimizer", "b"), at("optimizer", "c")]).toEqual([0, 0.5, 1]);
    expect(at("acc", "c")).toBeCloseTo((0.7 - 0.5) / (0.9 - 0.5), 12);
  });

  it("a run without the metric yet still shows its swept values, and the spec draws axes, lines and labels", () => {
    const data = parallelData(
      [...runs, { id: "d", values: { optimizer: "sgd", lr: 1e-2 } }],
      ["optimizer", "lr"],
      "acc",
    );
    expect(data.points.filter((p) => p.id === "d").map((p) => p.axis)).toEqual(["optimizer", "lr"]);
    const spec = parallelSpec(runs, ["optimizer", "lr"], "acc") as { layer: { mark: { type: string } }[] };
    expect(spec.layer.map((l) => l.mark.type)).toEqual(["rule", "line", "text"]);
  });
});
