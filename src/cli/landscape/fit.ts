/** `tiller landscape fit`: the book's Gaussian fitted to a surface. */
import { Command, Option } from "commander";
import { runFit } from "../../landscape/analyses.js";
import { out, done, surfaceArg, type SurfaceArgOptions } from "./common.js";

export function fitCommand(): Command {
  return surfaceArg(new Command("fit"))
    .description(
      "Fit the book's Gaussian z = offset − A·exp(−((x−x₀)²/2σ₁² + (y−y₀)²/2σ₂²)) to a surface (Levenberg–Marquardt).",
    )
    .addOption(
      new Option("--offset <how>", "fix the offset at max(z) as the book, or fit it too")
        .choices(["fit", "max"])
        .default("max"),
    )
    .addHelpText("after", "\nExample:\n  $ tiller landscape fit runs/<id>/landscape/gauss.json --offset max")
    .action(
      async (
        surface: string,
        o: SurfaceArgOptions & {
          offset: "fit" | "max";
        },
      ) => {
        const r = await runFit({
          surface,
          runsRoot: o.runs,
          surfaceName: o.surface,
          panel: o.panel,
          offset: o.offset,
          name: o.name,
        });
        out(o, r.printed);
        done(o, r);
      },
    );
}
