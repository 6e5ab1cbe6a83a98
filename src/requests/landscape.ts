/**
 * The landscape analyses a request can start on a trained run (the lab's jobs, sweeps): each reads
 * the run given as its positional argument and writes landscape/<name>.json and a figure into it.
 */
import { z } from "zod";
import { batchSizeField, dataDirField, runArgument, runsField, seedField } from "./common.js";
import { defineRequest, field } from "./request.js";

const lohi = z
  .tuple([z.number().finite(), z.number().finite()])
  .refine(([lo, hi]) => lo < hi, "expected lo < hi, like -0.2,0.2");

/** The evaluation set and checkpoint every landscape analysis shares. */
export const analysisFields = {
  run: runArgument("run id or directory"),
  epoch: field(z.number().int().min(1).optional(), {
    description: "checkpoint epoch (default: the last one)",
  }),
  split: field(z.enum(["test", "train"]).default("test"), {
    description: "evaluation split",
    placeholder: "<split>",
  }),
  examples: field(z.number().int().min(1).max(60_000).default(256), {
    description: "evaluation examples (the book: the first 256 test images)",
  }),
  offset: field(z.number().int().min(0).default(0), { description: "first evaluation example" }),
  batchSize: {
    ...batchSizeField,
    meta: { ...batchSizeField.meta, description: "examples per evaluation batch" },
  },
  dataDir: {
    ...dataDirField,
    meta: {
      ...dataDirField.meta,
      description: "Fashion-MNIST folder (default: the run's, $TILLER_DATA or Debian's)",
    },
  },
  runs: runsField,
  name: field(z.string().min(1).optional(), {
    description: "result name (landscape/<name>.json, figures/<name>.svg)",
    placeholder: "<name>",
  }),
};

export const landscapeSurfaceRequest = defineRequest(
  "landscape-surface",
  "2-D loss surface L(w + λ₁d₁ + λ₂d₂) on a grid, with Hessian, random filter-normalised or trajectory-PCA directions.",
  {
    ...analysisFields,
    directions: field(z.enum(["hessian", "random", "pca"]).default("hessian"), {
      description: "direction kind",
      placeholder: "<kind>",
    }),
    count: field(z.number().int().min(2).max(8).default(2), {
      description: "directions; each pair is a panel (the book: 4 → 2 panels)",
    }),
    steps: field(z.number().int().min(3).max(200).default(40), { description: "grid points per axis" }),
    range: field(lohi.optional(), {
      description: "λ range (default -0.2,0.2; pca: fits the trajectory)",
      placeholder: "<lo,hi>",
      fromText: (t) => t.split(",").map((s) => (s.trim() === "" ? NaN : Number(s))),
    }),
    slices: field(z.boolean().optional(), { description: "also 1-D slices along each direction" }),
    keepBias: field(z.boolean().optional(), {
      description: "random: keep bias/norm directions (copied from w) instead of zeroing them",
    }),
    method: field(z.enum(["lanczos", "power"]).default("lanczos"), {
      description: "hessian: eigen solver",
      placeholder: "<m>",
    }),
    maxIter: field(z.number().int().min(1).default(100), {
      description: "hessian: max Hessian-vector products",
    }),
    tol: field(z.number().positive().default(1e-3), {
      description: "hessian: relative tolerance",
      placeholder: "<x>",
    }),
    seed: {
      ...seedField,
      meta: { ...seedField.meta, description: "seed of random directions / start vectors" },
    },
  },
);
export type LandscapeSurfaceRequest = z.infer<typeof landscapeSurfaceRequest.schema>;
