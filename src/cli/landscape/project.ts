/** `tiller landscape project`: PCA and t-SNE of a run's checkpoints. */
import { Command, Option } from "commander";
import { runProjection } from "../../landscape/analyses.js";
import { intList, nonNegativeInt, positiveInt, positiveNumber } from "../errors.js";
import { RUNS_HELP } from "../dialect.js";
import { withPhases, out, done } from "./common.js";

export function projectCommand(): Command {
  return new Command("project")
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
        const r = await withPhases(o.quiet, (progress) =>
          runProjection({
            run,
            runsRoot: o.runs,
            epochs: o.epochs,
            method: o.method,
            perplexity: o.perplexity,
            iterations: o.iterations,
            seed: o.seed,
            name: o.name,
            onProgress: progress,
          }),
        );
        if (r.result.pca) {
          const ev = r.result.pca.explainedVarianceRatio;
          out(o, `PCA: explained variance ${ev.map((v) => (100 * v).toFixed(1) + "%").join(", ")}`);
          r.epochs.forEach((e, i) =>
            out(o, `  epoch ${e}: (${r.result.pca!.coordinates[i].map((v) => v.toFixed(4)).join(", ")})`),
          );
        }
        if (r.result.tsne) out(o, `t-SNE: ${r.epochs.length} points embedded`);
        done(o, r);
      },
    );
}
