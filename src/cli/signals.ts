/**
 * Ctrl-C stops training at the next step boundary, marks the run interrupted and keeps the last
 * checkpoint, so `--resume` continues it; a second Ctrl-C exits at once.
 */
export function interruptSignal(onFirst: () => void): AbortSignal {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    onFirst();
    controller.abort();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return controller.signal;
}
