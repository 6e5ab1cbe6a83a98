/**
 * An interactive 3-D surface (Plotly's WebGL surface trace, viridis) with optimiser paths drawn on
 * it. Drag to rotate and scroll to zoom; the buttons do the same from the keyboard.
 */
import { el } from "../dom.js";
import { SERIES_COLORS } from "../palette.js";
import { chartConfig } from "./vega.js";
import { wantsLog, type Grid, type PathSeries } from "./contour.js";

export type SurfacePath = PathSeries & { values: number[] };
type Eye = { x: number; y: number; z: number };

const START_EYE: Eye = { x: 1.55, y: -1.55, z: 1.05 };

export async function surface3d(
  container: HTMLElement,
  grid: Grid,
  o: {
    label: string;
    paths?: SurfacePath[];
    xTitle?: string;
    yTitle?: string;
    /** What the height shows ("loss" on a loss surface); "f" by default. */
    zTitle?: string;
    log?: boolean;
    height?: number;
  },
): Promise<{ dispose(): void }> {
  const { default: Plotly } = await import("plotly.js-gl3d-dist-min");
  const log = o.log ?? wantsLog(grid.values);
  const zName = o.zTitle ?? "f";
  const { z: lift } = surfaceHeights(grid, log);
  const zTitle = log ? `log₁₀(${zName} − min + ε)` : zName;
  const nx = grid.xs.length;
  const z = Array.from({ length: grid.ys.length }, (_, j) =>
    Array.from({ length: nx }, (_, i) => lift(grid.values[j * nx + i])),
  );
  const plot = el("div", { class: "surface3d", style: `height:${o.height ?? 440}px` });
  const controls = el("div", { class: "toolbar", role: "group", "aria-label": "3-D view controls" });
  container.append(plot, controls);
  container.setAttribute("aria-label", o.label);
  const traces: object[] = [
    {
      type: "surface",
      x: grid.xs,
      y: grid.ys,
      z,
      colorscale: "Viridis",
      showscale: true,
      colorbar: { title: { text: zTitle }, thickness: 12 },
      contours: { z: { show: true, usecolormap: true, project: { z: true } } },
      opacity: 0.95,
      name: "surface",
    },
    ...(o.paths ?? []).map((p, i) => ({
      type: "scatter3d",
      mode: "lines+markers",
      name: p.name,
      x: p.points.map((q) => q[0]),
      y: p.points.map((q) => q[1]),
      z: p.values.map(lift),
      line: { color: p.color ?? SERIES_COLORS[i % SERIES_COLORS.length], width: 5 },
      marker: { size: 2, color: p.color ?? SERIES_COLORS[i % SERIES_COLORS.length] },
    })),
  ];
  let eye: Eye = { ...START_EYE };
  const root = await Plotly.newPlot(
    plot,
    traces,
    {
      margin: { l: 0, r: 0, t: 10, b: 0 },
      scene: {
        xaxis: { title: { text: o.xTitle ?? "x" } },
        yaxis: { title: { text: o.yTitle ?? "y" } },
        zaxis: { title: { text: zTitle } },
        camera: { eye },
      },
      showlegend: (o.paths ?? []).length > 0,
      legend: { x: 0, y: 1 },
      paper_bgcolor: "rgba(0,0,0,0)",
      font: { color: chartConfig().title.color },
    },
    { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["toImage"] },
  );
  root.on("plotly_relayout", (e) => {
    const cam = e["scene.camera"] as { eye?: Eye } | undefined;
    if (cam?.eye) eye = { ...cam.eye };
  });
  const move = (f: (e: Eye) => Eye) => {
    eye = f(eye);
    void Plotly.relayout(plot, { "scene.camera.eye": eye });
  };
  const rotate = (deg: number) => (e: Eye) => {
    const a = (deg * Math.PI) / 180;
    return { x: e.x * Math.cos(a) - e.y * Math.sin(a), y: e.x * Math.sin(a) + e.y * Math.cos(a), z: e.z };
  };
  const zoom = (k: number) => (e: Eye) => ({ x: e.x * k, y: e.y * k, z: e.z * k });
  const tilt = (dz: number) => (e: Eye) => ({ ...e, z: Math.max(0.1, e.z + dz) });
  const button = (label: string, aria: string, action: () => void) => {
    const b = el("button", { type: "button", class: "secondary", "aria-label": aria }, label);
    b.addEventListener("click", action);
    controls.append(b);
  };
  button("⟲", "rotate left", () => move(rotate(-15)));
  button("⟳", "rotate right", () => move(rotate(15)));
  button("▲", "view from higher", () => move(tilt(0.25)));
  button("▼", "view from lower", () => move(tilt(-0.25)));
  button("+", "zoom in", () => move(zoom(0.85)));
  button("−", "zoom out", () => move(zoom(1 / 0.85)));
  button("Reset view", "reset the 3-D view", () => move(() => ({ ...START_EYE })));
  container.dataset.surface = `${grid.xs.length}x${grid.ys.length}`;
  return { dispose: () => Plotly.purge(plot) };
}

/**
 * The height of the 3-D surface for a value of f (and for a path's points): f itself, or
 * log₁₀(f − min + ε). A narrow valley sampled on a grid has points at all depths near its floor:
 * with a tiny ε the logarithm shoots down at each of them (the spikes along Rosenbrock's valley).
 * An ε of 1 % of the median height keeps the floor smooth and the rest of the surface as it was.
 */
export function surfaceHeights(grid: Grid, log: boolean): { z: (f: number) => number; eps: number } {
  const finite = Array.from(grid.values).filter(Number.isFinite);
  const min = Math.min(...finite);
  const heights = finite.map((v) => v - min).sort((a, b) => a - b);
  const eps = Math.max(1e-12, 0.01 * heights[Math.floor(heights.length / 2)]);
  const top = min + heights[heights.length - 1];
  const lift = (x: number) => {
    const v = Number.isFinite(x) ? x : top; // diverged points show at the top, as on the map
    return log ? Math.log10(Math.max(v - min, 0) + eps) : v;
  };
  return { z: lift, eps };
}
