/**
 * A local sweep worker: a child process that takes runs from its parent over IPC, one at a time,
 * with its share of the cores (TILLER_THREADS, set by the parent before the engine starts).
 *
 * Messages in: { type: "run", job, runsRoot } and { type: "stop" } (interrupt the current run:
 * it is marked interrupted and resumes from its checkpoint next time). Messages out: "ready",
 * "started" and "finished" with the run's outcome.
 */
import { shutdownWorkers } from "../engine/jax.js";
import { executeRun, type RunJob } from "./execute.js";

type ParentMessage = { type: "run"; job: RunJob; runsRoot: string } | { type: "stop" };

const controller = new AbortController();
let busy = Promise.resolve();

async function exit(code: number): Promise<never> {
  await busy;
  await shutdownWorkers();
  process.exit(code);
}

// The terminal's Ctrl-C reaches the whole process group: the parent decides what it means.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => {
  controller.abort();
  void exit(143);
});
process.on("disconnect", () => {
  controller.abort(); // the parent is gone: stop cleanly (the run stays resumable)
  void exit(0);
});
process.on("message", (message: ParentMessage) => {
  if (message.type === "stop") {
    controller.abort();
    void exit(0);
    return;
  }
  const { job, runsRoot } = message;
  busy = busy.then(async () => {
    process.send?.({ type: "started", id: job.id, pid: process.pid });
    const outcome = await executeRun(job, runsRoot, controller.signal);
    process.send?.({ type: "finished", outcome });
  });
});
process.send?.({ type: "ready", pid: process.pid });
