/** Gaussian fit: one of the landscape analyses (see ../analyses.ts). */
import { UsageError } from "../../errors.js";
import { writeLandscape } from "../store.js";
import { contourPanel, panels } from "../figures.js";
import { describeFit, fitGaussian, gaussian, gridPoints } from "../gaussian-fit.js";
import { figure } from "./common.js";
import { loadSurface } from "./surface.js";

export async function runFit(o: {
  surface: string;
  runsRoot?: string;
  surfaceName?: string;
  panel?: number;
  offset?: "fit" | "max";
  name?: string;
}) {
  const { run, name: surfaceName, record } = loadSurface(o.surface, o.runsRoot, o.surfaceName);
  const panel = record.panels[o.panel ?? 0];
  if (!panel) throw new UsageError(`surface ${surfaceName} has no panel ${o.panel}`);
  const fit = fitGaussian(gridPoints(panel.grid), { offset: o.offset ?? "max" });
  const name = o.name ?? `${surfaceName}-fit`;
  const fitted = panel.grid.y.map((y) => panel.grid.x.map((x) => gaussian(fit.params, x, y)));
  const all = [...panel.grid.loss.flat(), ...fitted.flat()];
  const domain: [number, number] = [Math.min(...all), Math.max(...all)];
  const files = [
    writeLandscape(run, name, "fit", {
      surface: surfaceName,
      panel: o.panel ?? 0,
      ...fit,
      printed: describeFit(fit),
    }),
    await figure(
      run,
      `${name}.svg`,
      panels(`Gaussian fit of ${surfaceName}`, [
        contourPanel(panel.grid, { title: "loss surface (data)", domain }),
        contourPanel({ ...panel.grid, loss: fitted }, { title: "fitted Gaussian", domain }),
        contourPanel(
          { ...panel.grid, loss: panel.grid.loss.map((r, j) => r.map((v, i) => v - fitted[j][i])) },
          { title: "residual (data − fit)", colorTitle: "residual" },
        ),
      ]),
    ),
  ];
  return { fit, printed: describeFit(fit), files, run, name, grid: panel.grid };
}
