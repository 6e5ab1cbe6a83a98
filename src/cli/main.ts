#!/usr/bin/env node
/**
 * `tiller`: the command-line shell over the library. Commands only parse, call and present.
 */
import { Command, InvalidArgumentError } from "commander";
import { createRequire } from "node:module";
import { reportError, EXIT_USAGE } from "./errors.js";
import { aliasOption } from "./dialect.js";
import { trainCommand } from "./train.js";
import { runsCommand } from "./runs.js";
import { reportCommand } from "./report.js";
import { tourCommand } from "./tour.js";
import { initCommand } from "./init.js";
import { ctCommand } from "./ct.js";
import { labCommand } from "./lab.js";
import { lmCommand } from "./lm.js";
import { svfCommand } from "./svf.js";
import { loraCommand } from "./lora.js";
import { optimCommand } from "./optim.js";
import { landscapeCommand } from "./landscape.js";
import { dynamicsCommand } from "./dynamics.js";
import { sweepCommand } from "./sweep.js";
import { workerCommand } from "./worker.js";
import { completionCommand } from "./completion.js";
import { loadEngine, shutdownWorkers } from "../engine/jax.js";
import { DEVICE_CHOICES } from "../engine/device.js";

function deviceChoice(value: string): string {
  if (!(DEVICE_CHOICES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${DEVICE_CHOICES.join(", ")}, got "${value}"`);
  return value;
}

/** package.json sits two levels up from src/cli and three from dist/src/cli. */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const p of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === "tiller-ml" && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return "unknown";
}
const version = packageVersion();

export function buildProgram(): Command {
  const program = new Command("tiller")
    .description("Tiller — steer, train and see neural networks.")
    .version(version)
    .option("--debug", "print stack traces on errors")
    .option(
      "--device <name>",
      `compute device: ${DEVICE_CHOICES.join(", ")} (default wasm; also TILLER_DEVICE)`,
      deviceChoice,
    )
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      `
Start here:
  $ tiller tour                        # the whole story on real data (npm start)
  $ tiller train --model mlp --epochs 3
  $ tiller runs list
  $ tiller report <run>

Environment:
  TILLER_THREADS=n      CPU threads (default: every core; 0 = one thread, no worker pool)
  TILLER_BLAS=route     CPU matmul: auto (OpenBLAS when libopenblas0-pthread and the addon load,
                        else wasm), openblas (or fail saying why), wasm
  TILLER_RUNS=dir       runs folder (as --runs);  TILLER_DATA=dir  Fashion-MNIST files`,
    );
  for (const cmd of [
    tourCommand(),
    trainCommand(),
    runsCommand(),
    reportCommand(),
    labCommand(),
    ctCommand(),
    initCommand(),
    lmCommand(),
    svfCommand(),
    loraCommand(),
    optimCommand(),
    landscapeCommand(),
    dynamicsCommand(),
    sweepCommand(),
    workerCommand(),
    completionCommand(() => program),
  ])
    program.addCommand(cmd);
  const finish = (c: Command) => {
    c.exitOverride();
    // One dialect: every command with --runs also takes its old spelling --out (hidden, deprecated).
    if (c.options.some((o) => o.long === "--runs") && !c.options.some((o) => o.long === "--out"))
      aliasOption(c, "out", "runs", "<dir>");
    c.commands.forEach(finish);
  };
  finish(program);
  // Commands select the device with startEngine; the device travels there through the environment.
  // The engine itself (jax-js and what Node lacks for it) is loaded before any action runs.
  program.hook("preAction", async () => {
    const device = program.opts<{ device?: string }>().device;
    if (device) process.env.TILLER_DEVICE = device;
    await loadEngine();
  });
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    return reportError(e, argv.includes("--debug"));
  }
}

const code = await main(process.argv);
await shutdownWorkers();
process.exit(code === undefined ? EXIT_USAGE : code);
