/**
 * The lab's HTTP surface (Hono): a JSON API over the run store, server-sent events that follow a
 * run's metrics.jsonl while it trains, job launching, and the built single-page app.
 *
 * Safety: ids and file names are validated and contained (run-data.ts); requests for a loopback
 * server must name a loopback host (DNS rebinding); writes (POST) must be same-origin JSON under
 * a size limit. Errors are one-line JSON with a 4xx status; a 500 carries a message, never a stack.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { streamSSE } from "hono/streaming";
import { serveStatic } from "@hono/node-server/serve-static";
import { MODELS } from "../nn/models/index.js";
import { DEFAULT_LR, OPTIMIZERS } from "../optim/index.js";
import { UnsafeRunFileError } from "../runs/files.js";
import { RunStoreError } from "../runs/store.js";
import { jobForms, type JobQueue } from "./jobs.js";
import { readNewLines } from "./metrics-tail.js";
import { sweepApi } from "./sweeps.js";
import { parseTags, writeTags } from "./tags.js";
import {
  LabRequestError,
  readRunFile,
  readStatusText,
  runDetail,
  runDir,
  runMetrics,
  runSummaries,
} from "./run-data.js";

export type LabAppOptions = {
  runsRoot: string;
  jobs: JobQueue;
  /** The Vite build of the UI; the API works without it. */
  assetsDir?: string;
  /** Accept only Host headers naming this machine's loopback (the default when bound to 127.0.0.1). */
  loopbackOnly?: boolean;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /** How often the event stream looks for new lines, in ms. */
  pollMs?: number;
};

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function createLabApp(opts: LabAppOptions): Hono {
  const { runsRoot, jobs } = opts;
  const pollMs = opts.pollMs ?? 250;
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (opts.loopbackOnly !== false && !LOOPBACK_HOSTS.has(hostName(c.req.header("host") ?? "")))
      return c.json({ error: "this lab answers only on localhost (Host header refused)" }, 403);
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
  });

  app.use(
    "/api/*",
    bodyLimit({
      maxSize: opts.maxBodyBytes ?? 64 * 1024,
      // The unread rest of the body is still on the wire: close the connection instead of reusing it.
      onError: (c) =>
        c.json({ error: `request body too large (limit ${opts.maxBodyBytes ?? 64 * 1024} bytes)` }, 413, {
          Connection: "close",
        }),
    }),
  );

  app.get("/api/health", (c) => c.json({ ok: true, runsRoot }));

  app.get("/api/options", (c) =>
    c.json({
      models: MODELS,
      optimizers: OPTIMIZERS,
      defaultLr: DEFAULT_LR,
    }),
  );

  // Each job kind's form, from the request schemas the server validates jobs with.
  app.get("/api/requests", (c) => c.json({ kinds: jobForms() }));

  app.get("/api/runs", (c) => {
    const { runs, problems } = runSummaries(runsRoot);
    return c.json({ runs: runs.map((r) => ({ ...r, job: jobOf(jobs, r.id) })), problems });
  });

  app.get("/api/runs/:id", (c) => {
    const detail = runDetail(runsRoot, c.req.param("id"));
    return c.json({ ...detail, job: jobOf(jobs, detail.id) });
  });

  app.get("/api/runs/:id/metrics", (c) => c.json({ events: runMetrics(runsRoot, c.req.param("id")) }));

  // The run's metrics as server-sent events, from byte `from` (or Last-Event-ID) on.
  app.get("/api/runs/:id/events", (c) => {
    const dir = runDir(runsRoot, c.req.param("id"));
    const from = offsetParam(c.req.query("from") ?? c.req.header("last-event-id") ?? "0");
    const metricsFile = join(dir, "metrics.jsonl");
    // Refused files (links out of the run, FIFOs) answer with an error before the stream starts.
    readStatusText(dir);
    readNewLines(metricsFile, 0, dir, 0);
    return streamMetrics(c, dir, from, pollMs);
  });

  app.get("/api/runs/:id/files/*", (c) => runFileResponse(c, runsRoot));

  app.post("/api/runs/:id/tags", async (c) => {
    const dir = runDir(runsRoot, c.req.param("id"));
    const body = await jsonBody(c);
    let tags: string[];
    try {
      tags = parseTags(body);
    } catch (e) {
      throw new LabRequestError(400, (e as Error).message);
    }
    writeTags(dir, tags);
    return c.json({ tags });
  });

  app.get("/api/jobs", (c) => c.json({ jobs: jobs.list() }));
  app.get("/api/jobs/:id", (c) => c.json(jobs.get(c.req.param("id"))));
  app.post("/api/jobs", async (c) => {
    const body = await jsonBody(c);
    return c.json(jobs.submit(body), 202);
  });
  app.post("/api/jobs/:id/cancel", async (c) => {
    checkWriteRequest(c);
    return c.json(jobs.cancel(c.req.param("id")));
  });

  app.route("/api/sweeps", sweepApi(runsRoot));

  app.all("/api/*", (c) =>
    c.json({ error: `no API route ${c.req.method} ${new URL(c.req.url).pathname}` }, 404),
  );

  serveWebApp(app, opts.assetsDir);

  app.onError((err, c) => {
    if (err instanceof LabRequestError) return c.json({ error: err.message }, err.status);
    if (err instanceof UnsafeRunFileError) return c.json({ error: err.message }, 403);
    if (err instanceof RunStoreError) return c.json({ error: err.message }, 500);
    return c.json({ error: `internal error: ${err.message.split("\n")[0]}` }, 500);
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}

/**
 * Every metrics line from byte `from` on, then new ones as they are written (server-sent events);
 * ends after the run leaves "running" and its last line was sent.
 */
function streamMetrics(c: Context, dir: string, from: number, pollMs: number) {
  const metricsFile = join(dir, "metrics.jsonl");
  return streamSSE(c, async (stream) => {
    let aborted = false;
    stream.onAbort(() => {
      aborted = true;
    });
    let offset = from;
    let lastStatus = "";
    let lastBeat = Date.now();
    while (!aborted) {
      let statusText: string;
      let chunk: ReturnType<typeof readNewLines>;
      try {
        statusText = readStatusText(dir);
        chunk = readNewLines(metricsFile, offset, dir);
      } catch (e) {
        // A file replaced by a link or a FIFO while streaming: say so and stop.
        await stream.writeSSE({ event: "error", data: JSON.stringify({ error: (e as Error).message }) });
        return;
      }
      offset = chunk.offset;
      if (chunk.reset) await stream.writeSSE({ event: "reset", data: "{}" });
      if (chunk.lines.length) {
        await stream.writeSSE({
          event: "metrics",
          data: JSON.stringify(parseLines(chunk.lines)),
          id: String(offset),
        });
        lastBeat = Date.now();
      }
      if (statusText !== lastStatus) {
        lastStatus = statusText;
        await stream.writeSSE({ event: "status", data: statusText || "{}" });
      }
      const running = statusText === "" || safeStatus(statusText) === "running";
      if (!running && chunk.lines.length === 0) {
        await stream.writeSSE({ event: "end", data: "{}" });
        return;
      }
      if (Date.now() - lastBeat > 15_000) {
        await stream.write(": keep-alive\n\n");
        lastBeat = Date.now();
      }
      await stream.sleep(pollMs);
    }
  });
}

/** The built web app (client-side routes get index.html), or a page saying how to build it. */
function serveWebApp(app: Hono, assets: string | undefined): void {
  if (assets && existsSync(join(assets, "index.html"))) {
    app.use("/assets/*", serveStatic({ root: assets }));
    app.get("*", (c) => {
      // Client-side routes get the app; anything that looks like a file and was not found is a 404.
      if (/\.[A-Za-z0-9]+$/.test(new URL(c.req.url).pathname)) return c.text("not found", 404);
      c.header("Cache-Control", "no-cache");
      // Read each time: a rebuild (npm run build:lab) renames the hashed assets it points to.
      return c.html(readFileSync(join(assets, "index.html"), "utf8"));
    });
  } else {
    app.get("/", (c) =>
      c.html(
        "<!doctype html><title>Tiller lab</title><p>The lab's web app is not built. Run <code>npm run build</code> " +
          "(or <code>npm run build:lab</code>) and start <code>tiller lab</code> again. The JSON API is at " +
          '<a href="/api/runs">/api/runs</a>.</p>',
      ),
    );
  }
}

/** A file of a run, by its path under the run, served so that it can run nothing when opened. */
function runFileResponse(c: Context, runsRoot: string) {
  const id = c.req.param("id") ?? "";
  const raw = new URL(c.req.url).pathname;
  const prefix = `/api/runs/${encodeURIComponent(id)}/files/`;
  const rest = raw.startsWith(prefix)
    ? raw.slice(prefix.length)
    : raw.split("/files/").slice(1).join("/files/");
  const segments = rest.split("/").map(decodeSegment);
  const { bytes, type } = readRunFile(runsRoot, id, segments);
  // A figure or report opened on its own must not run script or load anything.
  const headers: Record<string, string> = {
    "Content-Type": type,
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    "Cache-Control": "no-cache",
  };
  return c.body(new Uint8Array(bytes), 200, headers);
}

function jobOf(jobs: JobQueue, runId: string) {
  const job = jobs.forRun(runId);
  return job ? { id: job.id, status: job.status, label: job.label } : undefined;
}

function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  return host.split(":")[0].toLowerCase();
}

function offsetParam(value: string): number {
  if (!/^\d{1,15}$/.test(value))
    throw new LabRequestError(400, `invalid offset "${value}" (a byte count ≥ 0)`);
  return Number(value);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new LabRequestError(400, "malformed percent-encoding in the path");
  }
}

function parseLines(lines: string[]): unknown[] {
  const out: unknown[] = [];
  for (const line of lines) {
    try {
      out.push(JSON.parse(line));
    } catch {
      // A crash's half line, followed by a resumed run's lines: the run store skips it too.
    }
  }
  return out;
}

function safeStatus(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { status?: string }).status;
  } catch {
    return undefined;
  }
}

/** A write must come from the lab's own page: same origin (when the browser says), JSON content. */
function checkWriteRequest(c: Context): void {
  // Browsers say where a request comes from; another site's page is refused even without Origin.
  if (c.req.header("sec-fetch-site") === "cross-site")
    throw new LabRequestError(403, "cross-origin request refused");
  const origin = c.req.header("origin");
  if (origin && origin !== "null") {
    let originHost = "";
    try {
      originHost = new URL(origin).host;
    } catch {
      // unparseable: refused below
    }
    if (originHost !== c.req.header("host")) throw new LabRequestError(403, "cross-origin request refused");
  } else if (origin === "null") {
    throw new LabRequestError(403, "cross-origin request refused");
  }
}

async function jsonBody(c: Context): Promise<unknown> {
  checkWriteRequest(c);
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") throw new LabRequestError(415, "send the body as application/json");
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LabRequestError(400, `malformed JSON: ${(e as Error).message}`);
  }
}
