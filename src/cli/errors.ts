/**
 * How the CLI fails: one line on stderr naming the problem, exit code 2 for usage errors (bad
 * options, unknown names) and 1 for runtime errors (missing files, corrupt data). `--debug` adds
 * the stack.
 */
import { CommanderError, InvalidArgumentError } from "commander";
import { UsageError } from "../errors.js";

export { UsageError };

export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
  return EXIT_RUNTIME;
}

export function reportError(error: unknown, debug: boolean): number {
  const code = exitCodeFor(error);
  if (error instanceof CommanderError) return code; // commander already printed its message
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tiller: error: ${message.split("\n")[0]}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else if (code === EXIT_RUNTIME) process.stderr.write("(run with --debug for the stack trace)\n");
  return code;
}

// Option parsers: each returns the value or throws InvalidArgumentError (commander prints it).
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected an integer ≥ 0, got "${value}"`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

export function intList(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1))
    throw new InvalidArgumentError(`expected comma-separated positive integers like 512,64, got "${value}"`);
  return parts.map(Number);
}
