/**
 * Lab security beyond the API tests (test/lab-api.test.ts covers traversal, symlinks, Host
 * checks, malformed and oversized bodies): the CLI binds loopback unless told otherwise and warns
 * when exposed; state-changing requests a browser could forge from another site are refused;
 * job parameters are validated and become an argument list, never a shell string.
 */
import { request as httpRequest } from "node:http";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobCommand, parseJobRequest, type Launcher } from "../../src/lab/jobs.js";
import { startLab, type Lab } from "../../src/lab/server.js";
import { makeStore } from "../lab-fixture.js";
import { spawnTiller } from "./helpers.js";

/** Starts `tiller lab …`, returns what it printed once it says where it listens, then stops it. */
async function labBanner(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawnTiller(["lab", "--port", "0", ...args]);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c) => (stdout += c));
  child.stderr?.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!/Tiller lab: /.test(stdout) && Date.now() < deadline && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 50));
  child.kill("SIGTERM");
  const code = await exited;
  return { stdout, stderr, code };
}

describe("tiller lab binds loopback by default", () => {
  it("serves 127.0.0.1 without a warning, and warns when --host exposes it", async () => {
    const store = makeStore([]);
    const [local, exposed] = await Promise.all([
      labBanner(["--runs", store.root]),
      labBanner(["--runs", store.root, "--host", "0.0.0.0"]),
    ]);
    expect(local.stdout).toMatch(/^Tiller lab: http:\/\/127\.0\.0\.1:\d+\//m);
    expect(local.stderr).not.toMatch(/warning/);
    expect(exposed.stderr).toMatch(
      /warning: the lab is reachable from the network on 0\.0\.0\.0; it has no login/,
    );
    for (const r of [local, exposed]) expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 120_000);
});

describe("requests a hostile page could send", () => {
  let lab: Lab;
  const launched: string[][] = [];
  // Jobs are recorded, not run: nothing here should get as far as starting one.
  const launcher: Launcher = (args) => {
    launched.push(args);
    throw new Error("not in this test");
  };
  beforeAll(async () => {
    const store = makeStore([{ id: "base" }]);
    lab = await startLab({ runsRoot: store.root, port: 0, assetsDir: join(store.parent, "no-ui"), launcher });
  });
  afterAll(() => lab?.close());

  const valid = { kind: "train", model: "mlp", optimizer: "adam", lr: 0.001, epochs: 1 };
  const send = (
    path: string,
    opts: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: lab.port,
          path,
          method: opts.method ?? "POST",
          headers: opts.headers ?? {},
        },
        (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end(opts.body);
    });

  it.each([
    ["a form post (urlencoded)", { "content-type": "application/x-www-form-urlencoded" }, 415],
    ["a text/plain post (no CORS preflight)", { "content-type": "text/plain" }, 415],
    ["a multipart post", { "content-type": "multipart/form-data; boundary=x" }, 415],
    ["no content type", {}, 415],
    ["JSON from another origin", { "content-type": "application/json", origin: "http://evil.example" }, 403],
    [
      "JSON from a sandboxed frame (Origin: null)",
      { "content-type": "application/json", origin: "null" },
      403,
    ],
    [
      "JSON from a look-alike origin",
      { "content-type": "application/json", origin: "http://127.0.0.1.evil.example" },
      403,
    ],
    [
      "JSON marked cross-site by the browser",
      { "content-type": "application/json", "sec-fetch-site": "cross-site" },
      403,
    ],
  ])("job launch by %s is refused, nothing started", async (_, headers, status) => {
    const r = await send("/api/jobs", {
      body: JSON.stringify(valid),
      headers: headers as Record<string, string>,
    });
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body).error).toEqual(expect.any(String));
    expect(launched).toEqual([]);
  });

  it("cancelling is refused from another origin or a cross-site fetch", async () => {
    const forged: Record<string, string>[] = [
      { origin: "http://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of forged) {
      const r = await send("/api/jobs/job-x/cancel", { headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
    }
    // Same origin gets as far as the lookup.
    expect((await send("/api/jobs/job-x/cancel", { headers: { origin: lab.url.slice(0, -1) } })).status).toBe(
      404,
    );
  });

  it("a chunked body over the limit (no Content-Length) is refused", async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port: lab.port,
          path: "/api/jobs",
          method: "POST",
          headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", (e) => ((e as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve(413) : reject(e)));
      for (let i = 0; i < 20; i++) req.write(`{"pad":"${"x".repeat(8000)}"}`);
      req.end();
    });
    expect(r).toBe(413);
    expect(launched).toEqual([]);
  });

  it("other methods on the API are refused (4xx), nothing started", async () => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const r = await send("/api/jobs", {
        method,
        body: JSON.stringify(valid),
        headers: { "content-type": "application/json" },
      });
      expect(r.status, `${method} ${r.body}`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${method} ${r.body}`).toBeLessThan(500);
    }
    expect(launched).toEqual([]);
  });
});

describe("job parameters", () => {
  it.each([
    ["a shell string as the run name", { ...{ name: "x; rm -rf ~" } }, /name/],
    ["command substitution in the name", { name: "$(touch pwned)" }, /name/],
    ["a traversal in the name", { name: "../outside" }, /name/],
    ["a number sent as a string", { lr: "1e-3" }, /lr/],
    ["a negative learning rate", { lr: -1 }, /lr/],
    ["an infinite learning rate", { lr: Number.POSITIVE_INFINITY }, /lr/],
    ["a week of epochs", { epochs: 10_000 }, /epochs/],
    ["a huge hidden layer", { hidden: [1e9] }, /hidden/],
    ["an unknown optimiser", { optimizer: "sgd --lr 1" }, /optimizer/],
    ["an extra field", { args: ["--out", "/"] }, /args/],
  ])("%s is refused with the field named", (_, patch, field) => {
    expect(() =>
      parseJobRequest({ kind: "train", model: "mlp", optimizer: "adam", lr: 0.001, epochs: 1, ...patch }),
    ).toThrow(field);
  });

  it("a landscape job may only name a run, never a path", () => {
    for (const run of ["../../etc", "/etc/passwd", "a/b", ""])
      expect(() => parseJobRequest({ kind: "landscape-surface", run }), run).toThrow(/run/);
  });

  it("a valid request becomes an argument list, one value per argument", () => {
    const req = parseJobRequest({
      kind: "train",
      model: "mlp",
      optimizer: "sgd",
      lr: 0.5,
      epochs: 2,
      hidden: [16, 8],
      name: "ok-1",
    });
    const { args } = jobCommand(req, "/tmp/runs");
    expect(args).toEqual([
      ...["train", "--model", "mlp", "--hidden", "16,8", "--optimizer", "sgd", "--lr", "0.5"],
      ...["--epochs", "2", "--runs", "/tmp/runs", "--name", "ok-1"],
    ]);
    expect(existsSync(join("/tmp/runs", "ok-1"))).toBe(false);
  });
});
