/**
 * The expert library of Transformer² part 2: the base LM, the SVD of its targeted matrices, and
 * the trained z-vectors, one per expert category (plus, optionally, the classification expert).
 * Every expert must come from SVF runs over the same base model and targets, so one SVD serves
 * all of them. `composer` turns any z (an expert's, a mixture) into adapted weights
 * W′ = U diag(Σ ⊙ z) Vᵀ · ΣΣ/Σ(Σ ⊙ z), compiled once.
 */
import { jit } from "../../../engine/jax.js";
import { treeDispose, treeRef, type Params } from "../../../engine/tree.js";
import { UsageError } from "../../../errors.js";
import type { AdaptRunConfig } from "../../adapt-session.js";
import { loadLm, type LoadedLm } from "../../../lm/store.js";
import { Run } from "../../../runs/store.js";
import { svfParamsFromZ } from "../compose.js";
import { expertZ, loadExpert, type Expert } from "../expert.js";
import { factorsFromHost, SVD_CHECKPOINT, type SvdFactors } from "../svd.js";

export type ExpertLibrary = {
  lm: LoadedLm;
  targets: string[];
  factors: SvdFactors;
  /** Expert names in the order of the adaptation prompt and of α. */
  categories: string[];
  experts: Expert[];
  /** z of each expert, nested by target name (owned by the library). */
  zs: Params[];
  classifier?: { expert: Expert; z: Params; run: string };
  runs: Record<string, string>;
};

type SvfRun = { run: Run; config: AdaptRunConfig; expert: Expert };

function openSvfRun(source: string, runsRoot?: string): SvfRun {
  const run = Run.open(source, runsRoot);
  const config = run.config<AdaptRunConfig>();
  if (config.kind !== "adapter" || config.adapter?.kind !== "svf")
    throw new UsageError(`run ${run.dir} is not an SVF expert run`);
  return { run, config, expert: loadExpert(run.dir) };
}

/** Loads the experts (category → SVF run), optionally the classification expert, and their base. */
export function loadExpertLibrary(req: {
  experts: Record<string, string>;
  classifier?: string;
  runsRoot?: string;
}): ExpertLibrary {
  const categories = Object.keys(req.experts);
  if (!categories.length) throw new UsageError("--experts needs at least one category=run pair");
  const opened = categories.map((c) => openSvfRun(req.experts[c], req.runsRoot));
  const cls = req.classifier ? openSvfRun(req.classifier, req.runsRoot) : undefined;
  const first = opened[0];
  const targets = first.expert.targets;
  for (const [i, o] of [...opened, ...(cls ? [cls] : [])].entries()) {
    const name = i < categories.length ? `expert "${categories[i]}"` : "the classification expert";
    if (o.config.base !== first.config.base)
      throw new UsageError(`${name} (${o.run.dir}) adapts ${o.config.base}, not ${first.config.base}`);
    if (o.expert.targets.join(",") !== targets.join(","))
      throw new UsageError(`${name} (${o.run.dir}) adapts other matrices than ${first.run.dir}`);
  }
  const lm = loadLm(first.config.base, req.runsRoot);
  const { tensors, metadata } = first.run.loadCheckpoint(SVD_CHECKPOINT);
  if (metadata.targets !== targets.join(","))
    throw new Error(`${first.run.dir}: the SVD cache holds other targets than the expert`);
  const factors = factorsFromHost(tensors, targets);
  const runs = Object.fromEntries(categories.map((c, i) => [c, opened[i].run.dir]));
  return {
    lm,
    targets,
    factors,
    categories,
    experts: opened.map((o) => o.expert),
    zs: opened.map((o) => expertZ(o.expert)),
    classifier: cls ? { expert: cls.expert, z: expertZ(cls.expert), run: cls.run.dir } : undefined,
    runs,
  };
}

export function disposeLibrary(lib: ExpertLibrary): void {
  treeDispose(lib.lm.params);
  treeDispose(lib.factors as unknown as Params);
  lib.zs.forEach(treeDispose);
  lib.experts.forEach((e) => treeDispose(e.policy));
  if (lib.classifier) {
    treeDispose(lib.classifier.z);
    treeDispose(lib.classifier.expert.policy);
  }
}

export type Composer = {
  /** Adapted params for z (z consumed; the result is the caller's). */
  params(z: Params): Params;
  dispose(): void;
};

/** W′ for any z over the library's base and SVD, one compiled function for all of them. */
export function composer(lib: ExpertLibrary): Composer {
  const compose = jit((base: Params, factors: Params, z: Params) =>
    svfParamsFromZ(base, factors as unknown as SvdFactors, z),
  );
  return {
    params: (z) => compose(treeRef(lib.lm.params), treeRef(lib.factors as unknown as Params), z),
    dispose: () => compose.dispose(),
  };
}
