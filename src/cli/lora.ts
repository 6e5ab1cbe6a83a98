import { Command } from "commander";
import { loraTrainRequest } from "../requests/adapter.js";
import { adapterCommand } from "./svf.js";

function loraTrainCommand(): Command {
  return adapterCommand(
    "train",
    loraTrainRequest,
    `
Examples:
  $ tiller lora train runs/<pretrain> --task math --rank 4                 # next-token loss, as in the paper
  $ tiller lora train runs/<pretrain> --task math --rank 4 --objective rl  # the SVF RL objective
  $ tiller lora train --resume runs/<lora-run>`,
  );
}

export function loraCommand(): Command {
  return new Command("lora")
    .description("LoRA adapters: the baseline for SVF.")
    .addCommand(loraTrainCommand());
}
