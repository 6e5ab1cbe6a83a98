/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh consumer project,
 * the README's library example type-checked there with skipLibCheck false and run, and the
 * `tiller` / `tiller-ml` bins answering. The install unpacks the tarball into node_modules/tiller-ml
 * and links its dependencies from this checkout's node_modules, so it works offline (here and in
 * CI) and checks exactly the files the tarball holds.
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveDataDir } from "../../src/data/fashion-mnist.js";

const repo = resolve(".");
const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
  name: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};
const hasData = existsSync(resolveDataDir());

/** A command's exit status and output, without blocking the test worker (npm pack takes minutes). */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts }, (err, stdout, stderr) =>
      done({ status: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}
const tscBin = join(repo, "node_modules", "typescript", "bin", "tsc");

/** The README's library example: the first ```ts block after "## The library". */
export function readmeExample(readme: string): string {
  const section = readme.slice(readme.indexOf("## The library"));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error("README has no ```ts block under ## The library");
  return m[1];
}

/** A package's runtime dependencies, transitively, as installed in this checkout. */
function linkDependencies(consumer: string): void {
  const modules = join(consumer, "node_modules");
  const link = (name: string) => {
    const target = join(modules, name);
    if (existsSync(target)) return;
    mkdirSync(join(target, ".."), { recursive: true });
    symlinkSync(join(repo, "node_modules", name), target, "dir");
  };
  // Everything this checkout installed except the package itself: what npm would place beside it.
  for (const entry of readdirSync(join(repo, "node_modules"))) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@"))
      for (const sub of readdirSync(join(repo, "node_modules", entry))) link(`${entry}/${sub}`);
    else link(entry);
  }
}

describe("the npm package in a consumer project", () => {
  const work = mkdtempSync(join(tmpdir(), "tiller-pack-"));
  const consumer = join(work, "consumer");
  let files: string[] = [];

  beforeAll(async () => {
    const packed = await run("npm", ["pack", "--pack-destination", work, "--json"], { cwd: repo });
    if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr.slice(-2000)}`);
    const out = packed.stdout;
    const [{ filename, files: list }] = JSON.parse(out.slice(out.indexOf("["))) as {
      filename: string;
      files: { path: string }[];
    }[];
    files = list.map((f) => f.path);
    const installed = join(consumer, "node_modules", pkg.name);
    mkdirSync(installed, { recursive: true });
    await run("tar", ["-xzf", join(work, filename), "-C", installed, "--strip-components=1"]);
    linkDependencies(consumer);
    // The bins, as npm links them.
    mkdirSync(join(consumer, "node_modules", ".bin"), { recursive: true });
    for (const [name, file] of Object.entries(pkg.bin)) {
      chmodSync(join(installed, file), 0o755);
      symlinkSync(join("..", pkg.name, file), join(consumer, "node_modules", ".bin", name));
    }
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
          lib: ["ES2023", "DOM", "ESNext.Float16"],
        },
        include: ["example.ts"],
      }),
    );
    writeFileSync(join(consumer, "example.ts"), readmeExample(readFileSync(join(repo, "README.md"), "utf8")));
  }, 600_000);
  afterAll(() => void 0);

  it("ships the built library, the lab, LICENSE and CHANGELOG, and no maps, sources or reference scripts", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "package.json",
        "dist/src/index.js",
        "dist/src/index.d.ts",
        "dist/lab/index.html",
      ]),
    );
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(
      files.filter((f) => f.startsWith("scripts/") || f.startsWith("src/") || f.startsWith("test/")),
    ).toEqual([]);
    expect(files.filter((f) => f.startsWith("dist/src/lab/ui/"))).toEqual([]);
  });

  it("type-checks the README's library example against the published types", async () => {
    const tsc = await run(process.execPath, [tscBin, "-p", consumer, "--skipLibCheck"]);
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 300_000);

  it("with skipLibCheck false, finds nothing wrong in tiller-ml's declarations (only jax-js's WebGPU names)", async () => {
    // @jax-js/jax's own index.d.ts names GPUDevice and GPUBuffer without depending on @webgpu/types:
    // a consumer with skipLibCheck false adds @webgpu/types. Every other declaration checks.
    const tsc = await run(process.execPath, [tscBin, "-p", consumer]);
    const errors = tsc.stdout.split("\n").filter((l) => /error TS/.test(l));
    const others = errors.filter(
      (l) => !/@jax-js\/jax\/dist\/index\.d\.ts.*Cannot find name 'GPU(Device|Buffer)'/.test(l),
    );
    expect(others).toEqual([]);
  }, 300_000);

  it("refuses a misspelt model name at compile time", async () => {
    writeFileSync(
      join(consumer, "typo.ts"),
      'import type { TrainRequest } from "tiller-ml";\nexport const r: TrainRequest["model"] = "mpl";\n',
    );
    const tsc = await run(process.execPath, [
      tscBin,
      "--noEmit",
      "--strict",
      "--module",
      "NodeNext",
      "--moduleResolution",
      "NodeNext",
      "--skipLibCheck",
      join(consumer, "typo.ts"),
    ]);
    expect(tsc.status).not.toBe(0);
    expect(tsc.stdout).toMatch(/"mpl"/);
  }, 300_000);

  it("answers through both bins, as npx tiller-ml runs it", async () => {
    for (const bin of ["tiller", "tiller-ml"]) {
      const r = await run(join(consumer, "node_modules", ".bin", bin), ["--version"]);
      expect(r.stdout.trim(), bin).toMatch(/^\d+\.\d+\.\d+/);
    }
    const npx = await run(
      "npx",
      ["--offline", "--no-install", "tiller-ml", "runs", "list", "--runs", join(work, "runs")],
      { cwd: consumer },
    );
    expect(npx.stdout + npx.stderr).toMatch(/no runs in/);
  }, 120_000);

  it.runIf(hasData)(
    "runs the README's library example",
    async () => {
      const r = await run(process.execPath, ["--import", "tsx", "example.ts"], {
        cwd: consumer,
        env: { ...process.env, TILLER_RUNS: join(work, "runs") },
        timeout: 600_000,
      });
      expect(r.stderr).not.toMatch(/Error/);
      // One line of output per console.log in the example (accuracy, eigenvalues, CT's best β, …).
      const example = readmeExample(readFileSync(join(repo, "README.md"), "utf8"));
      const logs = (example.match(/console\.log\(/g) ?? []).length;
      expect(logs).toBeGreaterThan(0);
      expect(r.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(logs);
    },
    600_000,
  );
});
