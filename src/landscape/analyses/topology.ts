/** Topology: one of the landscape analyses (see ../analyses.ts). */
import { writeLandscape } from "../store.js";
import { persistenceFigure } from "../figures.js";
import { bottleneckDistance, persistence, summarize } from "../topology.js";
import { figure } from "./common.js";
import { loadPanel, loadSurface, type StoredSurface } from "./surface.js";

export async function runTopology(
  o: StoredSurface & {
    threshold?: number;
    normalize?: boolean;
    compare?: string;
    compareName?: string;
  },
) {
  const { run, surfaceName, panel } = loadPanel(o);
  // As the book, on the loss normalised to [0, 1] so thresholds and distances compare across surfaces.
  const prepare = (z: number[][]) => {
    if (o.normalize === false) return z;
    const flat = z.flat();
    const lo = Math.min(...flat);
    const span = Math.max(...flat) - lo || 1;
    return z.map((r) => r.map((v) => (v - lo) / span));
  };
  const p = persistence(prepare(panel.grid.loss));
  const summary = summarize(p, o.threshold ?? 0.01);
  let bottleneck: { other: string; h0: number; h1: number } | undefined;
  if (o.compare) {
    const other = loadSurface(o.compare, o.runsRoot, o.compareName);
    const q = persistence(prepare(other.record.panels[0].grid.loss));
    const dims = (x: typeof p, d: 0 | 1) => [
      ...x.pairs.filter((e) => e.dimension === d),
      ...(d === 0 ? [x.essential] : []),
    ];
    bottleneck = {
      other: `${other.run.id}/${other.name}`,
      h0: bottleneckDistance(dims(p, 0), dims(q, 0)),
      h1: bottleneckDistance(dims(p, 1), dims(q, 1)),
    };
  }
  const at = (ij: [number, number]) => ({ x: panel.grid.x[ij[1]], y: panel.grid.y[ij[0]] });
  const name = o.name ?? `${surfaceName}-topology`;
  const files = [
    writeLandscape(run, name, "topology", {
      surface: surfaceName,
      normalized: o.normalize !== false,
      pairs: p.pairs.map((q) => ({ ...q, ...at(q.at) })),
      essential: { ...p.essential, death: null, ...at(p.essential.at) },
      summary: {
        ...summary,
        significantMinima: summary.significantMinima.map((m) => ({
          ...m,
          ...at(m.at),
          persistence: Number.isFinite(m.persistence) ? m.persistence : null,
        })),
      },
      ...(bottleneck ? { bottleneck } : {}),
    }),
    await figure(run, `${name}.svg`, persistenceFigure(p.pairs, `Persistence diagram of ${surfaceName}`)),
  ];
  return { summary, bottleneck, files, locate: at };
}
