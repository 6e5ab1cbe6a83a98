import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function tiller(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    encoding: "utf8",
    env: { ...process.env, TILLER_THREADS: "2" },
  });
}

describe("tiller init", () => {
  it("compare --help shows the book's command and defines every column", () => {
    const r = tiller(["init", "compare", "--help"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "tiller init compare --model mlp --activation prelu --inits lecun,xavier_normal,kaiming_normal,orthogonal,scaled_orthogonal,l_momentum --epochs 3",
    );
    for (const col of ["Error Rate %", "Convergence Speed", "Effective Rank Ratio", "Execution Time s"])
      expect(r.stdout).toContain(col);
  });

  it("an unknown initialiser or bias rule exits 2 with one line naming the choices", () => {
    const r = tiller(["init", "compare", "--inits", "lecun,kaiming"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown initialiser "kaiming" \(choose one of: torch_default, lecun/);
    const b = tiller(["init", "compare", "--bias-init", "ones"]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/expected zeros, torch_default or a number/);
  });

  it("list prints every initialiser with its formula", () => {
    const r = tiller(["init", "list"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^lecun\s+w ~ N\(0, 1\/fan_in\)$/m);
    expect(r.stdout).toMatch(/^l_momentum\s+w ~ U\(±√\(6\/fan_in\)\), rescaled to mean\(w²\) = 0\.81$/m);
  });
});
