import type { Command } from "commander";
import { UsageError } from "./errors.js";

/** Options that say where and how to show, never what to compute: free with --resume. */
const FREE_ON_RESUME = ["resume", "runs", "out", "quiet", "dataDir"];

/**
 * With --resume the run's config.json decides: an option given on the command line would be
 * silently ignored, so it is refused with one line (exit 2), as `train` and `optim compare` do.
 */
export function refuseOptionsOnResume(cmd: Command): void {
  const given = cmd.options.filter((opt) => {
    const key = opt.attributeName();
    return cmd.getOptionValueSource(key) === "cli" && !FREE_ON_RESUME.includes(key);
  });
  if (given.length)
    throw new UsageError(`${given.map((o) => o.long).join(", ")}: fixed by the run's config on --resume`);
}
