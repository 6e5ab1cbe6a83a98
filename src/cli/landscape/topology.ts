/** `tiller landscape topology`: persistent homology of a surface. */
import { Command } from "commander";
import { runTopology } from "../../landscape/analyses.js";
import { nonNegativeNumber } from "../errors.js";
import { out, done, surfaceArg, type SurfaceArgOptions } from "./common.js";

export function topologyCommand(): Command {
  return surfaceArg(new Command("topology"))
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
    .addHelpText("after", "\nExample:\n  $ tiller landscape topology <run> --surface gauss --threshold 0.02")
    .action(
      async (
        surface: string,
        o: SurfaceArgOptions & {
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
          o,
          `features: ${s.counts.h0} in H0 (basins), ${s.counts.h1} in H1 (rings); total persistence H0 ${s.totalPersistence[0].toPrecision(4)}, H1 ${s.totalPersistence[1].toPrecision(4)}`,
        );
        if (!o.raw) out(o, "values normalised to [0, 1] (--raw for losses)");
        out(o, `minima with persistence > ${o.threshold}: ${s.significantMinima.length}`);
        for (const m of s.significantMinima) {
          const at = r.locate(m.at);
          out(
            o,
            `  ${m.value.toPrecision(5)} at (${at.x.toFixed(4)}, ${at.y.toFixed(4)}), persistence ${Number.isFinite(m.persistence) ? m.persistence.toPrecision(4) : "∞"}`,
          );
        }
        for (const d of [0, 1] as const) {
          const f = s.longestLived[d];
          if (f)
            out(
              o,
              `longest-lived finite H${d} feature: born ${f.birth.toPrecision(4)}, dies ${f.death.toPrecision(4)} (persistence ${(f.death - f.birth).toPrecision(4)})`,
            );
        }
        if (r.bottleneck)
          out(
            o,
            `bottleneck distance to ${r.bottleneck.other}: H0 ${r.bottleneck.h0.toPrecision(4)}, H1 ${r.bottleneck.h1.toPrecision(4)}`,
          );
        done(o, r);
      },
    );
}
