/**
 * Play, pause and step through the paths, as the TensorFlow Playground plays its training: the
 * paths are computed first (the table has their end points at once), then drawn up to a step
 * cursor. Play runs the cursor to the end in about 1.5 s whatever the number of steps; Step moves
 * it one optimiser step; Rewind takes it back to the start.
 */
import type { PathResult } from "../../../../landscape/paths.js";
import type { ContourChart } from "../../charts/contour.js";
import { el } from "../../dom.js";

export type DrawnPath = { name: string; result: PathResult; color: string };

const PLAY_MS = 1500;

export function createPlayer(o: {
  chart: () => ContourChart | undefined;
  plot: HTMLElement;
  status: HTMLElement;
  /** The line shown when the cursor reaches the end. */
  summary: () => string;
}) {
  let paths: DrawnPath[] = [];
  let t = 0;
  let total = 0;
  let playing = false;
  let token = 0; // a newer play, a pause or a step ends an older animation
  const play = el("button", { type: "button", id: "pg-play", class: "secondary", disabled: true }, "Pause");
  const step = el("button", { type: "button", id: "pg-step", class: "secondary", disabled: true }, "Step");
  const rewind = el(
    "button",
    { type: "button", id: "pg-rewind", class: "secondary", disabled: true },
    "Rewind",
  );

  const draw = async () => {
    await o
      .chart()
      ?.setPaths(
        paths.map((p) => ({ name: p.name, points: p.result.points.slice(0, t + 1), color: p.color })),
      );
    o.plot.dataset.step = String(t);
    const done = t >= total;
    o.plot.dataset.state = done ? "done" : playing ? "animating" : "paused";
    o.status.textContent = done ? o.summary() : `Step ${t} of ${total}${playing ? "…" : " (paused)"}`;
    play.textContent = playing ? "Pause" : done ? "Replay" : "Play";
    step.disabled = done;
  };
  const halt = () => {
    playing = false;
    token++;
  };
  const run = async () => {
    const mine = ++token;
    playing = true;
    const t0 = t;
    const start = performance.now();
    while (mine === token && t < total) {
      t = Math.min(total, Math.max(t + 1, t0 + Math.ceil(((performance.now() - start) / PLAY_MS) * total)));
      await draw();
      await new Promise((r) => requestAnimationFrame(r));
    }
    if (mine !== token) return;
    playing = false;
    await draw();
  };
  const pause = () => {
    halt();
    void draw();
  };
  play.addEventListener("click", () => {
    if (playing) return pause();
    if (t >= total) t = 0;
    void run();
  });
  step.addEventListener("click", () => {
    halt();
    t = Math.min(total, t + 1);
    void draw();
  });
  rewind.addEventListener("click", () => {
    halt();
    t = 0;
    void draw();
  });
  return {
    element: el(
      "div",
      { class: "toolbar", role: "group", "aria-label": "Play the paths" },
      play,
      step,
      rewind,
    ),
    /** New paths: draw them from the start. */
    load(next: DrawnPath[]) {
      paths = next;
      total = Math.max(0, ...next.map((p) => p.result.points.length - 1));
      t = 0;
      for (const b of [play, step, rewind]) b.disabled = false;
      void run();
    },
    stop: halt,
  };
}
