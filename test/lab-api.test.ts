/**
 * The lab's JSON API over a run store on disk, through a real HTTP server on 127.0.0.1: listing,
 * details, files, live metrics by server-sent events, and every way a request can be wrong.
 */
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabRunDetail, LabRunSummary } from "../src/lab/run-data.js";
import { startLab, type Lab } from "../src/lab/server.js";
import { appendStep, makeStore, setStatus, SVG, writeRun } from "./lab-fixture.js";

let lab: Lab;
let store: { parent: string; root: string };

beforeAll(async () => {
  store = makeStore([
    { id: "old-sgd", optimizer: "sgd", accuracies: [0.61, 0.7], createdAt: "2026-11-01T09:00:00.000Z" },
    {
      id: "new-adam",
      accuracies: [0.72, 0.81, 0.79],
      epochs: 3,
      createdAt: "2026-11-02T09:00:00.000Z",
      figures: { "loss.svg": SVG("loss"), "hessian-spectrum.svg": SVG("spectrum") },
    },
    {
      id: "half-done",
      status: "running",
      epochs: 4,
      accuracies: [0.5],
      createdAt: "2026-11-03T09:00:00.000Z",
    },
  ]);
  mkdirSync(join(store.root, "new-adam", "landscape"));
  writeFileSync(join(store.root, "new-adam", "landscape", "surface.json"), '{"z":[[1]]}');
  writeFileSync(join(store.parent, "secret.txt"), "outside the store");
  symlinkSync(join(store.parent, "secret.txt"), join(store.root, "new-adam", "figures", "leak.txt"));
  lab = await startLab({ runsRoot: store.root, port: 0, assetsDir: join(store.parent, "no-ui"), pollMs: 50 });
});

afterAll(async () => {
  await lab?.close();
});

const get = (path: string, init?: RequestInit) => fetch(new URL(path, lab.url), init);
const post = (
  path: string,
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
) => get(path, { method: "POST", body, headers });

/** Sends a request line exactly as written (no URL normalisation by the client). */
function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: lab.port, path, headers, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("runs", () => {
  it("lists runs newest first with status, best accuracy, duration and progress", async () => {
    const res = await get("/api/runs");
    expect(res.status).toBe(200);
    const { runs } = (await res.json()) as { runs: LabRunSummary[] };
    expect(runs.map((r) => r.id)).toEqual(["half-done", "new-adam", "old-sgd"]);
    const adam = runs[1];
    expect(adam).toMatchObject({
      model: "mlp",
      optimizer: "adam",
      status: "done",
      best: 0.81,
      final: 0.79,
      duration_s: 30,
    });
    expect(runs[2].optimizer).toBe("sgd");
    // 500 images in batches of 100 = 5 steps per epoch; 1 of 4 epochs done.
    expect(runs[0].progress).toMatchObject({ step: 5, steps: 20, epoch: 1, epochs: 4 });
    expect(runs[0].progress?.fraction).toBeCloseTo(0.25);
  });

  it("gives a comparison the progress of its members, trained one after another", async () => {
    const dir = writeRun(store.root, { id: "compare-run", epochs: 2, createdAt: "2026-10-01T00:00:00.000Z" });
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ ...config, command: "compare", members: [{ label: "sgd" }, { label: "adam" }] }),
    );
    setStatus(dir, "running");
    writeRun(join(dir, "members"), { id: "sgd", epochs: 2, accuracies: [0.5, 0.6] });
    writeRun(join(dir, "members"), { id: "adam", epochs: 2, accuracies: [0.55], status: "running" });
    const { runs } = (await (await get("/api/runs")).json()) as { runs: LabRunSummary[] };
    // 2 members × 2 epochs × 5 steps; sgd is done (10), adam has finished one epoch (5).
    expect(runs.find((r) => r.id === "compare-run")?.progress).toMatchObject({
      step: 15,
      steps: 20,
      epoch: 3,
      epochs: 4,
    });
  });

  it("shows a run's config, epochs and the files its analyses wrote, without checkpoints", async () => {
    const detail = (await (await get("/api/runs/new-adam")).json()) as LabRunDetail;
    expect(detail.config.optimizer).toEqual({ name: "adam", lr: 0.001 });
    expect(detail.epochs.map((e) => e.test_accuracy)).toEqual([0.72, 0.81, 0.79]);
    const paths = detail.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "figures/hessian-spectrum.svg",
        "figures/loss.svg",
        "landscape/surface.json",
        "metrics.jsonl",
      ]),
    );
    expect(paths.some((p: string) => p.startsWith("checkpoints"))).toBe(false);
  });

  it("serves a figure as SVG that cannot run script when opened on its own", async () => {
    const res = await get("/api/runs/new-adam/files/figures/loss.svg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    expect(await res.text()).toContain(">loss</text>");
    const data = await get("/api/runs/new-adam/files/landscape/surface.json");
    expect(await data.json()).toEqual({ z: [[1]] });
  });

  it("returns all metric events of a run", async () => {
    const { events } = (await (await get("/api/runs/old-sgd/metrics")).json()) as {
      events: { type: string }[];
    };
    expect(events.filter((e) => e.type === "epoch")).toHaveLength(2);
    expect(events.filter((e) => e.type === "step")).toHaveLength(10);
  });

  it("reports a corrupt metrics file as a one-line error, without a stack trace", async () => {
    const dir = writeRun(store.root, { id: "corrupt", accuracies: [0.5] });
    appendFileSync(join(dir, "metrics.jsonl"), "{not json\n");
    appendStep(dir, 2, 6, 0.5);
    const res = await get("/api/runs/corrupt");
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/metrics\.jsonl: line 7 is not valid JSON/);
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
    // The list stays usable and names the problem.
    const list = (await (await get("/api/runs")).json()) as { runs: { id: string }[]; problems: string[] };
    expect(list.runs.map((r) => r.id)).not.toContain("corrupt");
    expect(list.problems.join()).toMatch(/corrupt/);
  });
});

describe("requests that must be refused", () => {
  it.each([
    ["/api/runs/..%2F..%2Fetc", 400],
    ["/api/runs/%2e%2e", 404], // normalised to /api/ by URL parsing
    ["/api/runs/..", 404],
    ["/api/runs/new-adam/files/..%2Fconfig.json", 400],
    ["/api/runs/new-adam/files/figures/..%2F..%2F..%2Fsecret.txt", 400],
    ["/api/runs/new-adam/files/figures%2Floss.svg", 400],
    ["/api/runs/new-adam/files/%E0%A4%A", 400],
    ["/api/runs/new-adam/files/checkpoints/epoch-1.safetensors", 403],
    ["/api/runs/new-adam/files/config.js", 400],
    ["/api/runs/new-adam/files/figures/leak.txt", 403],
    ["/api/runs/new-adam/files/figures/missing.svg", 404],
    ["/api/runs/no-such-run", 404],
    ["/api/runs/no-such-run/events", 404],
    ["/api/runs/new-adam/events?from=-1", 400],
    ["/api/jobs/job-nope", 404],
    ["/api/nothing-here", 404],
  ])("GET %s → %i with a JSON error", async (path, status) => {
    const res = await rawGet(path);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body).error).toEqual(expect.any(String));
    expect(res.body).not.toContain("outside the store");
  });

  it("never serves a file outside the store, however the path is written", async () => {
    for (const path of [
      "/api/runs/new-adam/files/../../secret.txt",
      "/api/runs/new-adam/../../secret.txt",
      "/api/runs/new-adam/files/figures/../../../secret.txt",
      "/../secret.txt",
    ]) {
      const res = await rawGet(path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.body, path).not.toContain("outside the store");
    }
  });

  it("refuses a Host header that is not this machine (DNS rebinding)", async () => {
    const res = await rawGet("/api/runs", { host: "attacker.example:7722" });
    expect(res.status).toBe(403);
  });

  it("refuses malformed JSON, other content types, oversized bodies and cross-origin posts", async () => {
    const bad = await post("/api/jobs", "{kind: train");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/malformed JSON/);

    const form = await post("/api/jobs", "kind=train", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(415);

    const big = await post("/api/jobs", JSON.stringify({ kind: "train", pad: "x".repeat(100_000) }));
    expect(big.status).toBe(413);

    const cross = await post("/api/jobs", JSON.stringify({ kind: "train" }), {
      "content-type": "application/json",
      origin: "http://attacker.example",
    });
    expect(cross.status).toBe(403);
    expect(((await (await get("/api/jobs")).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it("names the fields of an invalid job and starts nothing", async () => {
    const res = await post(
      "/api/jobs",
      JSON.stringify({ kind: "train", model: "mlp", optimizer: "adam", lr: -1, epochs: 1.5, extra: true }),
    );
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/lr/);
    expect(error).toMatch(/epochs/);
    expect(error).toMatch(/extra/);
    const unknown = await post("/api/jobs", JSON.stringify({ kind: "rm -rf", model: "mlp" }));
    expect(unknown.status).toBe(400);
    const taken = await post(
      "/api/jobs",
      JSON.stringify({
        kind: "train",
        model: "mlp",
        optimizer: "adam",
        lr: 0.001,
        epochs: 1,
        name: "old-sgd",
      }),
    );
    expect(taken.status).toBe(409);
    expect(((await (await get("/api/jobs")).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it("answered all of the above without writing anything", () => {
    const snapshot = (dir: string): string[] =>
      readdirSync(dir, { recursive: true, encoding: "utf8" })
        .map((p) => `${p}:${statSync(join(dir, p)).mtimeMs}`)
        .sort();
    const before = snapshot(store.parent);
    return Promise.all([rawGet("/api/runs"), rawGet("/api/runs/new-adam"), post("/api/jobs", "{}")]).then(
      () => expect(snapshot(store.parent)).toEqual(before),
    );
  });
});

/** Reads server-sent events until `stop` says so; returns them as { event, data, id }. */
async function readEvents(
  url: string,
  stop: (events: { event: string; data: string; id?: string }[]) => boolean,
  headers: Record<string, string> = {},
) {
  const res = await fetch(url, { headers });
  expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
  const reader = res.body!.getReader();
  const events: { event: string; data: string; id?: string }[] = [];
  let buffer = "";
  const decoder = new TextDecoder();
  while (!stop(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = Object.fromEntries(
        block
          .split("\n")
          .filter((l) => !l.startsWith(":") && l.includes(":"))
          .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trimStart()]),
      );
      if (fields.event) events.push({ event: fields.event, data: fields.data ?? "", id: fields.id });
    }
  }
  await reader.cancel().catch(() => {});
  return events;
}

describe("live metrics", () => {
  it("streams a training run's lines as they are written, never a half line, and ends when the run does", async () => {
    const dir = writeRun(store.root, { id: "live", status: "running", epochs: 1 });
    const stream = readEvents(new URL("/api/runs/live/events", lab.url).href, (evs) =>
      evs.some((e) => e.event === "end"),
    );
    await new Promise((r) => setTimeout(r, 150));
    appendStep(dir, 1, 1, 2.0);
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(join(dir, "metrics.jsonl"), '{"type":"step","epoch":1,"step":2,"lo'); // mid-write
    await new Promise((r) => setTimeout(r, 200));
    appendFileSync(join(dir, "metrics.jsonl"), 'ss":1.5,"elapsed_s":0.2}\n');
    await new Promise((r) => setTimeout(r, 150));
    setStatus(dir, "done", 1);
    const events = await stream;
    const lines = events.filter((e) => e.event === "metrics").flatMap((e) => JSON.parse(e.data));
    expect(lines.map((l: { step: number; loss: number }) => [l.step, l.loss])).toEqual([
      [1, 2.0],
      [2, 1.5],
    ]);
    const statuses = events.filter((e) => e.event === "status").map((e) => JSON.parse(e.data).status);
    expect(statuses).toEqual(["running", "done"]);
    expect(events.at(-1)!.event).toBe("end");

    // Reconnecting with the last id resumes after what was already received.
    const lastId = events.filter((e) => e.id).at(-1)!.id!;
    appendStep(dir, 1, 3, 1.0);
    const again = await readEvents(
      new URL("/api/runs/live/events", lab.url).href,
      (evs) => evs.some((e) => e.event === "end"),
      { "last-event-id": lastId },
    );
    const more = again.filter((e) => e.event === "metrics").flatMap((e) => JSON.parse(e.data));
    expect(more.map((l: { step: number }) => l.step)).toEqual([3]);
  });
});

describe("the page", () => {
  it("explains how to build the UI when it is missing, and keeps the API working", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("npm run build");
  });
});
