/**
 * `tiller completion bash|zsh`: a shell completion script for every command, subcommand and
 * option, generated from the program's own command tree (so it never goes stale). Zsh loads the
 * same script through its bash compatibility (bashcompinit).
 */
import { Command, Option } from "commander";
import { UsageError } from "../errors.js";

/** Completion words after each command path ("tiller", "tiller landscape"): subcommands, then options. */
export function completionTable(program: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const visit = (c: Command, path: string[]) => {
    const visible = (o: Option) => !(o as Option & { hidden?: boolean }).hidden;
    const options = c.options
      .filter(visible)
      .flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
    const subs = c.commands
      .filter((s) => !(s as Command & { _hidden?: boolean })._hidden)
      .map((s) => s.name());
    table.set(path.join(" "), [...subs, ...options, "--help"]);
    for (const s of c.commands) visit(s, [...path, s.name()]);
  };
  visit(program, ["tiller"]);
  return table;
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

export function bashScript(program: Command, names: string[]): string {
  const entries = [...completionTable(program)]
    .map(([path, words]) => `  [${quote(path)}]=${quote(words.join(" "))}`)
    .join("\n");
  return `# tiller completion for bash — add to ~/.bashrc:  source <(tiller completion bash)
declare -gA _tiller_words=(
${entries}
)
_tiller() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="tiller" w candidate i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    candidate="$path $w"
    [[ -n "\${_tiller_words[$candidate]+set}" ]] && path="$candidate"
  done
  COMPREPLY=($(compgen -W "\${_tiller_words[$path]}" -- "$cur"))
}
complete -o default -F _tiller ${names.join(" ")}
`;
}

export function zshScript(program: Command, names: string[]): string {
  return `# tiller completion for zsh — add to ~/.zshrc:  source <(tiller completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(program, names).replace(/^# .*\n/, "")}`;
}

export function completionCommand(program: () => Command): Command {
  return new Command("completion")
    .description("Print a shell completion script for bash or zsh.")
    .argument("<shell>", "bash or zsh")
    .addHelpText(
      "after",
      `
Examples:
  $ source <(tiller completion bash)                 # now, in this shell
  $ tiller completion bash >> ~/.bashrc              # every new shell
  $ tiller completion zsh > ~/.zsh-tiller && echo 'source ~/.zsh-tiller' >> ~/.zshrc`,
    )
    .action((shell: string) => {
      const names = ["tiller", "tiller-ml"];
      if (shell === "bash") process.stdout.write(bashScript(program(), names));
      else if (shell === "zsh") process.stdout.write(zshScript(program(), names));
      else throw new UsageError(`no completion for "${shell}": choose bash or zsh`);
    });
}
