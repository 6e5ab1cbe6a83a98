/** Runs the PyTorch reference scripts (Debian python3-torch) and parses their one JSON line. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";

export function pythonPath(): string {
  return process.env.TILLER_PYTHON ?? "/usr/bin/python3";
}

/** scripts/reference/, from the source tree or from dist/ after a build. */
export function referenceScript(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const candidate = join(dir, "scripts", "reference", name);
    if (existsSync(candidate) && !candidate.includes("/dist/")) return candidate;
  }
  throw new Error(`scripts/reference/${name} not found`);
}

export function runPythonJson<T>(
  script: string,
  args: string[],
  onLine?: (line: string) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonPath(), [referenceScript(script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      err += d;
      for (const l of String(d).split("\n")) if (l.trim()) onLine?.(l);
    });
    child.on("error", (e) =>
      reject(
        new Error(`cannot run ${pythonPath()} (${e.message}); install python3-torch or set TILLER_PYTHON`),
      ),
    );
    child.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0)
        return reject(new Error(`${script} exited with ${code}: ${err.trim().split("\n").at(-1)}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result (last line: ${last.slice(0, 200)})`));
      }
    });
  });
}
