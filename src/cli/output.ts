/** How a command prints its result: lines for people, or (`--json`) one JSON object for programs. */
export function printResult(json: boolean | undefined, value: unknown, lines: string[]): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : lines.map((l) => `${l}\n`).join(""));
}
