/**
 * One CLI dialect (issue 22): the run a command reads is a positional argument, the runs folder is
 * `--runs` (else $TILLER_RUNS, else ./runs), a task is `--task`. Old spellings stay as hidden
 * aliases that print one deprecation line. Commands built from a request schema get this from
 * `request-options.ts`; these helpers give it to the commands still declared by hand.
 */
import { Command, Option } from "commander";
import { UsageError } from "../errors.js";

export const RUNS_HELP = "runs folder (default $TILLER_RUNS or ./runs)";

function deprecated(old: string, now: string): void {
  process.stderr.write(`tiller: --${old} is deprecated; use ${now}\n`);
}

/** `--<old>` as a hidden alias of the option `--<now>` (same value). */
export function aliasOption(cmd: Command, old: string, now: string, placeholder = "<value>"): Command {
  const attr = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  cmd.addOption(new Option(`--${old} ${placeholder}`).hideHelp());
  return cmd.hook("preAction", (self) => {
    const value: unknown = self.getOptionValue(attr(old));
    if (value === undefined) return;
    deprecated(old, `--${now}`);
    const current: unknown = self.getOptionValue(attr(now));
    if (current !== undefined && self.getOptionValueSource(attr(now)) === "cli" && current !== value)
      throw new UsageError(`--${old} and --${now} disagree; give only --${now}`);
    self.setOptionValueWithSource(attr(now), value, "cli");
  });
}

/** `--runs <dir>`, with `--out` as its old spelling. */
export function runsOption(cmd: Command, help = RUNS_HELP): Command {
  return aliasOption(cmd.option("--runs <dir>", help), "out", "runs", "<dir>");
}

/**
 * The run a command reads as its first positional argument `[name]`, with `--<old>` as the old
 * spelling; the action sees the value in its first argument either way.
 */
export function runArgument(cmd: Command, name: string, description: string, old: string): Command {
  cmd.argument(`[${name}]`, description).addOption(new Option(`--${old} <${name}>`).hideHelp());
  return cmd.hook("preAction", (self) => {
    const value: unknown = self.getOptionValue(old);
    if (value !== undefined) {
      deprecated(old, `the <${name}> argument`);
      if (self.processedArgs[0] !== undefined && self.processedArgs[0] !== value)
        throw new UsageError(`--${old} and the <${name}> argument disagree; give only <${name}>`);
      self.processedArgs[0] = value;
    }
  });
}

/** A positional argument that was optional only for its old flag's sake, now required. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new UsageError(`missing the <${name}> argument`);
  return value;
}
