/**
 * Progress for long work: a live bar (steps/s, loss, ETA) when stderr is a terminal, plain
 * periodic lines otherwise (CI logs, pipes), nothing with --quiet.
 */
import cliProgress from "cli-progress";

export type Progress = {
  /** `unit` names what is counted ("steps" unless said; e.g. "β" for a β sweep). */
  start(total: number, label: string, unit?: string): void;
  update(done: number, fields: Record<string, string>): void;
  stop(summary?: string): void;
  log(line: string): void;
};

/** "12.5 steps/s", or "40 s/β" when one item takes longer than a second. */
export function rateText(done: number, seconds: number, unit = "steps"): string {
  if (done <= 0) return "–";
  const rate = done / seconds;
  if (rate >= 1) return `${rate.toFixed(1)} ${unit}/s`;
  return `${(seconds / done).toFixed(0)} s/${unit === "steps" ? "step" : unit}`;
}

export function createProgress(opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { start() {}, update() {}, stop() {}, log() {} };
  if (process.stderr.isTTY) return barProgress();
  return lineProgress();
}

function barProgress(): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: "{label} |{bar}| {value}/{total} {unit} · {rate} · {extra}ETA {eta_formatted}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let t0 = 0;
  let active = false;
  let unit = "steps";
  return {
    start(total, label, u = "steps") {
      t0 = performance.now();
      unit = u;
      bar.start(total, 0, { label, unit, rate: "–", extra: "" });
      active = true;
    },
    update(done, fields) {
      const rate = rateText(done, (performance.now() - t0) / 1000, unit);
      bar.update(done, { rate, extra: extraText(fields) });
    },
    stop(summary) {
      if (active) bar.stop();
      active = false;
      if (summary) process.stderr.write(summary + "\n");
    },
    log(line) {
      if (active) bar.stop();
      active = false;
      process.stderr.write(line + "\n");
    },
  };
}

/** "loss 0.41 · beta 0.9 · " (each field and a separator), or "" without fields. */
function extraText(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${v} · `)
    .join("");
}

function lineProgress(): Progress {
  let total = 0;
  let label = "";
  let unit = "steps";
  let last = 0;
  let t0 = 0;
  return {
    start(t, l, u = "steps") {
      total = t;
      label = l;
      unit = u;
      t0 = performance.now();
      last = t0;
    },
    update(done, fields) {
      const now = performance.now();
      if (now - last < 10_000 && done < total) return; // a line every 10 s is enough in a log
      last = now;
      const seconds = (now - t0) / 1000;
      const eta = done > 0 ? ((total - done) * seconds) / done : 0;
      process.stderr.write(
        `${label} ${done}/${total} ${unit} · ${rateText(done, seconds, unit)} · ${extraText(fields)}ETA ${eta.toFixed(0)}s\n`,
      );
    },
    stop(summary) {
      if (summary) process.stderr.write(summary + "\n");
    },
    log(line) {
      process.stderr.write(line + "\n");
    },
  };
}

/**
 * The progress fields for an analysis's detail: the bar and the log line label the loss
 * themselves, so a detail "loss 0.6269" fills the field as "0.6269" (not "loss loss 0.6269").
 */
export function lossField(detail?: string): { loss: string } {
  return { loss: (detail ?? "–").replace(/^loss\s+/, "") };
}
