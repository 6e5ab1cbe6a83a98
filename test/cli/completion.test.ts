import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const tiller = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", resolve("src/cli/main.ts"), ...args], { encoding: "utf8" });

/** What bash completes for `words` (the last one being typed) with the generated script loaded. */
function complete(script: string, words: string[]): string[] {
  const file = join(mkdtempSync(join(tmpdir(), "tiller-completion-")), "c.sh");
  writeFileSync(file, script);
  const out = execFileSync(
    "bash",
    [
      "-c",
      `source ${file}; COMP_WORDS=(${words.join(" ")}); COMP_CWORD=${words.length - 1}; _tiller; echo "\${COMPREPLY[@]}"`,
    ],
    { encoding: "utf8" },
  );
  return out.trim().split(/\s+/);
}

describe("tiller completion", () => {
  const bash = tiller("completion", "bash");

  it("completes commands, subcommands and options in bash from the program's own tree", () => {
    expect(bash.status).toBe(0);
    expect(complete(bash.stdout, ["tiller", "lands"])).toEqual(["landscape"]);
    expect(complete(bash.stdout, ["tiller", "landscape", "surf"])).toEqual(["surface"]);
    expect(complete(bash.stdout, ["tiller", "train", "--epo"])).toEqual(["--epochs"]);
    expect(complete(bash.stdout, ["tiller", "train", "--epochs", "3", "--batch"])).toEqual(["--batch-size"]);
  });

  it("gives zsh the same table through bashcompinit, and refuses other shells with a usage error", () => {
    const zsh = tiller("completion", "zsh");
    expect(zsh.stdout).toContain("bashcompinit");
    expect(zsh.stdout).toContain("complete -o default -F _tiller tiller tiller-ml");
    const fish = tiller("completion", "fish");
    expect(fish.status).toBe(2);
    expect(fish.stderr).toMatch(/choose bash or zsh/);
  });
}, 60_000);
