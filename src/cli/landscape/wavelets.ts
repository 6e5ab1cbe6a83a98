/** `tiller landscape wavelets`: wavelet decomposition of a surface. */
import { Command, Option } from "commander";
import { runWavelets } from "../../landscape/analyses.js";
import { WAVELETS, type WaveletName } from "../../landscape/wavelets.js";
import { positiveInt } from "../errors.js";
import { out, done, surfaceArg, type SurfaceArgOptions } from "./common.js";

export function waveletsCommand(): Command {
  return surfaceArg(new Command("wavelets"))
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
        o: SurfaceArgOptions & {
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
        out(o, `roughness per scale (${o.wavelet}):`);
        for (const s of r.roughness)
          out(
            o,
            `  level ${s.level} (scale ${s.scale.toPrecision(3)}): RMS detail ${s.rms.toPrecision(4)}, ${(100 * s.energyFraction).toFixed(3)}% of the energy`,
          );
        done(o, r);
      },
    );
}
