/** The lab server's JSON API, typed from the server's own definitions (type-only imports). */
import type { JobRecord } from "../jobs.js";
import type { LabRunDetail, LabRunSummary } from "../run-data.js";
import type { EpochMetric, StepMetric } from "../../runs/records.js";

export type { JobRecord, LabRunDetail, LabRunSummary };
export type JobLink = { id: string; status: JobRecord["status"]; label: string };
export type RunListEntry = LabRunSummary & { job?: JobLink };
export type RunDetail = LabRunDetail & { job?: JobLink };
export type Options = { models: string[]; optimizers: string[]; defaultLr: Record<string, number> };

/** A metrics.jsonl line as runs/records.ts defines it (step lines may carry the gradient norm). */
export type StepEvent = StepMetric & { grad_norm?: number };
export type EpochEvent = EpochMetric;
export type MetricEvent = StepEvent | EpochEvent | { type: string; [k: string]: unknown };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new ApiError(res.status, (body as { error?: string }).error ?? `HTTP ${res.status}`);
  return body as T;
}

export const api = {
  options: () => call<Options>("/api/options"),
  runs: () => call<{ runs: RunListEntry[]; problems: string[] }>("/api/runs"),
  run: (id: string) => call<RunDetail>(`/api/runs/${encodeURIComponent(id)}`),
  metrics: (id: string) => call<{ events: MetricEvent[] }>(`/api/runs/${encodeURIComponent(id)}/metrics`),
  setTags: (id: string, tags: string[]) =>
    call<{ tags: string[] }>(`/api/runs/${encodeURIComponent(id)}/tags`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tags }),
    }),
  jobs: () => call<{ jobs: JobRecord[] }>("/api/jobs"),
  job: (id: string) => call<JobRecord>(`/api/jobs/${encodeURIComponent(id)}`),
  submitJob: (body: object) =>
    call<JobRecord>("/api/jobs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  cancelJob: (id: string) =>
    call<JobRecord>(`/api/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" }),
  /** A run's file as JSON (landscape surfaces, spectra, tables). */
  json: <T>(runId: string, path: string) => call<T>(fileUrl(runId, path)),
};

export function fileUrl(runId: string, path: string): string {
  return `/api/runs/${encodeURIComponent(runId)}/files/${path.split("/").map(encodeURIComponent).join("/")}`;
}

export type LiveHandlers = {
  onMetrics(events: MetricEvent[]): void;
  onStatus?(status: { status?: string; reason?: string }): void;
  onReset?(): void;
  onEnd?(): void;
};

/** Follows a run's metrics.jsonl through the server's event stream; returns a function that stops it. */
export function followRun(runId: string, h: LiveHandlers): () => void {
  const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/events`);
  source.addEventListener("metrics", (e) =>
    h.onMetrics(JSON.parse((e as MessageEvent).data) as MetricEvent[]),
  );
  source.addEventListener("status", (e) => h.onStatus?.(JSON.parse((e as MessageEvent).data)));
  source.addEventListener("reset", () => h.onReset?.());
  source.addEventListener("end", () => {
    source.close();
    h.onEnd?.();
  });
  return () => source.close();
}
