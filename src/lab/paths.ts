/** Where the lab finds its package and its built browser app, from src/lab or dist/src/lab alike. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding tiller's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error(
    "cannot find the tiller package root (package.json) above " + fileURLToPath(import.meta.url),
  );
}

/** The Vite build of the lab's UI (`npm run build:lab` writes it). */
export function defaultAssetsDir(): string {
  return join(packageRoot(), "dist", "lab");
}
