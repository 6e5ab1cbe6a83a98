/** Wavelets: one of the landscape analyses (see ../analyses.ts). */
import { writeLandscape } from "../store.js";
import { panels, heatmapPanel, barChart } from "../figures.js";
import { detailMagnitude, roughness, toRows, wavedec2, type WaveletName } from "../wavelets.js";
import { figure } from "./common.js";
import { loadPanel, type StoredSurface } from "./surface.js";

export async function runWavelets(
  o: StoredSurface & {
    wavelet?: WaveletName;
    levels?: number;
  },
) {
  const { run, surfaceName, panel } = loadPanel(o);
  const wavelet = o.wavelet ?? "haar";
  const dec = wavedec2(panel.grid.loss, wavelet, o.levels ?? 2);
  const step = panel.grid.x.length > 1 ? panel.grid.x[1] - panel.grid.x[0] : 1;
  const rough = roughness(dec, step);
  const name = o.name ?? `${surfaceName}-wavelets-${wavelet}`;
  const files = [
    writeLandscape(run, name, "wavelets", {
      surface: surfaceName,
      wavelet,
      levels: dec.details.length,
      approximation: toRows(dec.approximation),
      details: dec.details.map((d, i) => ({
        level: dec.details.length - i,
        H: toRows(d.H),
        V: toRows(d.V),
        D: toRows(d.D),
      })),
      roughness: rough,
    }),
    await figure(
      run,
      `${name}.svg`,
      panels(`Multi-scale analysis of ${surfaceName} (${wavelet})`, [
        heatmapPanel(toRows(dec.approximation), "approximation", "coefficient"),
        ...dec.details.map((d, i) =>
          heatmapPanel(toRows(detailMagnitude(d)), `detail level ${dec.details.length - i}`, "√(H²+V²+D²)"),
        ),
      ]),
    ),
    await figure(
      run,
      `${name}-roughness.svg`,
      barChart(
        rough.map((r) => ({ label: `${r.level} (${r.scale.toPrecision(2)})`, value: r.rms })),
        `Roughness per scale of ${surfaceName}`,
        "RMS of detail coefficients",
      ),
    ),
  ];
  return { roughness: rough, files };
}
