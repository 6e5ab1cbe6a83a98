import { Command } from "commander";
import { positiveInt, positiveNumber } from "./errors.js";
import { addFinetuneOptions, runAdapterCommand, type FinetuneOptions } from "./svf.js";
import { refuseOptionsOnResume } from "./resume.js";

export const LORA_DEFAULT_LR = 2e-3;

type LoraTrainOptions = FinetuneOptions & { rank: number; alpha?: number };

function loraTrainCommand(): Command {
  return addFinetuneOptions(
    new Command("train").description(
      "Train a LoRA adapter (W + (α/r)·BA) on one task: the baseline SVF is compared with.",
    ),
    { objective: "sft", lr: LORA_DEFAULT_LR },
  )
    .option("--rank <r>", "rank of the update", positiveInt, 4)
    .option("--alpha <x>", "scale numerator α (update scaled by α/r; default 2r)", positiveNumber)
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lora train --base runs/<pretrain> --task math --rank 4                 # next-token loss, as in the paper
  $ tiller lora train --base runs/<pretrain> --task math --rank 4 --objective rl  # the SVF RL objective
  $ tiller lora train --resume runs/<lora-run>`,
    )
    .action((o: LoraTrainOptions, cmd: Command) => {
      if (o.resume) refuseOptionsOnResume(cmd);
      return runAdapterCommand(
        o,
        { kind: "lora", lora: { rank: o.rank, alpha: o.alpha ?? 2 * o.rank } },
        LORA_DEFAULT_LR,
      );
    });
}

export function loraCommand(): Command {
  return new Command("lora")
    .description("LoRA adapters: the baseline for SVF.")
    .addCommand(loraTrainCommand());
}
