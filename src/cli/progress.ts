/**
 * Progress for long work: a live bar (steps/s, loss, ETA) when stderr is a terminal, plain
 * periodic lines otherwise (CI logs, pipes), nothing with --quiet.
 */
import cliProgress from "cli-progress";

export type Progress = {
  start(total: number, label: string): void;
  update(done: number, fields: Record<string, string>): void;
  stop(summary?: string): void;
  log(line: string): void;
};

export function createProgress(opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet) return { start() {}, update() {}, stop() {}, log() {} };
  if (process.stderr.isTTY) return barProgress();
  return lineProgress();
}

function barProgress(): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: "{label} |{bar}| {value}/{total} steps · {rate} steps/s · loss {loss} · ETA {eta_formatted}",
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let t0 = 0;
  let active = false;
  return {
    start(total, label) {
      t0 = performance.now();
      bar.start(total, 0, { label, rate: "–", loss: "–" });
      active = true;
    },
    update(done, fields) {
      const rate = (done / ((performance.now() - t0) / 1000)).toFixed(1);
      bar.update(done, { ...fields, rate });
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

function lineProgress(): Progress {
  let total = 0;
  let label = "";
  let last = 0;
  let t0 = 0;
  return {
    start(t, l) {
      total = t;
      label = l;
      t0 = performance.now();
      last = t0;
    },
    update(done, fields) {
      const now = performance.now();
      if (now - last < 10_000 && done < total) return; // a line every 10 s is enough in a log
      last = now;
      const rate = done / ((now - t0) / 1000);
      const eta = (total - done) / Math.max(rate, 1e-9);
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k} ${v}`)
        .join(" · ");
      process.stderr.write(
        `${label} ${done}/${total} steps · ${rate.toFixed(1)} steps/s · ${extra} · ETA ${eta.toFixed(0)}s\n`,
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
