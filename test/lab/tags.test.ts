/** Run tags through the lab's API: kept in the run's tags.json, listed with the run, checked. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../src/lab/server.js";
import { makeStore } from "../lab-fixture.js";

let lab: Lab;
let root: string;

beforeAll(async () => {
  root = makeStore([{ id: "r1", accuracies: [0.5] }]).root;
  lab = await startLab({ runsRoot: root, port: 0, assetsDir: join(root, "no-ui") });
});
afterAll(async () => {
  await lab?.close();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL(path, lab.url), {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });

describe("run tags", () => {
  it("are written to the run's tags.json, once each, and listed with the run", async () => {
    const res = await post("/api/runs/r1/tags", { tags: ["baseline", "adam:0.001", "baseline"] });
    expect(res.status).toBe(200);
    expect(JSON.parse(readFileSync(join(root, "r1", "tags.json"), "utf8"))).toEqual([
      "baseline",
      "adam:0.001",
    ]);
    const { runs } = (await (await fetch(new URL("/api/runs", lab.url))).json()) as {
      runs: { tags: string[] }[];
    };
    expect(runs[0].tags).toEqual(["baseline", "adam:0.001"]);
  });

  it("refuse a tag that is not a short word, a run that does not exist, and another site's page", async () => {
    const bad = await post("/api/runs/r1/tags", { tags: ["two words"] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/invalid tag "two words"/);
    expect((await post("/api/runs/nope/tags", { tags: ["x"] })).status).toBe(404);
    const cross = await post("/api/runs/r1/tags", { tags: ["x"] }, { origin: "http://evil.example" });
    expect(cross.status).toBe(403);
    expect(existsSync(join(root, "r1", "tags.json"))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, "r1", "tags.json"), "utf8"))).not.toContain("x");
  });
});
