/**
 * `tiller landscape …`: loss landscapes, Hessian spectra and their analyses for a run's
 * checkpoints. Results go to the run's folder: landscape/<name>.json and figures/<name>.svg.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { startEngine } from "../engine/device.js";
import {
  runFit,
  runHessian,
  runInterpolation,
  runPaths,
  runProjection,
  runSurface,
  runTopology,
  runWavelets,
  type Progress as AnalysisProgress,
} from "../landscape/analyses.js";
import { WAVELETS, type WaveletName } from "../landscape/wavelets.js";
import { HESSIAN_DEFAULTS } from "../landscape/hessian.js";
import { intList, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from "./errors.js";
import { createProgress, lossField } from "./progress.js";
import { RUNS_HELP } from "./dialect.js";

function range(value: string): [number, number] {
  const parts = value.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || parts[0] >= parts[1])
    throw new InvalidArgumentError(`expected "lo,hi" with lo < hi, like -0.2,0.2; got "${value}"`);
  return [parts[0], parts[1]];
}

function point(value: string): [number, number] {
  const parts = value.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite))
    throw new InvalidArgumentError(`expected "x,y", like -0.2,0.2; got "${value}"`);
  return [parts[0], parts[1]];
}

type Common = {
  epoch?: number;
  split: "test" | "train";
  examples: number;
  offset: number;
  batchSize: number;
  dataDir?: string;
  runs?: string;
  name?: string;
  quiet?: boolean;
};

function withCommon(cmd: Command): Command {
  return cmd
    .option("--epoch <n>", "checkpoint epoch (default: the last one)", positiveInt)
    .addOption(new Option("--split <split>", "evaluation split").choices(["test", "train"]).default("test"))
    .option("--examples <n>", "evaluation examples (the book: the first 256 test images)", positiveInt, 256)
    .option("--offset <n>", "first evaluation example", nonNegativeInt, 0)
    .option("--batch-size <n>", "examples per evaluation batch", positiveInt, 256)
    .option("--data-dir <dir>", "Fashion-MNIST folder (default: the run's, $TILLER_DATA or Debian's)")
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <name>", "result name (landscape/<name>.json, figures/<name>.svg)")
    .option("-q, --quiet", "no progress output");
}

function common(run: string, o: Common, progress: AnalysisProgress) {
  return {
    run,
    runsRoot: o.runs,
    epoch: o.epoch,
    evaluation: { split: o.split, count: o.examples, offset: o.offset, dataDir: o.dataDir },
    batchSize: o.batchSize,
    name: o.name,
    onProgress: progress,
  };
}

/** Progress bar per phase: restarts when the label changes. */
function phases(quiet?: boolean) {
  const bar = createProgress({ quiet });
  let label = "";
  const update: AnalysisProgress = (done, total, l, detail) => {
    if (l !== label) {
      if (label) bar.stop();
      bar.start(total, l);
      label = l;
    }
    bar.update(done, lossField(detail));
  };
  return {
    update,
    stop: () => bar.stop(),
  };
}

const out = (line: string) => process.stdout.write(line + "\n");
/** Every command takes -q; the analyses of a stored surface have no progress to hide. */
const QUIET = "-q, --quiet";
const files = (list: string[]) => list.forEach((f) => out(`wrote ${f}`));

export function landscapeCommand(): Command {
  const cmd = new Command("landscape")
    .description(
      "Loss landscapes of a run's checkpoints: interpolation, projections, Hessian spectrum, surfaces, and their analyses.",
    )
    .addHelpText(
      "after",
      `
Examples (the book's chapter, on a trained ReLU MLP):
  $ tiller landscape interpolate <run> --from-epoch 1 --to-epoch 15
  $ tiller landscape project <run> --method both
  $ tiller landscape hessian <run> --top-k 4 --density
  $ tiller landscape surface <run> --directions hessian --count 4       # 2 panels, 40×40, λ ∈ [−0.2, 0.2]
  $ tiller landscape surface <run> --directions random --name random
  $ tiller landscape surface <run> --directions pca --name trajectory
  $ tiller landscape surface <run> --directions hessian --range -1,1 --steps 30 --name gauss
  $ tiller landscape fit <run> --surface gauss --offset max
  $ tiller landscape paths <run> --fit-name gauss-fit --optimizers sgd,momentum,adam
  $ tiller landscape wavelets <run> --surface gauss --wavelet db2 --levels 2
  $ tiller landscape topology <run> --surface gauss --compare <run2> --compare-name gauss`,
    );

  cmd.addCommand(
    withCommon(new Command("interpolate"))
      .description(
        "Loss and accuracy along (1−α)·w₁ + α·w₂ between two checkpoints (of one run, or of two runs of one model).",
      )
      .argument("<run>", "run id or directory")
      .option("--from-epoch <n>", "first checkpoint (default: the first)", positiveInt)
      .option("--to-epoch <n>", "second checkpoint (default: the last)", positiveInt)
      .option("--to-run <run>", "take the second checkpoint from another run (same model shape)")
      .option("--range <lo,hi>", "α range", range, [-0.25, 1.25])
      .option("--steps <n>", "α values", positiveInt, 31)
      .addHelpText(
        "after",
        "\nExample:\n  $ tiller landscape interpolate <relu-run> --to-run <tanh-run> --range -0.5,1.5",
      )
      .action(
        async (
          run: string,
          o: Common & {
            fromEpoch?: number;
            toEpoch?: number;
            toRun?: string;
            range: [number, number];
            steps: number;
          },
        ) => {
          await startEngine();
          const p = phases(o.quiet);
          const r = await runInterpolation({
            ...common(run, o, p.update),
            fromEpoch: o.fromEpoch,
            toEpoch: o.toEpoch,
            toRun: o.toRun,
            range: o.range,
            steps: o.steps,
          });
          p.stop();
          out(`interpolation ${r.from} → ${r.to} on ${o.examples} ${o.split} images`);
          const at = (a: number) => r.slice.alpha.findIndex((x) => Math.abs(x - a) < 1e-9);
          for (const a of [0, 0.5, 1]) {
            const i = at(a);
            if (i >= 0)
              out(
                `  α = ${a}: loss ${r.slice.loss[i].toFixed(4)}, accuracy ${(100 * r.slice.accuracy[i]).toFixed(2)}%`,
              );
          }
          const worst = r.slice.loss.indexOf(
            Math.max(...r.slice.loss.filter((_, i) => r.slice.alpha[i] >= 0 && r.slice.alpha[i] <= 1)),
          );
          out(
            `  highest loss between the endpoints: ${r.slice.loss[worst].toFixed(4)} at α = ${r.slice.alpha[worst].toFixed(3)}`,
          );
          files(r.files);
        },
      ),
  );

  cmd.addCommand(
    new Command("project")
      .description("PCA and t-SNE of a run's checkpoints (flattened weights), coloured by epoch.")
      .argument("<run>", "run id or directory")
      .option("--epochs <list>", "checkpoints to use, e.g. 1,2,3 (default: all)", intList)
      .addOption(new Option("--method <m>", "projection").choices(["pca", "tsne", "both"]).default("both"))
      .option("--perplexity <x>", "t-SNE perplexity (the book: 1 for 15 checkpoints)", positiveNumber, 1)
      .option("--iterations <n>", "t-SNE iterations", positiveInt, 1000)
      .option("--seed <n>", "t-SNE seed", nonNegativeInt, 0)
      .option("--runs <dir>", RUNS_HELP)
      .option("--name <name>", "result name", "projection")
      .option("-q, --quiet", "no progress output")
      .addHelpText("after", "\nExample:\n  $ tiller landscape project <run> --method pca")
      .action(
        async (
          run: string,
          o: {
            epochs?: number[];
            method: "pca" | "tsne" | "both";
            perplexity: number;
            iterations: number;
            seed: number;
            runs?: string;
            name: string;
            quiet?: boolean;
          },
        ) => {
          await startEngine();
          const p = phases(o.quiet);
          const r = await runProjection({
            run,
            runsRoot: o.runs,
            epochs: o.epochs,
            method: o.method,
            perplexity: o.perplexity,
            iterations: o.iterations,
            seed: o.seed,
            name: o.name,
            onProgress: p.update,
          });
          p.stop();
          if (r.result.pca) {
            const ev = r.result.pca.explainedVarianceRatio;
            out(`PCA: explained variance ${ev.map((v) => (100 * v).toFixed(1) + "%").join(", ")}`);
            r.epochs.forEach((e, i) =>
              out(`  epoch ${e}: (${r.result.pca!.coordinates[i].map((v) => v.toFixed(4)).join(", ")})`),
            );
          }
          if (r.result.tsne) out(`t-SNE: ${r.epochs.length} points embedded`);
          files(r.files);
        },
      ),
  );

  cmd.addCommand(
    withCommon(new Command("hessian"))
      .description(
        "Top eigenvalues (power iteration as PyHessian, or Lanczos), trace (Hutchinson) and spectral density (SLQ) of the loss Hessian, from Hessian-vector products.",
      )
      .argument("<run>", "run id or directory")
      .option("--top-k <n>", "eigenvalues to compute", positiveInt, HESSIAN_DEFAULTS.topK)
      .addOption(new Option("--method <m>", "eigen solver").choices(["power", "lanczos"]).default("power"))
      .option(
        "--max-iter <n>",
        "max Hessian-vector products per eigenvalue (power) or in all (Lanczos)",
        positiveInt,
        HESSIAN_DEFAULTS.maxIter,
      )
      .option(
        "--tol <x>",
        "eigenpairs: stop when the residual ‖Hv − λv‖ is below this fraction of |λ|",
        positiveNumber,
        HESSIAN_DEFAULTS.tol,
      )
      .option("--no-trace", "skip the trace")
      .option("--trace-samples <n>", "max Hutchinson samples", positiveInt, HESSIAN_DEFAULTS.traceSamples)
      .option(
        "--trace-tol <x>",
        "Hutchinson: stop when the standard error is below this fraction of the estimate (0: use every sample)",
        nonNegativeNumber,
        HESSIAN_DEFAULTS.traceTol,
      )
      .option("--density", "also estimate the eigenvalue density (SLQ) and draw it")
      .option(
        "--density-iter <n>",
        "Lanczos steps per SLQ run",
        positiveInt,
        HESSIAN_DEFAULTS.densityIterations,
      )
      .option("--density-runs <n>", "SLQ runs", positiveInt, 1)
      .option("--seed <n>", "seed of the random start vectors", nonNegativeInt, 0)
      .addHelpText(
        "after",
        "\nExample:\n  $ tiller landscape hessian <run> --top-k 4 --method lanczos --density",
      )
      .action(
        async (
          run: string,
          o: Common & {
            topK: number;
            method: "power" | "lanczos";
            maxIter: number;
            tol: number;
            trace: boolean;
            traceSamples: number;
            traceTol: number;
            density?: boolean;
            densityIter: number;
            densityRuns: number;
            seed: number;
          },
        ) => {
          await startEngine();
          const p = phases(o.quiet);
          const r = await runHessian({
            ...common(run, o, p.update),
            topK: o.topK,
            method: o.method,
            maxIter: o.maxIter,
            tol: o.tol,
            trace: o.trace,
            traceSamples: o.traceSamples,
            traceTol: o.traceTol,
            density: o.density,
            densityIterations: o.densityIter,
            densityRuns: o.densityRuns,
            seed: o.seed,
          });
          p.stop();
          out(
            `Hessian of the mean loss at epoch ${r.epoch} (${o.examples} ${o.split} images, loss ${r.loss.toFixed(4)})`,
          );
          out(
            `top ${o.topK} eigenvalues (${o.method}, largest first): ${r.eigen.eigenvalues.map((v) => v.toPrecision(6)).join(", ")}`,
          );
          out(`  products: ${r.eigen.iterations.join(", ")}`);
          if (!r.eigen.converged.every(Boolean))
            process.stderr.write(
              `tiller: warning: eigenvalue${r.eigen.converged.filter((c) => !c).length > 1 ? "s" : ""} ` +
                `${r.eigen.converged.flatMap((c, i) => (c ? [] : [i + 1])).join(", ")} did not reach --tol ${o.tol} ` +
                `in --max-iter ${o.maxIter} products: raise --max-iter, or use --method lanczos\n`,
            );
          if (r.trace) {
            out(
              `trace (Hutchinson, ${r.trace.samples.length} samples): ${r.trace.trace.toPrecision(6)} ± ${r.trace.stderr.toPrecision(3)}`,
            );
            if (!r.trace.converged && o.traceTol > 0)
              process.stderr.write(
                `tiller: warning: the trace's standard error is ${((100 * r.trace.stderr) / Math.abs(r.trace.trace)).toFixed(1)}% ` +
                  `of it, above --trace-tol ${o.traceTol}: raise --trace-samples for a tighter estimate\n`,
              );
          }
          if (r.density) {
            const nodes = r.density.nodes.flat();
            out(
              `density (SLQ): support [${Math.min(...nodes).toPrecision(4)}, ${Math.max(...nodes).toPrecision(4)}], integral ${r.densityIntegral!.toFixed(6)}`,
            );
          }
          files(r.files);
        },
      ),
  );

  cmd.addCommand(
    withCommon(new Command("surface"))
      .description(
        "2-D loss surface L(w + λ₁d₁ + λ₂d₂) on a grid, with Hessian, random filter-normalised or trajectory-PCA directions.",
      )
      .argument("<run>", "run id or directory")
      .addOption(
        new Option("--directions <kind>", "direction kind")
          .choices(["hessian", "random", "pca"])
          .default("hessian"),
      )
      .option("--count <n>", "directions; each pair is a panel (the book: 4 → 2 panels)", positiveInt, 2)
      .option("--steps <n>", "grid points per axis", positiveInt, 40)
      .option("--range <lo,hi>", "λ range (default -0.2,0.2; pca: fits the trajectory)", range)
      .option("--slices", "also 1-D slices along each direction")
      .option("--keep-bias", "random: keep bias/norm directions (copied from w) instead of zeroing them")
      .addOption(
        new Option("--method <m>", "hessian: eigen solver").choices(["lanczos", "power"]).default("lanczos"),
      )
      .option("--max-iter <n>", "hessian: max Hessian-vector products", positiveInt, 100)
      .option("--tol <x>", "hessian: relative tolerance", positiveNumber, 1e-3)
      .option("--seed <n>", "seed of random directions / start vectors", nonNegativeInt, 0)
      .addHelpText(
        "after",
        "\nExamples:\n  $ tiller landscape surface <run> --directions hessian --count 4\n  $ tiller landscape surface <run> --directions random --slices --name random",
      )
      .action(
        async (
          run: string,
          o: Common & {
            directions: "hessian" | "random" | "pca";
            count: number;
            steps: number;
            range?: [number, number];
            slices?: boolean;
            keepBias?: boolean;
            method: "lanczos" | "power";
            maxIter: number;
            tol: number;
            seed: number;
          },
        ) => {
          await startEngine();
          const p = phases(o.quiet);
          const r = await runSurface({
            ...common(run, o, p.update),
            directions: o.directions,
            count: o.count,
            steps: o.steps,
            range: o.range,
            slices: o.slices,
            ignoreBiasAndNorm: !o.keepBias,
            method: o.method,
            maxIter: o.maxIter,
            tol: o.tol,
            seed: o.seed,
          });
          p.stop();
          const rec = r.record;
          out(
            `surface "${r.name}" at epoch ${rec.subject.epoch}: centre loss ${rec.center.loss.toFixed(4)}, accuracy ${(100 * rec.center.accuracy).toFixed(2)}%`,
          );
          if (rec.directions.kind === "hessian")
            out(
              `  directions: top Hessian eigenvectors, λ = ${rec.directions.eigenvalues.map((v) => v.toPrecision(5)).join(", ")}`,
            );
          if (rec.directions.kind === "pca")
            out(
              `  directions: trajectory PCA, explained ${rec.directions.explainedVarianceRatio.map((v) => (100 * v).toFixed(1) + "%").join(", ")}`,
            );
          for (const panel of rec.panels) {
            const flat = panel.grid.loss.flat();
            out(
              `  panel d${panel.directions[0]}×d${panel.directions[1]}: loss ${Math.min(...flat).toFixed(4)} … ${Math.max(...flat).toFixed(4)}`,
            );
          }
          out(`  ${rec.pointsPerSecond.toFixed(1)} grid points/s, ${rec.elapsed_s.toFixed(1)} s in all`);
          files(r.files);
        },
      ),
  );

  const surfaceArg = (c: Command) =>
    c
      .argument("<surface>", "a landscape/<name>.json file, or a run (with --surface <name>)")
      .option("--surface <name>", "surface name within the run")
      .option("--panel <n>", "which panel of a multi-panel surface", nonNegativeInt, 0)
      .option("--runs <dir>", RUNS_HELP)
      .option("--name <name>", "result name")
      .option(QUIET, "no progress output (accepted for uniformity: only result lines are printed)");

  cmd.addCommand(
    surfaceArg(new Command("fit"))
      .description(
        "Fit the book's Gaussian z = offset − A·exp(−((x−x₀)²/2σ₁² + (y−y₀)²/2σ₂²)) to a surface (Levenberg–Marquardt).",
      )
      .addOption(
        new Option("--offset <how>", "fix the offset at max(z) as the book, or fit it too")
          .choices(["fit", "max"])
          .default("max"),
      )
      .addHelpText(
        "after",
        "\nExample:\n  $ tiller landscape fit runs/<id>/landscape/gauss.json --offset max",
      )
      .action(
        async (
          surface: string,
          o: { surface?: string; panel: number; runs?: string; name?: string; offset: "fit" | "max" },
        ) => {
          const r = await runFit({
            surface,
            runsRoot: o.runs,
            surfaceName: o.surface,
            panel: o.panel,
            offset: o.offset,
            name: o.name,
          });
          out(r.printed);
          files(r.files);
        },
      ),
  );

  cmd.addCommand(
    new Command("paths")
      .description(
        "Run optimisers from the suite on a fitted Gaussian and draw their paths on its contour map.",
      )
      .argument("<fit>", "a landscape/<name>-fit.json file, or a run (with --fit-name <name>)")
      .option("--fit-name <name>", "fit name within the run")
      .option(
        "--optimizers <list>",
        "comma-separated, settings after colons (sgd:lr=0.1,momentum:lr=0.05:momentum=0.8,adam:lr=0.1 are the book's and the defaults)",
        "sgd,momentum,adam",
      )
      .option("--steps <n>", "steps per optimiser", positiveInt, 100)
      .option(
        "--start <x,y>",
        "start point (default: the surface's top-left corner, the book's [d_min, d_max])",
        point,
      )
      .option("--runs <dir>", RUNS_HELP)
      .option("--name <name>", "result name")
      .option(QUIET, "no progress output (accepted for uniformity: only result lines are printed)")
      .addHelpText(
        "after",
        "\nExample:\n  $ tiller landscape paths <run> --fit-name gauss-fit --optimizers sgd,momentum,adam,lion:lr=0.01",
      )
      .action(
        async (
          fit: string,
          o: {
            fitName?: string;
            optimizers: string;
            steps: number;
            start?: [number, number];
            runs?: string;
            name?: string;
          },
        ) => {
          await startEngine();
          const r = await runPaths({
            fit,
            runsRoot: o.runs,
            fitName: o.fitName,
            optimizers: o.optimizers,
            steps: o.steps,
            start: o.start,
            name: o.name,
          });
          out(`paths from (${r.start.map((v) => v.toFixed(4)).join(", ")}), ${o.steps} steps:`);
          for (const p of r.paths) {
            const last = p.points.at(-1)!;
            out(
              `  ${p.optimizer}: f ${p.values[0]?.toFixed(4)} → ${p.values.at(-1)?.toFixed(4)} at (${last.map((v) => v.toFixed(4)).join(", ")})${p.diverged ? " (diverged)" : ""}`,
            );
          }
          files(r.files);
        },
      ),
  );

  cmd.addCommand(
    surfaceArg(new Command("wavelets"))
      .description(
        "2-D discrete wavelet decomposition of a surface: approximation and details per level, roughness per scale.",
      )
      .addOption(
        new Option("--wavelet <name>", "wavelet (db2 is Daubechies' 4-tap D4)")
          .choices(Object.keys(WAVELETS))
          .default("haar"),
      )
      .option("--levels <n>", "decomposition levels", positiveInt, 2)
      .addHelpText(
        "after",
        "\nExample:\n  $ tiller landscape wavelets <run> --surface gauss --wavelet db4 --levels 2",
      )
      .action(
        async (
          surface: string,
          o: {
            surface?: string;
            panel: number;
            runs?: string;
            name?: string;
            wavelet: WaveletName;
            levels: number;
          },
        ) => {
          const r = await runWavelets({
            surface,
            runsRoot: o.runs,
            surfaceName: o.surface,
            panel: o.panel,
            wavelet: o.wavelet,
            levels: o.levels,
            name: o.name,
          });
          out(`roughness per scale (${o.wavelet}):`);
          for (const s of r.roughness)
            out(
              `  level ${s.level} (scale ${s.scale.toPrecision(3)}): RMS detail ${s.rms.toPrecision(4)}, ${(100 * s.energyFraction).toFixed(3)}% of the energy`,
            );
          files(r.files);
        },
      ),
  );

  cmd.addCommand(
    surfaceArg(new Command("topology"))
      .description(
        "Persistent homology of a surface's sublevel sets: persistence diagram, significant minima, longest-lived features, bottleneck distance.",
      )
      .option(
        "--threshold <x>",
        "persistence a minimum needs to count (on the loss normalised to [0, 1])",
        nonNegativeNumber,
        0.01,
      )
      .option("--raw", "use the raw loss instead of normalising it to [0, 1]")
      .option("--compare <surface>", "another surface (file or run) for the bottleneck distance")
      .option("--compare-name <name>", "its name within its run")
      .addHelpText(
        "after",
        "\nExample:\n  $ tiller landscape topology <run> --surface gauss --threshold 0.02",
      )
      .action(
        async (
          surface: string,
          o: {
            surface?: string;
            panel: number;
            runs?: string;
            name?: string;
            threshold: number;
            raw?: boolean;
            compare?: string;
            compareName?: string;
          },
        ) => {
          const r = await runTopology({
            surface,
            runsRoot: o.runs,
            surfaceName: o.surface,
            panel: o.panel,
            threshold: o.threshold,
            normalize: !o.raw,
            compare: o.compare,
            compareName: o.compareName,
            name: o.name,
          });
          const s = r.summary;
          out(
            `features: ${s.counts.h0} in H0 (basins), ${s.counts.h1} in H1 (rings); total persistence H0 ${s.totalPersistence[0].toPrecision(4)}, H1 ${s.totalPersistence[1].toPrecision(4)}`,
          );
          if (!o.raw) out("values normalised to [0, 1] (--raw for losses)");
          out(`minima with persistence > ${o.threshold}: ${s.significantMinima.length}`);
          for (const m of s.significantMinima) {
            const at = r.locate(m.at);
            out(
              `  ${m.value.toPrecision(5)} at (${at.x.toFixed(4)}, ${at.y.toFixed(4)}), persistence ${Number.isFinite(m.persistence) ? m.persistence.toPrecision(4) : "∞"}`,
            );
          }
          for (const d of [0, 1] as const) {
            const f = s.longestLived[d];
            if (f)
              out(
                `longest-lived finite H${d} feature: born ${f.birth.toPrecision(4)}, dies ${f.death.toPrecision(4)} (persistence ${(f.death - f.birth).toPrecision(4)})`,
              );
          }
          if (r.bottleneck)
            out(
              `bottleneck distance to ${r.bottleneck.other}: H0 ${r.bottleneck.h0.toPrecision(4)}, H1 ${r.bottleneck.h1.toPrecision(4)}`,
            );
          files(r.files);
        },
      ),
  );
  return cmd;
}
