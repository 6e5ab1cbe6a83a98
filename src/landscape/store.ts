/**
 * Landscape results live in the analysed run's folder: `landscape/<name>.json` (grids, coordinates,
 * numbers, with the provenance of every direction) for the lab to redraw, the directions
 * themselves as `landscape/<name>.directions.safetensors`, and figures as `figures/<name>.svg`.
 * Every write is atomic.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { encodeSafetensors } from "../engine/safetensors.js";
import { readJson, type Run } from "../runs/store.js";
import { UsageError } from "../errors.js";
import type { Layout, Vector } from "./vector.js";
import type { HostTensors } from "../engine/tree.js";
import { numpy as np } from "../engine/jax.js";

export const LANDSCAPE_FORMAT = "tiller-landscape-v1";

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

export function assertName(name: string): void {
  if (!SAFE_NAME.test(name) || name.includes(".."))
    throw new UsageError(`invalid result name "${name}" (letters, digits, ".", "_", "-" only)`);
}

export type LandscapeRecord = {
  format: typeof LANDSCAPE_FORMAT;
  kind: string;
  name: string;
  createdAt: string;
};

export function landscapePath(run: Run, name: string): string {
  assertName(name);
  return run.path("landscape", `${name}.json`);
}

/** Writes `landscape/<name>.json`; returns its path. */
export function writeLandscape<T extends object>(run: Run, name: string, kind: string, body: T): string {
  assertName(name);
  const record = { format: LANDSCAPE_FORMAT, kind, name, createdAt: new Date().toISOString(), ...body };
  return run.writeJson(`landscape/${name}.json`, record);
}

/** Reads a landscape result by path, or by name within a run. */
export function readLandscape<T>(pathOrName: string, run?: Run, kind?: string): LandscapeRecord & T {
  const byName = !existsSync(pathOrName) && run !== undefined;
  const path = byName ? landscapePath(run, pathOrName) : pathOrName;
  if (!existsSync(path)) throw new UsageError(`no landscape result at ${path}`);
  const record = (byName ? run.readJson(`landscape/${pathOrName}.json`) : readJson(path)) as LandscapeRecord &
    T;
  if (record.format !== LANDSCAPE_FORMAT) throw new UsageError(`${path} is not a Tiller landscape result`);
  if (kind && record.kind !== kind) throw new UsageError(`${path} holds a ${record.kind}, not a ${kind}`);
  return record;
}

/** Stores directions (float32) as `landscape/<name>.directions.safetensors`; returns the file name. */
export function writeDirections(run: Run, name: string, vectors: Vector[], layout: Layout): string {
  assertName(name);
  const tensors: HostTensors = Object.fromEntries(
    vectors.map((v, i) => [`d${i}`, { dtype: np.float32, shape: [layout.size], data: Float32Array.from(v) }]),
  );
  const file = `${name}.directions.safetensors`;
  run.writeFile(["landscape", file].join("/"), encodeSafetensors(tensors, { format: LANDSCAPE_FORMAT }));
  return join("landscape", file);
}

/** Writes `figures/<file>`; returns its path. */
export function writeFigure(run: Run, file: string, svg: string): string {
  return run.writeFile(`figures/${file}`, svg);
}
