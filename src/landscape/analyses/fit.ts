/** Gaussian fit: one of the landscape analyses (see ../analyses.ts). */
import { writeLandscape } from "../store.js";
import { contourPanel, panels } from "../figures.js";
import { describeFit, fitGaussian, gaussian, gridPoints } from "../gaussian-fit.js";
import { figure } from "./common.js";
import { loadPanel, type StoredSurface } from "./surface.js";

export async function runFit(
  o: StoredSurface & {
    offset?: "fit" | "max";
  },
) {
  const { run, surfaceName, panel } = loadPanel(o);
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
